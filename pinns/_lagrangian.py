"""Lagrangian PINNs: the solution followed along its characteristics.

Reference: Mojgani, Balajewicz & Hassanzadeh, "Lagrangian PINNs: A causality-conforming
solution to failure modes of physics-informed neural networks", CMAME 404 (2023),
arXiv:2205.02902.

For `u_t + v u_x = nu u_xx` with `v = c` (advection) or `v = u` (viscous Burgers), the
characteristic through the label `xi` is `x(xi, t)` with `x_t = v`, `x(xi, 0) = xi`, and along
it `u(xi, t)` obeys `u_t = nu u_xx` (no advection term left). A PINN with two branches, one
for the characteristic map and one for the state, then never has to learn the transport that
defeats the Eulerian PINN: with `nu = 0` the state branch is just the initial condition.
Spatial derivatives come from the chain rule, `u_x = u_xi / x_xi`; the Eulerian field is
recovered by inverting `x(., t)` (safeguarded Newton on a bracket that the periodicity
provides).
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, PRNGKeyArray

from sciopt import problems
from sciopt.optim import Residuals, SumOfSquares
from sciopt.validate import positive_int, prng_key, protocol

from ._model import PINN


def _characteristics(problem: problems.AbstractProblem) -> problems.Characteristics:
    protocol("problem", problem, ("characteristics",), "a problem (sciopt.problems.get)")
    c = problem.characteristics()
    if c is None:
        raise ValueError(f"{type(problem).__name__} has no Lagrangian (characteristic) form; "
                         f"a Lagrangian PINN supports advection1d (x_t = c) and "
                         f"burgers1d_periodic (x_t = u)")
    return c


class LagrangianPINN(eqx.Module):
    """A Lagrangian PINN on a periodic interval `[lo, lo + period)` (Mojgani et al., 2023).

    Two branches of the label `xi` and time `t`, each a `PINN` with an exact periodic
    embedding in `xi`: the characteristic map `x(xi, t) = xi + scale * d(xi, t)` and the
    state `u(xi, t)` carried along it. Calling the model at an Eulerian point `(x, t)`
    finds the label whose characteristic passes through `x` at time `t` and returns the
    state there, so every tool written for `PINN` (errors, plots) applies.

    **Arguments:**

    - `period`, `lo`: the interval.
    - `scale`: the displacement scale (a typical speed times the horizon), so that the
      displacement branch works with values of order one.
    - `width`, `depth`, `activation`, `periodic_modes`: of both branches (see `PINN`).
    - `key`: PRNG key.
    """

    displacement: PINN
    state: PINN
    period: float = eqx.field(static=True)
    lo: float = eqx.field(static=True)
    scale: float = eqx.field(static=True)

    def default_loss(self, problem, **options):
        """The loss `train_pinn` uses for this model: `lpinn_loss(problem, **options)`."""
        if "mesh" in options:
            raise ValueError("mesh= shards the collocation points of a PINN; the "
                             "Lagrangian PINN's loss does not take a mesh yet")
        return lpinn_loss(problem, **options)

    def __init__(self, period: float, *, lo: float = 0.0, scale: float = 1.0,
                 width: int = 64, depth: int = 4, activation: str = "tanh",
                 periodic_modes: int = 4, key: PRNGKeyArray):
        prng_key("key", key)
        if not period > 0 or not scale > 0:
            raise ValueError(f"period and scale must be positive; got {period}, {scale}")
        k_x, k_u = jax.random.split(key)
        options = dict(width=width, depth=depth, activation=activation,
                       periodic={0: float(period)}, periodic_modes=periodic_modes)
        self.displacement = PINN(2, **options, key=k_x)
        self.state = PINN(2, **options, key=k_u)
        self.period, self.lo, self.scale = float(period), float(lo), float(scale)

    def position(self, xi: Float[Array, ""], t: Float[Array, ""]) -> Float[Array, ""]:
        """The characteristic map `x(xi, t)` (not wrapped into the interval)."""
        return xi + self.scale * self.displacement(jnp.stack([xi, t]))

    def value(self, xi: Float[Array, ""], t: Float[Array, ""]) -> Float[Array, ""]:
        """The state `u(xi, t)` on the characteristic of label `xi`."""
        return self.state(jnp.stack([xi, t]))

    def label(self, x: Float[Array, ""], t: Float[Array, ""], *, iterations: int = 50
              ) -> Float[Array, ""]:
        """The label `xi` with `x(xi, t) = x` modulo the period.

        `F(xi) = x(xi, t) - x` satisfies `F(xi + L) = F(xi) + L`, so one evaluation gives a
        bracket of width `L`; Newton steps that leave the bracket (or meet a non-increasing
        map, where characteristics would cross) fall back to bisection.
        """
        L = self.period

        def F(xi):
            return self.position(xi, t) - x

        a = x - self.scale * self.displacement(jnp.stack([x, t]))
        hi = a - jnp.floor(F(a) / L) * L  # F(hi) in [0, L)
        lo = hi - L

        def body(_, carry):
            lo, hi, xi = carry
            f, df = jax.jvp(F, (xi,), (jnp.ones_like(xi),))
            lo = jnp.where(f < 0, xi, lo)
            hi = jnp.where(f >= 0, xi, hi)
            newton = xi - f / jnp.where(df > 0, df, 1.0)
            inside = (df > 0) & (newton > lo) & (newton < hi)
            return lo, hi, jnp.where(inside, newton, 0.5 * (lo + hi))

        _, _, xi = jax.lax.fori_loop(0, iterations, body, (lo, hi, 0.5 * (lo + hi)))
        return xi

    def __call__(self, z: Float[Array, " 2"]) -> Float[Array, ""]:
        """The Eulerian field `u(x, t)` at `z = (x, t)`."""
        z = jnp.asarray(z)
        if z.shape != (2,):
            raise ValueError(f"LagrangianPINN takes inputs (x, t) of shape (2,); got {z.shape}")
        return self.value(self.label(z[0], z[1]), z[1])


def lpinn_for(problem: problems.AbstractProblem, *, width: int = 64, depth: int = 4,
              activation: str = "tanh", periodic_modes: int = 4,
              key: PRNGKeyArray) -> LagrangianPINN:
    """A `LagrangianPINN` on the problem's interval with the displacement scaled by the
    problem's speed times its horizon (advection1d, burgers1d_periodic)."""
    prng_key("key", key)
    ch = _characteristics(problem)
    lo, hi = problem.interval
    return LagrangianPINN(hi - lo, lo=lo, scale=ch.speed_scale * problem.t_final,
                          width=width, depth=depth, activation=activation,
                          periodic_modes=periodic_modes, key=key)


