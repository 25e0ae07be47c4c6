"""Entropic optimal transport by log-domain Sinkhorn iterations: epsilon scaling, momentum
(over-relaxation), balanced and unbalanced (KL-relaxed) marginals, a stopping rule on the
marginal error with its history, and implicit differentiation at convergence.

The problem, with a cost `C`, weights `a`, `b` and `eps > 0`:

    min_P <C, P> + eps KL(P | a b^T) + rho_a KL(P 1 | a) + rho_b KL(P^T 1 | b),

(`rho = inf`, i.e. `tau = rho / (rho + eps) = 1`, is the balanced problem). Its dual
potentials `f`, `g` give the plan `P_ij = a_i b_j exp((f_i + g_j - C_ij) / eps)` and are the
fixed point of the Sinkhorn updates

    f_i = -tau_a eps log sum_j b_j exp((g_j - C_ij) / eps),
    g_j = -tau_b eps log sum_i a_i exp((f_i - C_ij) / eps).

References: Cuturi, "Sinkhorn distances" (NeurIPS 2013); Schmitzer, "Stabilized sparse
scaling algorithms for entropy regularized transport problems" (SIAM J. Sci. Comput. 2019;
log domain and epsilon scaling); Chizat, Peyré, Schmitzer & Vialard, "Scaling algorithms for
unbalanced optimal transport problems" (Math. Comp. 2018); Thibault, Chizat, Dossal &
Papadakis, "Overrelaxed Sinkhorn–Knopp algorithm" (Algorithms 2021); Luise, Rudi, Pontil &
Ciliberto, "Differential properties of Sinkhorn approximation" (NeurIPS 2018) and Cuturi et
al., "Optimal transport tools (OTT)" (2022) for implicit differentiation.
"""

from __future__ import annotations

import math
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import lineax as lx
from jaxtyping import Array, Bool, Float, Int

from sciopt.validate import (
    array,
    is_concrete,
    one_of,
    positive_float,
    positive_int,
    protocol,
    real,
    require,
)

from ._geometry import AbstractGeometry, PointCloud


def _rho(name: str, value) -> float:
    """A marginal penalty: positive, `inf` meaning a fixed marginal."""
    value = float(value)
    if math.isinf(value) and value > 0:
        return value
    return positive_float(name, value)


def _tau(rho: float, eps: float) -> float:
    return 1.0 if math.isinf(rho) else rho / (rho + eps)


class LinearProblem(eqx.Module):
    """An entropic OT problem: a geometry, its two weight vectors and the marginal relaxation.

    **Arguments:**

    - `geom`: a `Geometry` (dense cost) or `PointCloud`.
    - `a`: `[n]` non-negative source weights (default uniform `1/n`); `b`: `[m]` target
      weights (default uniform `1/m`).
    - `rho_a`, `rho_b`: KL penalties on the two marginals (`inf`, the default, fixes the
      marginal: the balanced problem, where `a` and `b` must have the same mass).

    Negative or non-finite weights, balanced weights of different mass and non-finite points
    raise `ValueError` (inside a caller's `jit`, the same message from the compiled program,
    through `sciopt.validate.require`).
    """

    geom: AbstractGeometry
    a: Float[Array, " n"]
    b: Float[Array, " m"]
    rho_a: float = eqx.field(static=True)
    rho_b: float = eqx.field(static=True)

    def __init__(self, geom: AbstractGeometry, a: Float[Array, " n"] | None = None,
                 b: Float[Array, " m"] | None = None, *, rho_a: float = math.inf,
                 rho_b: float = math.inf):
        if not isinstance(geom, AbstractGeometry):
            raise ValueError(f"geom must be a flows.Geometry or flows.PointCloud; got "
                             f"{type(geom).__name__}")
        n, m = geom.shape
        dtype = (geom.cost if hasattr(geom, "cost") else geom.x).dtype
        a = jnp.full(n, 1.0 / n, dtype) if a is None else array("a", a, finite=False
                                                                  ).astype(dtype)
        b = jnp.full(m, 1.0 / m, dtype) if b is None else array("b", b, finite=False
                                                                  ).astype(dtype)
        for name, w, size in (("a", a, n), ("b", b, m)):
            if w.shape != (size,):
                raise ValueError(f"{name} must have shape ({size},) to match the geometry; "
                                 f"got {w.shape}")
        self.rho_a, self.rho_b = _rho("rho_a", rho_a), _rho("rho_b", rho_b)
        checks = []
        with jax.ensure_compile_time_eval():  # concrete inputs raise at once, even in a jit
            for name, w in (("a", a), ("b", b)):
                checks.append((jnp.all(jnp.isfinite(w)) & jnp.all(w >= 0),
                               f"weights {name} must be finite and non-negative"))
                checks.append((jnp.sum(w) > 0, f"weights {name} must have positive mass"))
            if self.balanced:
                ma, mb = jnp.sum(a), jnp.sum(b)
                shown = (f"sum(a) = {float(ma):.8g} and sum(b) = {float(mb):.8g}"
                         if is_concrete(ma, mb) else "weights of other masses")
                checks.append((jnp.abs(ma - mb) <= 1e-6 * jnp.maximum(ma, mb),
                               f"a balanced problem needs weights of equal mass; got {shown} "
                               f"(normalise them, or relax a marginal with rho_a / rho_b)"))
            checks.append((geom.finite_points(), "the geometry's points contain NaN or Inf, "
                           "or its cost matrix NaN or -Inf"))
        for ok, message in checks:
            a = require(a, ok, message)
        self.geom, self.a, self.b = geom, a, b

    @property
    def balanced(self) -> bool:
        return math.isinf(self.rho_a) and math.isinf(self.rho_b)


