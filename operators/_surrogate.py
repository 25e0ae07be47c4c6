"""A trained operator as the right-hand side of an ODE solve (diffrax): the method of lines
with a learned vector field, differentiable end to end, so it can sit inside an inverse
problem (`sciopt.inverse.minimise`)."""

from __future__ import annotations

import diffrax
import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float

from sciopt.validate import array, positive_float, positive_int

from ._protocol import require_grid_model
from ._train import predict


class OperatorVectorField(eqx.Module):
    """`du/dt = G(u)`: an operator `G` trained on (state, time derivative) pairs on a grid,
    as a diffrax vector field `f(t, u, args)` on states `[channels, *grid]`.

    **Fields:** `model` (any operator `predict` accepts, possibly `Normalized`), `coords`
    (the grid's coordinates `[*grid, d]`).
    """

    model: eqx.Module
    coords: Float[Array, "*grid d"] = eqx.field(
        converter=lambda c: array("coords", c, ndim=(2, 3), traced=False))

    def __call__(self, t, u: Float[Array, " c *grid"], args) -> Float[Array, " c *grid"]:
        del t, args
        return predict(self.model, u[None], self.coords)[0]


def surrogate_solve(model: eqx.Module, u0: Float[Array, " c *grid"],
                    coords: Float[Array, "*grid d"], *, t1: float,
                    saveat: Float[Array, " k"] | None = None, t0: float = 0.0,
                    solver: diffrax.AbstractSolver | None = None, rtol: float = 1e-6,
                    atol: float = 1e-8, dt0: float | None = None,
                    max_steps: int = 100_000) -> Float[Array, "k c *grid"]:
    """Integrate `du/dt = G(u)` with a trained operator `G` from `u0` (diffrax, adaptive
    steps; `Tsit5` by default) and return the states at the times `saveat` (default `t1`).

    Differentiable with respect to `u0` and the model's parameters (diffrax's checkpointed
    adjoint), so a surrogate solve can replace the reference solver inside an inverse
    problem.

    **Arguments:**

    - `model`: a grid operator (FNO, DyMixOp, possibly `Normalized`) trained to map a state to
      its time derivative.
    - `u0`: the initial state `[channels, *grid]`; `coords` its grid coordinates.
    - `t1`, `t0`, `saveat`: the time span and the saved times.
    - `solver`, `rtol`, `atol`, `dt0`, `max_steps`: diffrax's solver and step-size control.

    **Returns:**

    The states `[len(saveat), channels, *grid]`.
    """
    inner = require_grid_model(model, "a surrogate right-hand side maps a state to a state "
                                      "on the same grid")
    u0 = array("u0", u0, traced=False)
    if u0.ndim != inner.dim + 1 or u0.shape[0] != inner.in_channels:
        raise ValueError(f"u0 must be [{inner.in_channels}, *{inner.dim} grid axes]; got "
                         f"shape {u0.shape}")
    coords = array("coords", coords, shape=(*u0.shape[1:], inner.dim), traced=False)
    if inner.out_channels != inner.in_channels:
        raise ValueError(f"the model maps {inner.in_channels} channel(s) to "
                         f"{inner.out_channels}; a vector field needs the same number")
    t1 = positive_float("t1 - t0", float(t1) - float(t0)) + float(t0)
    ts = jnp.asarray([t1], u0.dtype) if saveat is None else array(
        "saveat", saveat, ndim=1, min_size=1, traced=False).astype(u0.dtype)
    rtol, atol = positive_float("rtol", rtol), positive_float("atol", atol)
    dt0 = None if dt0 is None else positive_float("dt0", dt0)
    term = diffrax.ODETerm(OperatorVectorField(model, coords.astype(u0.dtype)))
    sol = diffrax.diffeqsolve(
        term, solver or diffrax.Tsit5(), t0, t1, dt0, u0,
        saveat=diffrax.SaveAt(ts=ts),
        stepsize_controller=diffrax.PIDController(rtol=rtol, atol=atol),
        max_steps=positive_int("max_steps", max_steps))
    return sol.ys
