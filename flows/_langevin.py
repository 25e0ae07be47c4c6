"""Mean-field Langevin dynamics, overdamped and underdamped, for free energies
`F(mu) + lambda Ent(mu)` with `F(mu) = ∫ V dmu + 1/2 ∫∫ W(x, y) dmu(x) dmu(y) + G(mu)`.

N particles follow

    dX_i = -grad (dF/dmu)(mu_N)(X_i) dt + sqrt(2 lambda) dW_i                  (overdamped)
    dX_i = V_i dt,  dV_i = -gamma V_i dt - grad (dF/dmu)(mu_N)(X_i) dt
           + sqrt(2 gamma lambda) dW_i                                             (underdamped)

with `mu_N` the empirical measure. The interaction term goes through
`sciopt.kernels.kernel_matvec` (blocked, no N x N array, optional device mesh); the time
stepping is diffrax's: an additive-noise SRK (ShARK) for the overdamped system and the
underdamped Langevin solvers (QUICSORT, ShOULD, ALIGN) for the kinetic one.

References: Mei, Montanari & Nguyen, "A mean field view of the landscape of two-layer neural
networks" (PNAS 2018); Nitanda, Wu & Suzuki, "Convex analysis of the mean field Langevin
dynamics" (AISTATS 2022); Chizat, "Mean-field Langevin dynamics: exponential convergence and
annealing" (TMLR 2022); Fu & Wilson, "Mean-field underdamped Langevin dynamics and its
spacetime discretization" (ICML 2024); Foster, dos Reis & Strange, "High order splitting
methods for SDEs satisfying a commutativity condition" (2023, QUICSORT / ShOULD).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import diffrax
import equinox as eqx
import jax.numpy as jnp
import lineax as lx
from jaxtyping import Array, Float, PRNGKeyArray

from sciopt.validate import array, is_concrete, positive_float, prng_key, real, require

from ._energy import MeanFieldEnergy
from ._particles import (
    ParticleTrajectory,
    SnapshotSteps,
    check_particles,
    check_step_stability,
    run_snapshots,
)


class MeanFieldLangevin(eqx.Module):
    """Overdamped mean-field Langevin dynamics
    `dX = -grad (dF/dmu)(X) dt + sqrt(2 lambda) dW`.

    **Arguments:**

    - `temperature`: lambda >= 0 (0 gives the deterministic Wasserstein gradient flow of F
      for particles).
    - `dt`: the step (shortened so that a whole number of equal steps spans each interval
      between save times).
    - `solver`: a diffrax solver for additive noise; default `diffrax.ShARK()` (strong order
      1.5 with space-time Lévy area). `diffrax.Euler()` is Euler–Maruyama.

    `temperature` is an array leaf (no recompile for a new value; `vmap` / `grad` over it
    work); `dt` fixes the number of steps, so it is static.

    Reference: Mei, Montanari & Nguyen (PNAS 2018); Nitanda, Wu & Suzuki (AISTATS 2022).
    """

    temperature: Float[Array, ""]
    dt: float = eqx.field(static=True)
    solver: diffrax.AbstractSolver

    def __init__(self, temperature: float, dt: float, solver: diffrax.AbstractSolver | None = None):
        self.temperature = real("temperature", temperature, low_inclusive=True)
        self.dt = positive_float("dt", dt)
        self.solver = diffrax.ShARK() if solver is None else solver


class UnderdampedMeanFieldLangevin(eqx.Module):
    """Underdamped (kinetic) mean-field Langevin dynamics
    `dX = V dt, dV = -gamma V dt - grad (dF/dmu)(X) dt + sqrt(2 gamma lambda) dW`; its
    stationary law has positions `∝ exp(-(dF/dmu)/lambda)` (self-consistently) and
    velocities `N(0, lambda I)`.

    **Arguments:**

    - `temperature`: lambda > 0.
    - `dt`: the step.
    - `friction`: gamma > 0.
    - `solver`: one of diffrax's underdamped Langevin solvers; default
      `diffrax.QUICSORT(0.1)`.

    `temperature` and `friction` are array leaves; `dt` fixes the number of steps (static).

    Reference: Fu & Wilson, "Mean-field underdamped Langevin dynamics and its spacetime
    discretization" (ICML 2024); the solvers are diffrax's (Foster, dos Reis & Strange 2023).
    """

    temperature: Float[Array, ""]
    dt: float = eqx.field(static=True)
    friction: Float[Array, ""]
    solver: diffrax.AbstractSolver

    def __init__(self, temperature: float, dt: float, friction: float = 1.0,
                 solver: diffrax.AbstractSolver | None = None):
        self.temperature = real("temperature", temperature)
        self.dt = positive_float("dt", dt)
        self.friction = real("friction", friction)
        self.solver = diffrax.QUICSORT(0.1) if solver is None else solver


def _grid(t1: float, dt: float, saveat) -> tuple[int, Array]:
    """The step count (static: t1 and dt fix it) and the checked save times."""
    t1 = positive_float("t1", t1)
    steps = max(1, math.ceil(t1 / dt - 1e-9))
    ts = jnp.array([0.0, t1]) if saveat is None else array("saveat", saveat, traced=False)
    if ts.ndim != 1 or ts.size == 0:
        raise ValueError(f"saveat must be a non-empty 1-D array of times; got shape "
                         f"{ts.shape}")
    ts = require(ts, lambda: jnp.all(jnp.diff(ts) >= 0), "saveat must be non-decreasing")
    shown = f"[{float(ts[0])}, {float(ts[-1])}]" if is_concrete(ts) else "traced times"
    ts = require(ts, (ts[0] >= 0) & (ts[-1] <= t1 * (1 + 1e-12)),
                 f"saveat times must lie in [0, t1 = {t1}]; got {shown}")
    return steps, ts


def _check_dt(energy: MeanFieldEnergy, dt: float, x0: Array) -> None:
    """The explicit-step bound from the potential and interaction (mean-field terms, which
    a subsample of the particles represents); a general functional is not included."""
    if energy.potential is None and energy.interaction is None:
        return
    check_step_stability("dt", dt, lambda z: energy.field_force(z, z), x0)


def _solve(energy, method, x0, v0, t0, t1, steps, key):
    """`(x, v)` at `t1` after `steps` equal steps from `(x0, v0)` at `t0` (`v` is `None`
    for the overdamped dynamics). The Brownian path is keyed by `key` and the step times
    (`diffrax.UnsafeBrownianPath`), so solving `[t0, t1]` in pieces draws the same noise
    wherever the pieces meet the same step times."""
    dt = (t1 - t0) / steps
    shape = x0.shape
    common = dict(t0=t0, t1=t1, dt0=dt, saveat=diffrax.SaveAt(t1=True), max_steps=steps + 1,
                  adjoint=diffrax.ForwardMode())
    if isinstance(method, UnderdampedMeanFieldLangevin):
        lam, gamma = method.temperature, method.friction
        bm = diffrax.UnsafeBrownianPath(shape=shape, key=key,
                                        levy_area=diffrax.SpaceTimeTimeLevyArea)
        drift = diffrax.UnderdampedLangevinDriftTerm(
            gamma, lam, lambda x, args: -energy.force(x) / lam)
        noise = diffrax.UnderdampedLangevinDiffusionTerm(gamma, lam, bm)
        sol = diffrax.diffeqsolve(diffrax.MultiTerm(drift, noise), method.solver,
                                  y0=(x0, v0), **common)
        return sol.ys[0][-1], sol.ys[1][-1]
    drift = diffrax.ODETerm(lambda t, x, args: energy.force(x))
    scale = jnp.broadcast_to(jnp.sqrt(2 * method.temperature).astype(x0.dtype), shape)
    bm = diffrax.UnsafeBrownianPath(shape=shape, key=key, levy_area=diffrax.SpaceTimeLevyArea)
    noise = diffrax.ControlTerm(lambda t, x, args: lx.DiagonalLinearOperator(scale), bm)
    sol = diffrax.diffeqsolve(diffrax.MultiTerm(drift, noise), method.solver, y0=x0, **common)
    return sol.ys[-1], None


class _LangevinSteps(SnapshotSteps):
    """Langevin dynamics for `sciopt.train.iterate`: step `i` integrates from `times[i]` to
    `times[i + 1]` in `per_interval` equal steps (diffrax); the carry is `(x, v, i)`."""

    energy: MeanFieldEnergy
    method: MeanFieldLangevin | UnderdampedMeanFieldLangevin
    times: Float[Array, " S"]
    noise_key: PRNGKeyArray
    start: tuple
    per_interval: int = eqx.field(static=True)
    every: int = eqx.field(static=True)
    snapshots: int = eqx.field(static=True)

    def advance(self, carry, key):
        del key  # the Brownian path is keyed by `noise_key` and the step times
        x, v, i = carry
        x, v = _solve(self.energy, self.method, x, v, self.times[i], self.times[i + 1],
                      self.per_interval, self.noise_key)
        return x, v, i + 1

    def observe(self, carry):
        return carry[0], carry[1]


def _steps_between(a, b, dt: float, fallback: int) -> int:
    """Equal steps of at most `dt` covering `[a, b]` (concrete), else `fallback`."""
    if not is_concrete(a, b):
        return fallback
    return max(1, math.ceil(float(jnp.max(b - a)) / dt - 1e-9))


def langevin(
    energy: MeanFieldEnergy,
    method: MeanFieldLangevin | UnderdampedMeanFieldLangevin,
    x0: Float[Array, "N d"],
    *,
    t1: float,
    key: PRNGKeyArray,
    saveat: Float[Array, " S"] | None = None,
    v0: Float[Array, "N d"] | None = None,
    checkpoint_dir: str | Path | None = None,
    progress: Any = "off",
) -> ParticleTrajectory:
    """Run N-particle mean-field Langevin dynamics from `x0` to time `t1`.

    **Arguments:**

    - `energy`: a `MeanFieldEnergy`.
    - `method`: `MeanFieldLangevin` (overdamped) or `UnderdampedMeanFieldLangevin`.
    - `x0`: `[N, d]` initial particles.
    - `t1`: the final time.
    - `key`: PRNG key for the Brownian motion.
    - `saveat`: times in `[0, t1]` to keep (default `[0, t1]`).
    - `v0`: initial velocities for the underdamped dynamics (default zero).
    - `checkpoint_dir`, `progress`: run through `sciopt.train.iterate` (checkpoints with
      bitwise resume, progress, metrics, the NaN/Inf guard; at the `saveat` times) instead
      of one pure scan; the result is the same to round-off. Leave both unset inside
      `jax.jit`.

    Each interval between save times is solved in the same number of equal steps, at most
    `dt` long (with traced save times: `t1 / dt` steps each).

    **Returns:**

    A `ParticleTrajectory` with `ts = saveat`, positions `x [S, N, d]` and, for the
    underdamped dynamics, velocities `v`.

    Raises `ValueError` for non-finite particles, a potential without finite gradients, or
    an overdamped `dt` beyond the explicit scheme's stability bound `dt * L <= 2` (L: the
    largest curvature of the potential + interaction drift at the initial particles).
    """
    prng_key("key", key)
    if not isinstance(energy, MeanFieldEnergy):
        raise ValueError(f"energy must be a flows.MeanFieldEnergy; got {type(energy).__name__}")
    if not isinstance(method, (MeanFieldLangevin, UnderdampedMeanFieldLangevin)):
        raise ValueError("method must be flows.MeanFieldLangevin or "
                         f"flows.UnderdampedMeanFieldLangevin; got {type(method).__name__}")
    x0 = check_particles("x0", x0)
    energy.check(x0)
    steps, ts = _grid(t1, method.dt, saveat)
    if isinstance(method, UnderdampedMeanFieldLangevin):
        v0 = jnp.zeros_like(x0) if v0 is None else check_particles("v0", v0, x0.shape[1])
        if v0.shape != x0.shape:
            raise ValueError(f"v0 must have the shape of x0 {x0.shape}; got {v0.shape}")
    elif v0 is not None:
        raise ValueError("v0 is only used by UnderdampedMeanFieldLangevin")
    else:
        _check_dt(energy, method.dt, x0)
    t1 = float(t1)
    zero = jnp.zeros((), ts.dtype)
    first = ts[0]
    if is_concrete(first) and float(first) == 0.0:
        start = (x0, v0)
    else:  # to the first save time
        start = _solve(energy, method, x0, v0, zero, first,
                       _steps_between(zero, first, method.dt, steps), key)
    solver = _LangevinSteps(energy=energy, method=method, times=ts, noise_key=key,
                            start=(*start, jnp.asarray(0)),
                            per_interval=_steps_between(ts[:-1], ts[1:], method.dt, steps)
                            if ts.size > 1 else 1, every=1, snapshots=ts.size - 1)
    xs, vs = run_snapshots(solver, key=key, checkpoint_dir=checkpoint_dir,
                           progress=progress, description="Langevin")
    return ParticleTrajectory(ts=ts, x=xs, v=vs)
