"""Second-order finite differences for `-div(a grad u) - k2 u = f` on a rectangle with
Dirichlet data, solved matrix-free with lineax (Jacobi-preconditioned CG when the operator is
positive definite, GMRES otherwise)."""

from __future__ import annotations

import math
from typing import Literal

import jax
import jax.numpy as jnp
import lineax as lx
from jaxtyping import Array, Float

from ..validate import array, is_concrete, one_of, positive_float, positive_int, real


def _faces(a: Float[Array, "nx ny"], axis: int) -> Float[Array, "..."]:
    """Harmonic means of neighbouring nodal coefficients along `axis` (the face values that
    keep fluxes continuous across jumps in `a`)."""
    lo = jax.lax.slice_in_dim(a, 0, a.shape[axis] - 1, axis=axis)
    hi = jax.lax.slice_in_dim(a, 1, a.shape[axis], axis=axis)
    return 2 * lo * hi / (lo + hi)


def _apply(u: Float[Array, "nx ny"], ax, ay, hx: float, hy: float, k2: float) -> Array:
    """`-div(a grad u) - k2 u` at interior nodes of the full nodal field `u`."""
    fx = ax * jnp.diff(u, axis=0) / hx  # fluxes on x-faces: [nx - 1, ny]
    fy = ay * jnp.diff(u, axis=1) / hy
    div = jnp.diff(fx, axis=0)[:, 1:-1] / hx + jnp.diff(fy, axis=1)[1:-1, :] / hy
    return -div - k2 * u[1:-1, 1:-1]


