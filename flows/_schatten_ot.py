"""Schatten-p regularised optimal transport: `min_P <C, P> + lam ||L(P)||_{S_p}` over the
plans with marginals `a`, `b`, for an affine image `L` of the plan, solved by mirror descent
in the KL geometry with Sinkhorn projections.

The images `L(P)`:

- `"plan"`: the plan itself (`[n, m]`): a low-rank plan (few "modes" of transport);
- `"displacement"`: the barycentric displacement `diag(1/a) P Y - X` (`[n, d]`): the
  direction each source point moves in, so a low Schatten-1 norm asks for displacements in
  a low-dimensional subspace;
- `"cross_covariance"`: `sum_ij P_ij (x_i - xbar)(y_j - ybar)^T` (`[d, d]`).

`||A||_{S_p} = (sum_i sigma_i(A)^p)^(1/p)`: p = 1 the nuclear norm (promotes low rank),
p = 2 the Frobenius norm (shrinks every direction alike), p = inf the spectral norm
(shrinks the largest direction). Each iteration takes the subgradient
`C + lam L*(U diag(w) V^T)` (the Schatten norm's subgradient through the SVD, pulled back
by JAX's vector-Jacobian product of `L`), the KL mirror step
`Q = P * exp(-eta_t G / |G|_inf)` with `eta_t = eta / sqrt(t + 1)`, and projects `Q` back
onto the plans by Sinkhorn scalings (to `inner_threshold`). Every iterate is feasible; the
one with the lowest objective is returned.

Reference: Maunu, "Simplifying optimal transport through Schatten-p regularization".
"""

from __future__ import annotations

import math

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, Int

from sciopt.validate import array, one_of, positive_int, protocol, real

from ._mirror_sinkhorn import DensePlanOutput
from ._sinkhorn import dense_balanced

TARGETS = ("plan", "displacement", "cross_covariance")


def _p_value(p) -> float:
    if isinstance(p, bool) or not isinstance(p, int | float):
        raise ValueError(f"p must be a number >= 1 or float('inf'); got {p!r}")
    p = float(p)
    if not p >= 1:  # NaN fails too
        raise ValueError(f"p must be >= 1 (a Schatten norm); got {p}")
    return p


def schatten_norm(matrix: Float[Array, "r c"], p: float) -> Float[Array, ""]:
    """`||matrix||_{S_p} = (sum_i sigma_i^p)^(1/p)` of the singular values (`p = inf`: the
    largest).

    **Arguments:** `matrix` a finite 2-D array; `p >= 1` (a float, or `float("inf")`).

    **Returns:** the norm, a scalar.
    """
    return _norm(array("matrix", matrix, ndim=2), _p_value(p))


def _norm(matrix, p):
    sigma = jnp.linalg.svd(matrix, compute_uv=False)
    if math.isinf(p):
        return jnp.max(sigma)
    top = jnp.max(sigma)
    safe = jnp.where(top > 0, top, 1.0)
    return top * jnp.sum((sigma / safe) ** p) ** (1 / p)


def _subgradient(matrix, p):
    """A subgradient of `||.||_{S_p}` at `matrix`: `U diag(w) V^T`."""
    u, sigma, vt = jnp.linalg.svd(matrix, full_matrices=False)
    top = jnp.max(sigma)
    scaled = sigma / jnp.where(top > 0, top, 1.0)
    if math.isinf(p):
        w = (jnp.arange(sigma.shape[0]) == 0).astype(sigma.dtype)
    elif p == 1:
        w = (scaled > 1e-12).astype(sigma.dtype)
    else:
        powers = scaled ** (p - 1)
        w = powers / jnp.sum(scaled**p) ** ((p - 1) / p)
    return (u * w) @ vt


class SchattenOTOutput(DensePlanOutput):
    """The result of `solve_ot(problem, SchattenOT(...))`.

    **Fields:** `plan` `[n, m]` (the iterate of lowest objective), `image` (`L(plan)`),
    `singular_values` (of `image`, largest first), `objectives` `[iterations]` (the
    objective of each iterate), `errors` `[iterations]` (the L1 marginal error of each
    iterate after its projection), `best` (the index of `plan` among the iterates),
    `problem`.
    """

    plan: Float[Array, "n m"]
    image: Float[Array, "r c"]
    singular_values: Float[Array, " s"]
    objectives: Float[Array, " iterations"]
    errors: Float[Array, " iterations"]
    best: Int[Array, ""]
    problem: eqx.Module