def dense_balanced(problem: LinearProblem, solver: str):
    """`(cost [n, m], a, b)` of a balanced `problem`, weights in the cost's dtype: the start of
    every solver that works on the dense plan; `solver` names it in the error."""
    if not problem.balanced:
        raise ValueError(f"{solver} solves balanced problems; got finite rho_a = "
                         f"{problem.rho_a} / rho_b = {problem.rho_b}")
    cost = problem.geom.cost_matrix()
    return cost, problem.a.astype(cost.dtype), problem.b.astype(cost.dtype)


class Sinkhorn(eqx.Module):
    """Log-domain Sinkhorn with epsilon scaling and momentum.

    **Arguments:**

    - `epsilon`: the target entropic regularisation (> 0, in cost units).
    - `threshold`: stop when the L1 marginal error is at most this (default 1e-3).
    - `max_iterations`: the iteration cap (default 2000); `min_iterations` (default 0).
    - `epsilon_init`, `epsilon_decay`: epsilon scaling; iteration k uses
      `max(epsilon, epsilon_init * epsilon_decay^k)` (default: no scaling).
    - `momentum`: over-relaxation factor `omega` in `(0, 2)`: `f <- (1 - omega) f + omega
      F(g)` (1 is plain Sinkhorn; 1.3 to 1.8 speeds up small epsilon), or `"auto"`: plain
      iterations until `momentum_start` iterations past the end of epsilon scaling, then
      `omega = 2 / (1 + sqrt(1 - r))` from the observed contraction rate `r` of the
      marginal error over the last 10 iterations (the optimal factor for a linear rate
      `r`; Thibault et al. 2021), capped at 1.9. The default is `"auto"`: at epsilon = 0.01
      on 40 x 30 points it needs 172 iterations where plain Sinkhorn needs 1664.
    - `implicit_diff`: differentiate the converged potentials by the implicit function
      theorem (default; one GMRES solve per backward pass) instead of unrolling. Unrolling
      runs all `max_iterations` (frozen after convergence) so reverse mode can trace them.
    - `throw`: raise (through `eqx.error_if`) when not converged, instead of reporting
      `converged = False`.

    `epsilon`, `threshold`, `epsilon_init`, `epsilon_decay` and a numeric `momentum` are
    array leaves: a new value does not recompile, and `solve_ot` can be `vmap`ped and
    differentiated over them (the gradient in `epsilon` by the implicit function theorem).
    The iteration counts and the flags fix loop lengths and branches, so they are static.

    References: see the module docstring.
    """

    epsilon: Float[Array, ""]
    threshold: Float[Array, ""]
    max_iterations: int = eqx.field(static=True)
    min_iterations: int = eqx.field(static=True)
    epsilon_init: Float[Array, ""] | None
    epsilon_decay: Float[Array, ""]
    momentum: Float[Array, ""] | None  # None: adaptive ("auto")
    momentum_start: int = eqx.field(static=True)
    implicit_diff: bool = eqx.field(static=True)
    throw: bool = eqx.field(static=True)

    def __init__(self, epsilon: float, threshold: float = 1e-3, max_iterations: int = 2000,
                 min_iterations: int = 0, epsilon_init: float | None = None,
                 epsilon_decay: float = 0.9, momentum: float | str = "auto",
                 momentum_start: int = 20, implicit_diff: bool = True, throw: bool = False):
        self.epsilon = real("epsilon", epsilon)
        self.threshold = real("threshold", threshold)
        self.max_iterations = positive_int("max_iterations", max_iterations)
        self.min_iterations = positive_int("min_iterations", min_iterations, allow_zero=True)
        self.epsilon_init = None if epsilon_init is None else real("epsilon_init",
                                                                   epsilon_init)
        self.epsilon_decay = real("epsilon_decay", epsilon_decay, high=1.0)
        if isinstance(momentum, str):
            one_of("momentum", momentum, ("auto",))
            self.momentum = None
        else:
            self.momentum = real("momentum (over-relaxation)", momentum, high=2.0)
        self.momentum_start = positive_int("momentum_start", momentum_start)
        self.implicit_diff = bool(implicit_diff)
        self.throw = bool(throw)

    def solve(self, problem: LinearProblem) -> SinkhornOutput:
        """The entropic OT of `problem` (what `solve_ot(problem, self)` returns)."""
        return _solve_sinkhorn(problem, self)

    def scaling_iterations(self) -> Int[Array, ""]:
        """Iterations until epsilon scaling reaches the target epsilon."""
        if self.epsilon_init is None:
            return jnp.asarray(0)
        k = jnp.ceil(jnp.log(self.epsilon / self.epsilon_init) / jnp.log(self.epsilon_decay))
        return jnp.where(self.epsilon_init > self.epsilon, k, 0).astype(int)

    def epsilon_at(self, k):
        """The epsilon of iteration `k` (traced)."""
        if self.epsilon_init is None:
            return self.epsilon
        return jnp.maximum(self.epsilon, self.epsilon_init * self.epsilon_decay ** k)