def lpinn_loss(problem: problems.AbstractProblem, *, residual_points: int = 1024,
               initial_points: int = 256, weights: dict[str, float] | None = None,
               resample: bool = True) -> SumOfSquares:
    """The Lagrangian-PINN loss of `problem` for `sciopt.train.fit`: `loss(model, batch,
    key)` returns `(total, terms)` with the mean squares of

    - `"flow"`: `(x_t - v) / V` on the characteristics (`v = c` or `u`, `V` its scale);
    - `"state"`: `u_t - nu u_xx` along them, with `u_xx = (u_xi / x_xi)_xi / x_xi`;
    - `"initial_position"`, `"initial_value"`: `x(xi, 0) - xi` and `u(xi, 0) - u0(xi)` on
      the initial labels.

    Collocation labels and times are drawn uniformly afresh every step (`resample=False`
    keeps one fixed set, as quasi-Newton methods need).
    """
    ch = _characteristics(problem)
    n_res = positive_int("residual_points", residual_points)
    n_init = positive_int("initial_points", initial_points)
    lo, hi = problem.interval
    t_final = problem.t_final

    def flow_residual(model: LagrangianPINN, point):
        xi, t = point
        pos_t = jax.jvp(lambda s: model.position(xi, s), (t,), (jnp.ones_like(t),))[1]
        speed = ch.velocity if ch.velocity is not None else model.value(xi, t)
        return (pos_t - speed) / ch.speed_scale

    def state_residual(model: LagrangianPINN, point):
        xi, t = point
        u_t = jax.jvp(lambda s: model.value(xi, s), (t,), (jnp.ones_like(t),))[1]
        if ch.nu == 0.0:
            return u_t

        def u_x(a):
            x_xi = jax.jvp(lambda b: model.position(b, t), (a,), (jnp.ones_like(a),))[1]
            u_xi = jax.jvp(lambda b: model.value(b, t), (a,), (jnp.ones_like(a),))[1]
            return u_xi / x_xi, x_xi

        (_, x_xi), (ux_xi, _) = jax.jvp(u_x, (xi,), (jnp.ones_like(xi),))
        return u_t - ch.nu * ux_xi / x_xi

    def initial_position(model: LagrangianPINN, xi):
        return model.position(xi, jnp.zeros_like(xi)) - xi

    def initial_value(model: LagrangianPINN, xi):
        return model.value(xi, jnp.zeros_like(xi)) - problem.initial_condition(xi)

    def groups(model: LagrangianPINN, batch, key):
        del model, batch
        if not resample:
            key = jax.random.key(0)
        k_res, k_init = jax.random.split(key)
        dtype = jnp.result_type(float)
        u = jax.random.uniform(k_res, (n_res, 2), dtype)
        points = (lo + (hi - lo) * u[:, 0], t_final * u[:, 1])
        xi0 = lo + (hi - lo) * jax.random.uniform(k_init, (n_init,), dtype)
        mean, mean0 = jnp.full((n_res,), 1.0 / n_res, dtype), jnp.full_like(xi0, 1.0 / n_init)
        return {"flow": Residuals(flow_residual, points, mean),
                "state": Residuals(state_residual, points, mean),
                "initial_position": Residuals(initial_position, xi0, mean0),
                "initial_value": Residuals(initial_value, xi0, mean0)}

    return SumOfSquares(groups, weights)


def characteristic_grid(model: LagrangianPINN, problem: problems.AbstractProblem, *,
                        labels: int = 64, num_times: int = 21) -> dict[str, np.ndarray]:
    """The learned characteristics on a grid of labels and times (for plots): `xi [n]`,
    `t [m]`, `x [m, n]` wrapped into the interval, `u [m, n]`."""
    protocol("model", model, ("position", "value"), "a pinns.LagrangianPINN")
    protocol("problem", problem, ("interval", "t_final"), "a 1D evolution problem")
    labels, num_times = positive_int("labels", labels), positive_int("num_times", num_times)
    lo, hi = problem.interval
    xi = jnp.linspace(lo, hi, labels, endpoint=False)
    t = jnp.linspace(0.0, problem.t_final, num_times)
    xx = jax.vmap(lambda s: jax.vmap(lambda a: model.position(a, s))(xi))(t)
    uu = jax.vmap(lambda s: jax.vmap(lambda a: model.value(a, s))(xi))(t)
    return {"xi": np.asarray(xi), "t": np.asarray(t),
            "x": np.asarray(lo + jnp.mod(xx - lo, hi - lo)), "u": np.asarray(uu)}
