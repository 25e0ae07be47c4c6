"""Mirror Sinkhorn: single-loop mirror descent on the transport polytope for a convex
objective `F(P)`, alternating the KL mirror step with one Sinkhorn scaling.

Iteration `t` (from `P_0 = a b^T`): `Q = P_t * exp(-eta_t G_t)`, with `G_t = grad F(P_t)`
(by JAX) or a stochastic estimate of it (the online variant: noisy costs, sampled
measures); then `P_{t+1}` is `Q` with its rows scaled to `a` (even `t`) or its columns
scaled to `b` (odd `t`). The output is the average of the iterates weighted by the steps,
`sum_t eta_t P_t / sum_t eta_t`. With a constant step `eta / sqrt(T)` for a horizon of `T`
iterations, both the objective gap and the marginal error of the average decay as
`T^(-1/2)`; the plan can be rounded onto the polytope (Altschuler, Weed & Rigollet 2017)
at a cost of the same order.

The iterates live in log domain, so steps of any size stay finite.

Reference: Ballu & Berthet, "Mirror Sinkhorn: fast online optimization on transport
polytopes", ICML 2023.
"""

from __future__ import annotations

from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, Int, PRNGKeyArray

from sciopt.validate import array, one_of, positive_int, prng_key, real, require

from ._sinkhorn import dense_balanced

SCHEDULES = ("horizon", "decreasing")


def linear_objective(plan: Float[Array, "n m"], cost: Float[Array, "n m"]) -> Float[Array, ""]:
    """`<C, P>`: the linear OT objective (`MirrorSinkhorn`'s default).

    **Arguments:** `plan`, `cost`: `[n, m]` arrays of the same shape, finite.

    **Returns:** the scalar `sum(plan * cost)`.
    """
    plan = array("plan", plan, ndim=2, traced=False)
    return _linear(plan, array("cost", cost, shape=plan.shape, traced=False))


def _linear(plan, cost):
    return jnp.sum(plan * cost)


def round_to_polytope(plan: Float[Array, "n m"], a: Float[Array, " n"], b: Float[Array, " m"]
                      ) -> Float[Array, "n m"]:
    """The rounding of Altschuler, Weed & Rigollet (2017): scale rows and columns down to at
    most `a` and `b`, then add the rank-one correction `(a - P 1)(b - P^T 1)^T / |a - P 1|_1`.
    The result meets both marginals exactly and differs from `plan` by at most twice its
    L1 marginal error.

    **Arguments:** `plan` `[n, m]` non-negative; `a` `[n]`, `b` `[m]` of equal mass.

    **Returns:** the rounded plan `[n, m]`.
    """
    plan = array("plan", plan, ndim=2)
    plan = require(plan, jnp.all(plan >= 0), "plan must be non-negative")
    a = array("a", a, shape=(plan.shape[0],))
    b = array("b", b, shape=(plan.shape[1],))
    a = require(a, (jnp.all(a >= 0) & jnp.all(b >= 0)
                    & (jnp.abs(jnp.sum(a) - jnp.sum(b)) <= 1e-6 * jnp.sum(a))
                    & (jnp.sum(a) > 0)),
                "a and b must be non-negative weights of equal positive mass")
    return _round(plan, a, b)


def _round(plan, a, b):
    tiny = jnp.finfo(plan.dtype).tiny
    plan = plan * jnp.minimum(a / jnp.maximum(plan.sum(1), tiny), 1.0)[:, None]
    plan = plan * jnp.minimum(b / jnp.maximum(plan.sum(0), tiny), 1.0)[None, :]
    ea, eb = a - plan.sum(1), b - plan.sum(0)
    return plan + jnp.outer(ea, eb) / jnp.maximum(jnp.sum(ea), tiny)


class DensePlanOutput(eqx.Module):
    """What the dense-plan OT solvers' outputs share: `plan` `[n, m]` and `problem`, with
    `matrix`, `marginals`, `marginal_error` and `transport_cost`."""

    plan: eqx.AbstractVar[Float[Array, "n m"]]
    problem: eqx.AbstractVar[eqx.Module]

    @property
    def matrix(self) -> Float[Array, "n m"]:
        return self.plan

    @property
    def marginals(self) -> tuple[Float[Array, " n"], Float[Array, " m"]]:
        """`(P 1, P^T 1)` of the returned plan."""
        return self.plan.sum(1), self.plan.sum(0)

    @property
    def marginal_error(self) -> Float[Array, ""]:
        """`|P 1 - a|_1 + |P^T 1 - b|_1` of the returned plan."""
        return _marginal_error(self.plan, self.problem.a, self.problem.b)

    @property
    def transport_cost(self) -> Float[Array, ""]:
        """`<C, P>` of the returned plan."""
        return jnp.sum(self.plan * self.problem.geom.cost_matrix())


class MirrorSinkhornOutput(DensePlanOutput):
    """The result of `solve_ot(problem, MirrorSinkhorn(...))`.

    **Fields:**

    - `plan` `[n, m]`: the step-weighted average of the iterates (the method's output).
    - `last` `[n, m]`: the last iterate.
    - `objectives`, `errors` `[iterations]`: `F` and the L1 marginal error (both marginals)
      of the running average after each iteration.
    - `iterations`, `problem`.

    Properties: `matrix` (= `plan`), `marginals`, `marginal_error`, `rounded` (the plan
    rounded onto the transport polytope), `transport_cost` (`<C, P>` of the plan).
    """

    plan: Float[Array, "n m"]
    last: Float[Array, "n m"]
    objectives: Float[Array, " iterations"]
    errors: Float[Array, " iterations"]
    iterations: Int[Array, ""]
    problem: eqx.Module

    @property
    def rounded(self) -> Float[Array, "n m"]:
        """The averaged plan rounded onto the transport polytope (`round_to_polytope`)."""
        return _round(self.plan, self.problem.a, self.problem.b)