class SinkhornOutput(eqx.Module):
    """The result of `solve_ot`.

    **Fields:**

    - `f`, `g`: the dual potentials `[n]`, `[m]`.
    - `errors`: the L1 marginal error after every iteration (`[max_iterations]`, `-1` after
      the last one run).
    - `iterations`, `converged`: iterations run; whether the error reached the threshold
      at the target epsilon.
    - `problem`, `epsilon`.

    Properties and methods give the regularised cost, the transport cost, plan-vector
    products, marginals, the dense plan (small problems only) and the entropic map.
    """

    f: Float[Array, " n"]
    g: Float[Array, " m"]
    errors: Float[Array, " iterations"]
    iterations: Int[Array, ""]
    converged: Bool[Array, ""]
    problem: LinearProblem
    epsilon: Float[Array, ""]

    def _log_weights(self):
        p = self.problem
        return (self.f / self.epsilon + jnp.log(p.a), self.g / self.epsilon + jnp.log(p.b))

    def apply(self, v: Float[Array, "m ..."], *, transpose: bool = False
              ) -> Float[Array, "n ..."]:
        """`P v` (or `P^T v` with `transpose`) without forming the plan."""
        size = self.problem.geom.shape[0 if transpose else 1]
        v = array("v", v, ndim=(1, 2), traced=False)
        if v.shape[0] != size:
            what = "rows" if transpose else "columns"
            raise ValueError(f"v must have {size} rows (one per {what} of the plan); got "
                             f"shape {v.shape}")
        alpha, beta = self._log_weights()
        return self.problem.geom.plan_apply(alpha, beta, self.epsilon, v, transpose=transpose)

    @property
    def marginals(self) -> tuple[Float[Array, " n"], Float[Array, " m"]]:
        """`(P 1, P^T 1)`."""
        n, m = self.problem.geom.shape
        return (self.apply(jnp.ones(m, self.f.dtype)),
                self.apply(jnp.ones(n, self.f.dtype), transpose=True))

    @property
    def matrix(self) -> Float[Array, "n m"]:
        """The dense plan (n x m memory: small problems only)."""
        alpha, beta = self._log_weights()
        cost = self.problem.geom.cost_matrix()
        return jnp.exp(alpha[:, None] + beta[None, :] - cost / self.epsilon)

    @property
    def transport_cost(self) -> Float[Array, ""]:
        """`<C, P>`, streamed."""
        alpha, beta = self._log_weights()
        m = self.problem.geom.shape[1]
        return jnp.sum(self.problem.geom.plan_apply(alpha, beta, self.epsilon,
                                                    jnp.ones(m, self.f.dtype),
                                                    times_cost=True))

    @property
    def reg_ot_cost(self) -> Float[Array, ""]:
        """The regularised OT cost, through the dual objective
        `-rho_a <a, e^{-f/rho_a} - 1> - rho_b <b, e^{-g/rho_b} - 1> - eps <P - a b^T, 1>`
        (`<a, f> + <b, g>` in the balanced case)."""
        p, eps = self.problem, self.epsilon

        def part(w, h, rho):
            return jnp.dot(w, h) if math.isinf(rho) else -rho * jnp.dot(w, jnp.expm1(-h / rho))

        mass = jnp.sum(self.marginals[0])
        return (part(p.a, self.f, p.rho_a) + part(p.b, self.g, p.rho_b)
                - eps * (mass - jnp.sum(p.a) * jnp.sum(p.b)))

    def to_target(self, z: Float[Array, "k d"] | None = None) -> Float[Array, "k d"]:
        """The entropic map (barycentric projection) `T(x) = sum_j P(y_j | x) y_j` at the
        source points (default) or at new points `z` (point clouds only; the out-of-sample
        potential `f(z) = -eps log sum_j b_j exp((g_j - c(z, y_j)) / eps)` normalises it).

        Reference: Pooladian & Niles-Weed, "Entropic estimation of optimal transport maps"
        (2021)."""
        geom = self.problem.geom
        if not isinstance(geom, PointCloud):
            raise ValueError("to_target needs a PointCloud geometry (it maps points)")
        beta = self._log_weights()[1]
        z = geom.x if z is None else array("z", z, traced=False).astype(geom.x.dtype)
        if z.ndim != 2 or z.shape[1] != geom.x.shape[1]:
            raise ValueError(f"points must be [k, {geom.x.shape[1]}]; got shape {z.shape}")
        alpha = -geom.lse_points(z, beta, self.epsilon)  # normalises each row to mass 1
        return geom.apply_points(z, alpha, beta, self.epsilon, geom.y)