def solve_elliptic_2d(
    source: Float[Array, "nx ny"],
    *,
    lengths: tuple[float, float],
    coefficient: Float[Array, "nx ny"] | None = None,
    boundary: Float[Array, "nx ny"] | None = None,
    k2: float = 0.0,
    method: Literal["auto", "cg", "gmres", "lu"] = "auto",
    rtol: float = 1e-11,
    max_steps: int = 100_000,
) -> Float[Array, "nx ny"]:
    """Solve `-div(a grad u) - k2 u = f` on `[0, Lx] x [0, Ly]` with `u = g` on the boundary.

    Nodes `x_i = i Lx / (nx - 1)`, `y_j = j Ly / (ny - 1)`; the standard 5-point scheme with
    harmonic face averages of `a` (second order for smooth `a`). The boundary values are moved
    to the right-hand side and the interior system is solved matrix-free.

    **Arguments:**

    - `source`: `f` at the nodes (boundary entries are ignored).
    - `lengths`: `(Lx, Ly)`.
    - `coefficient`: `a > 0` at the nodes (default 1).
    - `boundary`: a nodal field whose boundary entries are `g` (default 0).
    - `k2`: the Helmholtz shift; above the smallest eigenvalue of `-div(a grad)` the
      operator is indefinite.
    - `method`: `"cg"` (Jacobi-preconditioned; positive definite operators only), `"gmres"`,
      `"lu"` (dense, small grids only), or `"auto"`: CG when `k2` is safely below
      `pi^2 (1/Lx^2 + 1/Ly^2) min(a)` (a lower bound of that eigenvalue), GMRES otherwise.
    - `rtol`: relative tolerance of the iterative solvers.

    **Returns:**

    The nodal solution `[nx, ny]`, boundary included.
    """
    one_of("method", method, ("auto", "cg", "gmres", "lu"))
    source = array("source", source, traced=False)
    if source.ndim != 2 or min(source.shape) < 3:
        raise ValueError(f"source must be a nodal field [nx, ny] with nx, ny >= 3; got shape "
                         f"{source.shape}")
    lx_, ly_ = (positive_float("lengths[0]", lengths[0]), positive_float("lengths[1]",
                                                                          lengths[1]))
    k2 = float(real("k2", k2, low=None)) if is_concrete(k2) else k2
    rtol = positive_float("rtol", rtol)
    max_steps = positive_int("max_steps", max_steps)
    nx, ny = source.shape
    hx, hy = lx_ / (nx - 1), ly_ / (ny - 1)
    a = jnp.ones_like(source) if coefficient is None else array(
        "coefficient", coefficient, traced=False).astype(source.dtype)
    if a.shape != source.shape:
        raise ValueError(f"coefficient must have the shape of source {source.shape}; got "
                         f"{a.shape}")
    if not isinstance(a, jax.core.Tracer) and not bool(jnp.all(a > 0)):  # noqa: SIM102
        raise ValueError("the coefficient a must be positive everywhere")
    # min(a): known without looking at `a` when it defaults to 1; unknown (0) when traced.
    if coefficient is None:
        a_min = 1.0
    else:
        a_min = 0.0 if isinstance(a, jax.core.Tracer) else float(jnp.min(a))
    bound = math.pi**2 * (1 / lx_**2 + 1 / ly_**2) * a_min
    definite = k2 <= 0.9 * bound
    if method == "auto":
        method = "cg" if definite else "gmres"
    if method == "cg" and not definite:
        raise ValueError(f"k2 = {k2} may make the operator indefinite (its smallest eigenvalue "
                         f"is about {bound:.4g}); CG needs it positive definite: use "
                         f"method='gmres' or 'lu'")
    g = jnp.zeros_like(source) if boundary is None else array(
        "boundary", boundary, shape=source.shape, traced=False).astype(source.dtype)
    g = g.at[1:-1, 1:-1].set(0.0)
    ax, ay = _faces(a, 0), _faces(a, 1)

    def interior(v):
        return jnp.zeros_like(source).at[1:-1, 1:-1].set(v)

    rhs = source[1:-1, 1:-1] - _apply(g, ax, ay, hx, hy, k2)
    structure = jax.ShapeDtypeStruct(rhs.shape, rhs.dtype)
    tags = (lx.symmetric_tag, lx.positive_semidefinite_tag) if method == "cg" else (
        lx.symmetric_tag,)
    op = lx.FunctionLinearOperator(lambda v: _apply(interior(v), ax, ay, hx, hy, k2),
                                   structure, tags=tags)
    if method == "lu":
        value = lx.linear_solve(lx.materialise(op), rhs, lx.LU()).value
        return interior(value) + g
    if method == "gmres":
        # Restarted GMRES stagnates below ~1e-9 relative on these systems in float64.
        solver = lx.GMRES(rtol=max(rtol, 1e-9), atol=max(rtol, 1e-9), max_steps=max_steps,
                          restart=100, stagnation_iters=100)
        options = {}
    else:
        diag = ((ax[1:, 1:-1] + ax[:-1, 1:-1]) / hx**2 + (ay[1:-1, 1:] + ay[1:-1, :-1]) / hy**2
                - k2)
        # The preconditioner changes the iterations, not the solution: no derivative flows
        # through it.
        diag = jax.lax.stop_gradient(diag)
        jacobi = lx.FunctionLinearOperator(lambda v: v / diag, structure, tags=tags)
        # stabilise_every=None: with lineax's periodic residual recomputation the loop was
        # seen running to max_steps with a 1e-15 residual on boundary-dominated systems.
        solver = lx.CG(rtol=rtol, atol=rtol, max_steps=max_steps, stabilise_every=None)
        options = {"preconditioner": jacobi}

    def iterative(matvec, b):
        # lineax's stopping rule is elementwise, |r_i| <= atol + rtol |b_i|: on a right-hand
        # side with many zeros (an adjoint's point-observation cotangent) atol = 0 would stop
        # at once. Solve with b scaled to unit max-norm and atol = rtol instead.
        scale = jnp.max(jnp.abs(b))
        safe = jnp.where(scale > 0, scale, 1.0)
        operator = lx.FunctionLinearOperator(matvec, structure, tags=tags)
        return lx.linear_solve(operator, b / safe, solver, options=options).value * safe

    # Implicit differentiation: the tangent / adjoint systems are solved with the same
    # operator (symmetric), so memory does not grow with the iterations.
    value = jax.lax.custom_linear_solve(
        lambda v: _apply(interior(v), ax, ay, hx, hy, k2), rhs, iterative, symmetric=True)
    return interior(value) + g
