"""Entropic fictitious play for mean-field free energies (Chen, Ren & Wang, JMLR 2023): the
best response to the frozen field, sampled by overdamped Langevin dynamics, mixed in."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray

from sciopt.validate import positive_float, positive_int, prng_key, real

from ._energy import MeanFieldEnergy
from ._langevin import MeanFieldLangevin, _check_dt, _solve
from ._particles import (
    ParticleTrajectory,
    SnapshotSteps,
    check_particles,
    check_schedule,
    run_snapshots,
)


class EntropicFictitiousPlay(eqx.Module):
    """Entropic fictitious play for the mean-field free energy `F(mu) + lambda Ent(mu)`:

        mu_{k+1} = (1 - alpha) mu_k + alpha Gibbs(mu_k),
        Gibbs(mu) ∝ exp(-(dF/dmu)(mu)(x) / lambda),

    the best response to the frozen field of mu_k mixed in with weight alpha. With
    particles, the best response is sampled by overdamped Langevin dynamics in the frozen
    potential `(dF/dmu)(mu_k)` (started from the current particles, run for
    `inner_steps * dt`), and the mixture is exact in law: a random fraction alpha of the
    particles is replaced by their best-response samples.

    **Arguments:**

    - `temperature`: lambda > 0.
    - `dt`, `inner_steps`: the inner Langevin step and the number of steps (the inner time
      should cover a few relaxation times of the frozen potential).
    - `mixing`: alpha in (0, 1].
    - `solver`: the inner diffrax solver (default `diffrax.ShARK()`).

    Reference: Chen, Ren & Wang, "Entropic fictitious play for mean field optimization
    problem" (JMLR 2023).
    """

    temperature: Float[Array, ""]
    dt: float = eqx.field(static=True)  # with inner_steps, fixes the inner step count
    inner_steps: int = eqx.field(static=True)
    mixing: float = eqx.field(static=True)  # fixes how many particles are replaced
    solver: diffrax.AbstractSolver

    def __init__(self, temperature: float, dt: float, inner_steps: int = 50,
                 mixing: float = 0.1, solver: diffrax.AbstractSolver | None = None):
        self.temperature = real("temperature", temperature)
        self.dt = positive_float("dt", dt)
        self.inner_steps = positive_int("inner_steps", inner_steps)
        self.mixing = positive_float("mixing", mixing)
        if self.mixing > 1:
            raise ValueError(f"mixing must lie in (0, 1]; got {mixing}")
        self.solver = diffrax.ShARK() if solver is None else solver


class _FrozenField(eqx.Module):
    """The force `-grad (dF/dmu)(mu)` of a fixed particle measure `mu`, at any points."""

    energy: MeanFieldEnergy
    cloud: Array

    def force(self, y):
        return self.energy.field_force(y, self.cloud)


class _PlaySteps(SnapshotSteps):
    """Fictitious play's outer iterations for `sciopt.train.iterate`: the carry is the
    particles; each iteration runs the inner Langevin dynamics in the frozen field and
    replaces a `mixing` fraction of the particles by its end points."""

    energy: MeanFieldEnergy
    method: EntropicFictitiousPlay
    start: Array
    every: int = eqx.field(static=True)
    snapshots: int = eqx.field(static=True)

    def advance(self, x, key):
        method, n = self.method, x.shape[0]
        replaced = max(1, round(method.mixing * n))
        inner = MeanFieldLangevin(method.temperature, method.dt, method.solver)
        t1 = method.dt * method.inner_steps
        k_bm, k_pick = jax.random.split(key)
        best, _ = _solve(_FrozenField(self.energy, x), inner, x, None, jnp.zeros((), x.dtype),
                         t1, method.inner_steps, k_bm)
        idx = jax.random.permutation(k_pick, n)[:replaced]
        return x.at[idx].set(best[idx])

    def observe(self, x):
        return x


def fictitious_play(
    energy: MeanFieldEnergy,
    method: EntropicFictitiousPlay,
    x0: Float[Array, "N d"],
    *,
    iterations: int,
    key: PRNGKeyArray,
    save_every: int | None = None,
    checkpoint_dir: str | Path | None = None,
    progress: Any = "off",
) -> ParticleTrajectory:
    """Run `iterations` outer iterations of entropic fictitious play from the particles
    `x0`.

    **Arguments:**

    - `energy`: a `MeanFieldEnergy` with a potential and/or an interaction (a general
      `functional` has no first variation at new points and is rejected).
    - `method`: an `EntropicFictitiousPlay`.
    - `x0`: `[N, d]` initial particles.
    - `iterations`, `save_every`: outer iterations and the snapshot interval (dividing it).
    - `key`: PRNG key.
    - `checkpoint_dir`, `progress`: run through `sciopt.train.iterate` (checkpoints with
      bitwise resume, progress, metrics, the NaN/Inf guard; at snapshot boundaries) instead
      of one pure scan; the result is the same to round-off. Leave both unset inside
      `jax.jit`.

    **Returns:**

    A `ParticleTrajectory` whose `ts` are outer-iteration counts.

    Reference: Chen, Ren & Wang (JMLR 2023).
    """
    prng_key("key", key)
    if not isinstance(energy, MeanFieldEnergy):
        raise ValueError(f"energy must be a flows.MeanFieldEnergy; got {type(energy).__name__}")
    if energy.functional is not None:
        raise ValueError("fictitious_play needs the first variation of F at any point: give "
                         "a potential and/or an interaction, not a particle functional")
    if not isinstance(method, EntropicFictitiousPlay):
        raise ValueError(f"method must be a flows.EntropicFictitiousPlay; got "
                         f"{type(method).__name__}")
    iterations, every = check_schedule(iterations, save_every)
    x0 = check_particles("x0", x0)
    energy.check(x0)
    _check_dt(energy, method.dt, x0)
    solver = _PlaySteps(energy=energy, method=method, start=x0, every=every,
                        snapshots=iterations // every)
    xs = run_snapshots(solver, key=key, checkpoint_dir=checkpoint_dir, progress=progress,
                       description="fictitious play")
    return ParticleTrajectory(ts=jnp.arange(0, iterations + 1, every), x=xs)