# ---------------------------------------------------------------------------------------
# iterations


def _updates(geom, a, b):
    """The balanced half-steps `F(g)_i = -eps log sum_j b_j exp((g_j - C_ij) / eps)` and
    `G(f)_j` (the unbalanced ones multiply them by tau)."""
    log_a, log_b = jnp.log(a), jnp.log(b)

    def f_bal(g, e):
        return -e * geom.lse_rows(g / e + log_b, e)

    def g_bal(f, e):
        return -e * geom.lse_cols(f / e + log_a, e)

    return f_bal, g_bal


def _marginal_error(f, f_bal, a, eps, rho_a):
    """L1 distance of a plan's marginal from its fixed-point target: with potentials
    `(f, g)` and `f_bal = F(g)` the balanced update, the row sums are `a exp((f - F(g)) /
    eps)` and the target is `a exp(-f / rho_a)` (`a` when balanced). The same with the roles
    of `(f, a)` and `(g, b)` swapped gives the column error."""
    rows = a * jnp.exp((f - f_bal) / eps)
    target = a if math.isinf(rho_a) else a * jnp.exp(-f / rho_a)
    return jnp.sum(jnp.abs(rows - target))


def _iterate(problem: LinearProblem, solver: Sinkhorn, *, unrolled: bool):
    """Run the iterations; return `(f, g, errors, iterations, converged)`.

    The reported error is that of the plan the potentials returned define, both marginals
    (the larger L1 error), not an estimate: iteration k computes `G(f_k)`, which with the
    row update `F(g_k)` of iteration k - 1 gives both marginal errors of `(f_k, g_k)`
    exactly, for no extra pass over the points. The loop stops on that error and returns
    that iterate, so "converged" holds for the plan a user gets (with momentum, the
    over-relaxed half-steps leave neither marginal exact, and a half-step estimate can
    pass while the returned plan does not)."""
    geom, a, b = problem.geom, problem.a, problem.b
    n, m = geom.shape
    dtype = a.dtype
    auto = solver.momentum is None
    start = solver.scaling_iterations() + solver.momentum_start
    window = 10
    f_bal, g_bal = _updates(geom, a, b)
    # the error's own round-off (a sum of n terms) must not decide convergence
    slack = 4 * jnp.finfo(dtype).eps * (jnp.sum(a) + jnp.sum(b))
    last = solver.max_iterations

    def body(state):
        f, g, k, errors, _, omega, row_err, _, half = state
        eps = solver.epsilon_at(k).astype(dtype)
        gb = g_bal(f, eps)
        # the exact error of (f_k, g_k): columns from G(f_k), rows carried from k - 1
        err = jnp.maximum(row_err, _marginal_error(g, gb, b, eps, problem.rho_b))
        at_target = solver.epsilon_at(jnp.maximum(k - 1, 0)) <= solver.epsilon * (1 + 1e-12)
        done = (k >= 1) & (err <= solver.threshold - slack) & at_target & (
            k >= solver.min_iterations)
        errors = jnp.where(k >= 1, errors.at[jnp.maximum(k - 1, 0)].set(err), errors)
        g_next = (1 - omega) * g + omega * _tau(problem.rho_b, eps) * gb
        fb = f_bal(g_next, eps)
        f_next = (1 - omega) * f + omega * _tau(problem.rho_a, eps) * fb
        row_next = _marginal_error(f_next, fb, a, eps, problem.rho_a)
        # the half-step error (rows of (f_k, g_{k+1})): it contracts at Sinkhorn's linear
        # rate, so it is the one momentum estimates that rate from
        half_err = _marginal_error(f, fb, a, eps, problem.rho_a)
        half = half.at[k].set(half_err)
        new_omega = omega
        if auto:  # one estimate of the linear rate, then the optimal over-relaxation
            prev = jax.lax.stop_gradient(half[jnp.maximum(k - window, 0)])
            ratio = jnp.where(prev > 0, jax.lax.stop_gradient(half_err) / jnp.where(
                prev > 0, prev, 1.0), 1.0)
            rate = jnp.clip(ratio, 0.0, 1.0) ** (1 / window)
            rate = jnp.minimum(rate, 0.99)
            best = jnp.clip(2 / (1 + jnp.sqrt(1 - rate)), 1.0, 1.9)
            new_omega = jnp.where(k == start, best.astype(dtype), omega)
        stop = done | (k >= last)  # at k = last the iterate is checked, not moved
        kept = (f, g, k, errors, done, omega, row_err, stop, state[8])
        moved = (f_next, g_next, k + 1, errors, done, new_omega, row_next, stop, half)
        return jax.tree.map(lambda x, y: jnp.where(stop, x, y), kept, moved)

    init = (jnp.zeros(n, dtype), jnp.zeros(m, dtype), jnp.asarray(0),
            -jnp.ones(solver.max_iterations, dtype), jnp.asarray(False),
            jnp.asarray(1.0 if auto else solver.momentum).astype(dtype),
            jnp.asarray(jnp.inf, dtype), jnp.asarray(False),
            -jnp.ones(solver.max_iterations + 1, dtype))
    if unrolled:
        def step(state, _):
            new = body(state)
            frozen = state[7]
            return jax.tree.map(lambda o, s: jnp.where(frozen, o, s), state, new), None

        f, g, k, errors, done, *_ = jax.lax.scan(step, init, None, length=last + 1)[0]
    else:
        f, g, k, errors, done, *_ = jax.lax.while_loop(lambda s: ~s[7], body, init)
    return f, g, errors, k, done