def _marginal_error(plan, a, b):
    return jnp.sum(jnp.abs(plan.sum(1) - a)) + jnp.sum(jnp.abs(plan.sum(0) - b))


class MirrorSinkhorn(eqx.Module):
    """Mirror Sinkhorn (Ballu & Berthet, "Mirror Sinkhorn: fast online optimization on
    transport polytopes", ICML 2023): minimises a convex `F(P)` over the plans with
    marginals `a`, `b`, for `flows.solve_ot`.

    **Arguments:**

    - `iterations`: the number of mirror steps `T` (each one exponentiated-gradient step and
      one row or column scaling).
    - `step_size`: `eta` (> 0). With `schedule="horizon"` (default) every step is
      `eta / sqrt(T)`, the choice of the paper's rate `T^(-1/2)`; with `"decreasing"` step
      `t` is `eta / sqrt(t + 1)` (an anytime schedule). Gradients of order one (a cost
      scaled to [0, 1]) work well with `eta` about 10.
    - `objective`: `F(plan, cost) -> scalar`, convex in `plan` (default `<C, P>`, linear
      OT, as `flows.linear_objective`); its gradient comes from JAX.
    - `gradient`: optional stochastic gradient oracle `gradient(plan, cost, key) -> [n, m]`
      used instead of `grad F` (the online setting: noisy costs, sampled measures); it
      needs `key`.
    - `key`: the PRNG key for `gradient`.

    `step_size` is an array leaf (no recompilation; `vmap` over it works); `iterations` and
    the schedule fix the loop, so they are static. The plan is dense (`geom.cost_matrix()`),
    the problem balanced.
    """

    iterations: int = eqx.field(static=True)
    step_size: Float[Array, ""]
    schedule: str = eqx.field(static=True)
    objective: Callable = eqx.field(static=True)
    gradient: Callable | None = eqx.field(static=True)
    key: PRNGKeyArray | None

    def __init__(self, iterations: int, step_size: float = 10.0, *,
                 schedule: str = "horizon", objective: Callable | None = None,
                 gradient: Callable | None = None, key: PRNGKeyArray | None = None):
        self.iterations = positive_int("iterations", iterations)
        self.step_size = real("step_size", step_size)
        self.schedule = one_of("schedule", schedule, SCHEDULES)
        objective = _linear if objective is None else objective
        for name, fn in (("objective", objective), ("gradient", gradient)):
            if fn is not None and not callable(fn):
                raise ValueError(f"{name} must be a function; got {type(fn).__name__}")
        if gradient is not None and key is None:
            raise ValueError("a stochastic gradient oracle needs key= (a PRNG key)")
        self.objective, self.gradient = objective, gradient
        self.key = None if key is None else prng_key("key", key)

    def solve(self, problem) -> MirrorSinkhornOutput:
        """Run the `iterations` steps on `problem` (what `solve_ot(problem, self)`
        returns)."""
        cost, a, b = dense_balanced(problem, "MirrorSinkhorn")
        dtype = cost.dtype
        log_a, log_b = jnp.log(a), jnp.log(b)
        total = self.iterations
        eta = self.step_size.astype(dtype)

        def gradient(plan, key):
            if self.gradient is None:
                return jax.grad(self.objective)(plan, cost)
            g = jnp.asarray(self.gradient(plan, cost, key), dtype)
            if g.shape != plan.shape:
                raise ValueError(f"gradient must return an array of the plan's shape "
                                 f"{plan.shape}; got {g.shape}")
            return g

        def step(carry, t):
            log_plan, total_plan, weight, key = carry
            key, sub = (None, None) if key is None else jax.random.split(key)
            size = (eta / jnp.sqrt(jnp.asarray(total, dtype)) if self.schedule == "horizon"
                    else eta / jnp.sqrt(t + 1.0))
            log_q = log_plan - size * gradient(jnp.exp(log_plan), sub)
            rows = log_q + (log_a - jax.nn.logsumexp(log_q, axis=1))[:, None]
            cols = log_q + (log_b - jax.nn.logsumexp(log_q, axis=0))[None, :]
            log_plan = jnp.where(t % 2 == 0, rows, cols)
            total_plan = total_plan + size * jnp.exp(log_plan)
            weight = weight + size
            average = total_plan / weight
            value = jnp.asarray(self.objective(average, cost), dtype)
            return ((log_plan, total_plan, weight, key),
                    (value, _marginal_error(average, a, b)))

        log_plan = log_a[:, None] + log_b[None, :]
        start = (log_plan, jnp.zeros_like(cost), jnp.zeros((), dtype), self.key)
        (log_plan, total_plan, weight, _), (objectives, errors) = jax.lax.scan(
            step, start, jnp.arange(total))
        plan = require(total_plan / weight, jnp.all(jnp.isfinite(objectives)),
                       "MirrorSinkhorn: the objective became NaN or Inf (check objective / "
                       "gradient and the step size)")
        return MirrorSinkhornOutput(plan=plan, last=jnp.exp(log_plan), objectives=objectives,
                                    errors=errors, iterations=jnp.asarray(total),
                                    problem=problem)