class SchattenOT(eqx.Module):
    """Schatten-p regularised OT (Maunu, "Simplifying optimal transport through Schatten-p
    regularization"), for `flows.solve_ot`.

    **Arguments:**

    - `p`: the Schatten exponent, `>= 1` (`float("inf")` for the spectral norm).
    - `lam`: the weight of the Schatten norm (`>= 0`; 0 is unregularised OT).
    - `target`: the image `L(P)` that is regularised: `"plan"`, `"displacement"` (the
      barycentric displacement; needs a geometry with points, e.g. `PointCloud`) or
      `"cross_covariance"` (needs points too).
    - `iterations`: mirror-descent steps (default 300); `step_size`: `eta` of
      `eta / sqrt(t + 1)`, relative to the largest entry of the subgradient (default 30:
      the first step moves log-plan entries by up to 30).
    - `inner_iterations`, `inner_threshold`: the Sinkhorn scalings of each projection (at
      most this many, until the L1 marginal error is at most the threshold; defaults
      1000 and 1e-6). `errors` reports what each projection reached.

    `lam`, `step_size` and `inner_threshold` are array leaves; `p`, the target and the
    iteration counts fix the program, so they are static. The plan is dense.
    """

    p: float = eqx.field(static=True)
    lam: Float[Array, ""]
    target: str = eqx.field(static=True)
    iterations: int = eqx.field(static=True)
    step_size: Float[Array, ""]
    inner_iterations: int = eqx.field(static=True)
    inner_threshold: Float[Array, ""]

    def __init__(self, p: float, lam: float, *, target: str = "displacement",
                 iterations: int = 300, step_size: float = 30.0,
                 inner_iterations: int = 1000, inner_threshold: float = 1e-6):
        self.p = _p_value(p)
        self.lam = real("lam", lam, low_inclusive=True)
        self.target = one_of("target", target, TARGETS)
        self.iterations = positive_int("iterations", iterations)
        self.step_size = real("step_size", step_size)
        self.inner_iterations = positive_int("inner_iterations", inner_iterations)
        self.inner_threshold = real("inner_threshold", inner_threshold)

    def image(self, plan: Float[Array, "n m"], problem) -> Float[Array, "r c"]:
        """`L(plan)` for `problem` (the matrix whose Schatten norm is penalised).

        **Arguments:** `plan` `[n, m]` (finite), `problem` a `LinearProblem` of that shape.

        **Returns:** `plan` itself, the barycentric displacement `[n, d]` or the
        cross-covariance `[d, d]`, by `target`.
        """
        protocol("problem", problem, ("geom", "a", "b"), "a flows.LinearProblem")
        plan = array("plan", plan, shape=problem.geom.shape)
        return self._image(plan, problem)

    def _image(self, plan, problem):
        if self.target == "plan":
            return plan
        geom = protocol("problem.geom", problem.geom, ("x", "y"),
                        f"a geometry with points (flows.PointCloud) for target="
                        f"{self.target!r}")
        x, y = geom.x.astype(plan.dtype), geom.y.astype(plan.dtype)
        if self.target == "displacement":
            return (plan @ y) / problem.a.astype(plan.dtype)[:, None] - x
        xc = x - problem.a.astype(plan.dtype) @ x
        yc = y - problem.b.astype(plan.dtype) @ y
        return xc.T @ plan @ yc

    def solve(self, problem) -> SchattenOTOutput:
        """Mirror descent with Sinkhorn projections on `problem` (what
        `solve_ot(problem, self)` returns)."""
        cost, a, b = dense_balanced(problem, "SchattenOT")
        dtype = cost.dtype
        log_a, log_b = jnp.log(a), jnp.log(b)
        lam, eta = self.lam.astype(dtype), self.step_size.astype(dtype)
        tol = self.inner_threshold.astype(dtype)
        image = lambda plan: self._image(plan, problem)  # noqa: E731
        self._image(jnp.zeros_like(cost), problem)  # a geometry without points fails here

        def objective(plan):
            return jnp.sum(plan * cost) + lam * _norm(image(plan), self.p)

        def subgradient(plan):
            _, pullback = jax.vjp(image, plan)
            return cost + lam * pullback(_subgradient(image(plan), self.p))[0]

        def error(log_plan):
            plan = jnp.exp(log_plan)
            return jnp.sum(jnp.abs(plan.sum(1) - a)) + jnp.sum(jnp.abs(plan.sum(0) - b))

        def project(log_q):
            def cond(carry):
                _, k, err = carry
                return (k < self.inner_iterations) & (err > tol)

            def body(carry):
                log_p, k, _ = carry
                log_p = log_p + (log_a - jax.nn.logsumexp(log_p, axis=1))[:, None]
                log_p = log_p + (log_b - jax.nn.logsumexp(log_p, axis=0))[None, :]
                return log_p, k + 1, error(log_p)

            log_p, _, err = jax.lax.while_loop(cond, body, (log_q, 0, error(log_q)))
            return log_p, err

        def step(carry, t):
            log_plan, best_plan, best_value, best_index = carry
            g = subgradient(jnp.exp(log_plan))
            size = eta / jnp.sqrt(t + 1.0) / jnp.maximum(jnp.max(jnp.abs(g)),
                                                         jnp.finfo(dtype).tiny)
            log_plan, err = project(log_plan - size * g)
            plan = jnp.exp(log_plan)
            value = objective(plan)
            better = value < best_value
            carry = (log_plan, jnp.where(better, plan, best_plan),
                     jnp.where(better, value, best_value), jnp.where(better, t, best_index))
            return carry, (value, err)

        log_plan = log_a[:, None] + log_b[None, :]
        start = (log_plan, jnp.exp(log_plan), jnp.asarray(jnp.inf, dtype), jnp.asarray(0))
        (_, plan, _, best), (objectives, errors) = jax.lax.scan(
            step, start, jnp.arange(self.iterations))
        fitted = image(plan)
        return SchattenOTOutput(plan=plan, image=fitted,
                                singular_values=jnp.linalg.svd(fitted, compute_uv=False),
                                objectives=objectives, errors=errors, best=best,
                                problem=problem)