# ---------------------------------------------------------------------------------------
# implicit differentiation


def _residual(fg, problem: LinearProblem, eps: float):
    """The fixed-point residual `(f - F(g), g - G(f))` at the target epsilon."""
    f, g = fg
    f_bal, g_bal = _updates(problem.geom, problem.a, problem.b)
    return (f - _tau(problem.rho_a, eps) * f_bal(g, eps),
            g - _tau(problem.rho_b, eps) * g_bal(f, eps))


@eqx.filter_custom_vjp
def _implicit(inputs):
    return _iterate(*inputs, unrolled=False)


@_implicit.def_fwd
def _implicit_fwd(perturbed, inputs):
    del perturbed
    out = _iterate(*inputs, unrolled=False)
    return out, (out[0], out[1])


@_implicit.def_bwd
def _implicit_bwd(residuals, grad_obj, perturbed, inputs):
    """The implicit function theorem at the fixed point: for the residual R(f, g; theta)
    at the target epsilon, `theta_bar = -(dR/dtheta)^T lam` with
    `(dR/d(f, g))^T lam = (f_bar, g_bar)`; theta is the problem's arrays and epsilon (the
    other solver settings do not move the fixed point)."""
    del perturbed
    problem, solver = inputs
    f, g = residuals
    f_bar, g_bar = grad_obj[0], grad_obj[1]
    f_bar = jnp.zeros_like(f) if f_bar is None else f_bar
    g_bar = jnp.zeros_like(g) if g_bar is None else g_bar
    eps = solver.epsilon
    if problem.balanced:  # the potentials are defined up to (f + c, g - c): drop that part
        shift = (jnp.sum(f_bar) - jnp.sum(g_bar)) / (f.size + g.size)
        f_bar, g_bar = f_bar - shift, g_bar + shift
    _, vjp_fg = jax.vjp(lambda fg: _residual(fg, problem, eps), (f, g))
    operator = lx.FunctionLinearOperator(lambda lam: vjp_fg(lam)[0],
                                         jax.eval_shape(lambda: (f, g)))
    solve = lx.linear_solve(operator, (f_bar, g_bar),
                            lx.GMRES(rtol=1e-10, atol=1e-12, restart=50,
                                     max_steps=20 * (f.size + g.size)),
                            throw=False)
    lam = solve.value
    params, static = eqx.partition((problem, eps), eqx.is_inexact_array)
    _, vjp_theta = jax.vjp(lambda p: _residual((f, g), *eqx.combine(p, static)), params)
    ((grad_problem, grad_eps),) = vjp_theta(jax.tree.map(jnp.negative, lam))
    grad_solver = jax.tree.map(lambda x: jnp.zeros_like(x) if eqx.is_inexact_array(x)
                               else None, solver)
    grad_solver = eqx.tree_at(lambda s: s.epsilon, grad_solver, grad_eps)
    return grad_problem, grad_solver


def solve_ot(problem: LinearProblem, solver: Any) -> Any:
    """Solve the OT `problem` with `solver`.

    **Arguments:**

    - `problem`: a `LinearProblem`.
    - `solver`: any OT solver object, i.e. one with `solve(problem) -> output`: `Sinkhorn`
      (entropic OT) or one of your own.

    **Returns:**

    The solver's output: a `SinkhornOutput` for `Sinkhorn`, differentiable with respect to
    the points, the cost matrix and the weights (implicitly at convergence by default; see
    `Sinkhorn.implicit_diff`).
    """
    if not isinstance(problem, LinearProblem):
        raise ValueError(f"problem must be a flows.LinearProblem; got "
                         f"{type(problem).__name__}")
    protocol("solver", solver, ("solve",), "an OT solver (e.g. flows.Sinkhorn)")
    return solver.solve(problem)


def _solve_sinkhorn(problem: LinearProblem, solver: Sinkhorn) -> SinkhornOutput:
    if solver.implicit_diff:
        f, g, errors, k, done = _implicit((problem, solver))
    else:
        f, g, errors, k, done = _iterate(problem, solver, unrolled=True)
    if solver.throw:
        f = eqx.error_if(f, ~done, f"Sinkhorn did not reach its marginal error threshold "
                                   f"in {solver.max_iterations} iterations; raise "
                                   f"max_iterations, use epsilon scaling or momentum, or "
                                   f"increase epsilon")
    return SinkhornOutput(f, g, errors, k, done, problem, solver.epsilon)


def sinkhorn_divergence(geom_xy: PointCloud, a=None, b=None, *, solver: Sinkhorn
                        ) -> Float[Array, ""]:
    """The debiased Sinkhorn divergence `OT_eps(a, b) - (OT_eps(a, a) + OT_eps(b, b)) / 2`
    between two point clouds (balanced), which is non-negative, zero iff the measures agree,
    and metrises weak convergence.

    Reference: Feydy, Séjourné, Vialard, Amari, Trouvé & Peyré, "Interpolating between
    optimal transport and MMD using Sinkhorn divergences" (AISTATS 2019).
    """
    if not isinstance(geom_xy, PointCloud):
        raise ValueError("sinkhorn_divergence takes a PointCloud geometry")
    kw = {"cost_fn": geom_xy.cost_fn, "block_size": geom_xy.block_size, "mesh": geom_xy.mesh}
    xy = LinearProblem(geom_xy, a, b)
    xx = LinearProblem(PointCloud(geom_xy.x, geom_xy.x, **kw), xy.a, xy.a)
    yy = LinearProblem(PointCloud(geom_xy.y, geom_xy.y, **kw), xy.b, xy.b)
    cost = [solve_ot(p, solver).reg_ot_cost for p in (xy, xx, yy)]
    return cost[0] - 0.5 * (cost[1] + cost[2])
