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
from collections.abc import Callable

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import lineax as lx
from jaxtyping import Array, Float, PRNGKeyArray

from sciopt.kernels import gaussian_kernel, kernel_matvec
from sciopt.validate import is_concrete, positive_float, positive_int, real, require

from ._particles import (
    ParticleTrajectory,
    check_differentiable,
    check_function,
    check_particles,
    check_schedule,
    check_step_stability,
    interaction_force,
)

_UNIT = gaussian_kernel(1.0)

class MeanFieldEnergy(eqx.Module):
    """The energy part of a mean-field free energy (the dynamics add `lambda Ent(mu)`):

        F(mu) = ∫ V dmu + 1/2 ∫∫ W(x, y) dmu(x) dmu(y) + G(mu).

    **Arguments:**

    - `potential`: `V(x [d]) -> scalar`, or `None`.
    - `interaction`: `W(x [d], y [d]) -> scalar`, symmetric (`W(x, y) = W(y, x)`), or
      `None`. Its forces are summed in blocks by `sciopt.kernels` (memory O(N d + block^2)).
    - `functional`: `G(particles [N, d]) -> scalar`, any functional evaluated on the
      empirical measure (e.g. the risk of a mean-field two-layer network whose neurons are
      the particles), or `None`. Its first variation's gradient at particle i is
      `N grad_{x_i} G`.
    - `block_size`, `mesh`: passed to `sciopt.kernels.kernel_matvec` for the interaction.
    """

    potential: Callable | None = None
    interaction: Callable | None = None
    functional: Callable | None = None
    block_size: int | None = eqx.field(static=True, default=None)
    mesh: jax.sharding.Mesh | None = eqx.field(static=True, default=None)

    def __check_init__(self):
        if self.potential is None and self.interaction is None and self.functional is None:
            raise ValueError("MeanFieldEnergy needs at least one of potential, interaction "
                             "and functional")

    def check(self, x: Float[Array, "N d"]) -> None:
        """Trace each term once on `x` and raise a clear error if one does not return a
        scalar."""
        if self.potential is not None:
            check_function("potential", self.potential, x[0])
            check_differentiable("potential", self.potential, x)
        if self.interaction is not None:
            check_function("interaction", self.interaction, x[0], x[0])
        if self.functional is not None:
            check_function("functional", self.functional, x)

    def value(self, x: Float[Array, "N d"]) -> Float[Array, ""]:
        """`F(mu_N)` for the empirical measure of `x` (the interaction's double sum is
        blocked)."""
        n = x.shape[0]
        total = jnp.zeros((), x.dtype)
        if self.potential is not None:
            total = total + jnp.mean(jax.vmap(self.potential)(x))
        if self.interaction is not None:
            inner = kernel_matvec(self.interaction, x, x, jnp.full(n, 1.0 / n, x.dtype),
                                  block_size=self.block_size, mesh=self.mesh)
            total = total + 0.5 * jnp.mean(inner)
        if self.functional is not None:
            total = total + self.functional(x)
        return total

    def field_force(self, y: Float[Array, "M d"], cloud: Float[Array, "N d"]
                    ) -> Float[Array, "M d"]:
        """The potential and interaction part of `-grad (dF/dmu)(mu)` at the points `y`, for
        the empirical measure `mu` of `cloud` (the functional term is not included)."""
        f = jnp.zeros_like(y)
        if self.potential is not None:
            f = f - jax.vmap(jax.grad(self.potential))(y)
        if self.interaction is not None:
            n = cloud.shape[0]
            f = f + interaction_force(self.interaction, y, cloud,
                                      jnp.full(n, 1.0 / n, y.dtype),
                                      block_size=self.block_size, mesh=self.mesh)
        return f

    def force(self, x: Float[Array, "N d"]) -> Float[Array, "N d"]:
        """`-grad (dF/dmu)(mu_N)(x_i)` for every particle."""
        f = self.field_force(x, x)
        if self.functional is not None:
            f = f - x.shape[0] * jax.grad(self.functional)(x)
        return f


class BlobInternalEnergy(eqx.Module):
    """The blob (mollified) internal energy of a particle measure, a `functional=` for
    `MeanFieldEnergy`:

        G(mu) = ∫ (phi_eps * mu)^(m-1) / (m - 1) dmu       (m > 1),
        G(mu) = ∫ log(phi_eps * mu) dmu                     (m = 1, entropy),

    with `phi_eps` the Gaussian of standard deviation `epsilon`. Its gradient flow for
    particles (temperature 0) approximates the porous-medium equation
    `d rho / dt = Laplacian(rho^m)` (m = 1: the heat equation) as `epsilon -> 0`; the
    mollified density `phi_eps * mu` at the particles is one blocked `sciopt.kernels` sum.

    **Arguments:**

    - `m`: the exponent, >= 1.
    - `epsilon`: the blob width (a few particle spacings).
    - `block_size`, `mesh`: passed to `sciopt.kernels.kernel_matvec`.

    Reference: Carrillo, Craig & Patacchini, "A blob method for diffusion" (Calc. Var. PDE
    2019).
    """

    m: float = eqx.field(static=True)  # m = 1 is another formula: static
    epsilon: Float[Array, ""]
    block_size: int | None = eqx.field(static=True)
    mesh: jax.sharding.Mesh | None = eqx.field(static=True)

    def __init__(self, m: float, epsilon: float, block_size: int | None = None,
                 mesh: jax.sharding.Mesh | None = None):
        self.m = positive_float("m", m)
        if self.m < 1:
            raise ValueError(f"m must be >= 1; got {m}")
        self.epsilon = real("epsilon", epsilon)
        self.block_size, self.mesh = block_size, mesh

    def density(self, x: Float[Array, "N d"]) -> Float[Array, " N"]:
        """`(phi_eps * mu_N)(x_i)` at every particle."""
        n, d = x.shape
        eps = self.epsilon.astype(x.dtype)
        norm = (2 * math.pi * eps**2) ** (-d / 2)
        z = x / eps  # the unit kernel on scaled points: epsilon stays a traced leaf
        rho = kernel_matvec(_UNIT, z, z, jnp.full(n, 1.0 / n, x.dtype),
                            block_size=self.block_size, mesh=self.mesh)
        return norm * rho

    def __call__(self, x: Float[Array, "N d"]) -> Float[Array, ""]:
        rho = self.density(x)
        if self.m == 1:
            return jnp.mean(jnp.log(rho))
        return jnp.mean(rho ** (self.m - 1)) / (self.m - 1)


def _barenblatt_constants(m: float, d: int, mass: float):
    """(alpha, beta, k, C, p) of the Barenblatt solution of d rho / dt = Laplacian(rho^m)."""
    if m <= 1:
        raise ValueError(f"the Barenblatt solution needs m > 1; got {m}")
    alpha = d / (d * (m - 1) + 2)
    beta = alpha / d
    k = alpha * (m - 1) / (2 * m * d)
    p = 1 / (m - 1)
    # mass = C^(p + d/2) k^(-d/2) pi^(d/2) Gamma(p + 1) / Gamma(p + 1 + d/2)
    log_c = (math.log(mass) + d / 2 * math.log(k) + math.lgamma(p + 1 + d / 2)
             - d / 2 * math.log(math.pi) - math.lgamma(p + 1)) / (p + d / 2)
    return alpha, beta, k, math.exp(log_c), p


def barenblatt(x: Float[Array, "N d"], t: float, m: float, mass: float = 1.0
               ) -> Float[Array, " N"]:
    """The Barenblatt (source-type) solution of the porous-medium equation
    `d rho / dt = Laplacian(rho^m)`, m > 1, of total mass `mass`, at points `x` and time t:
    `rho = t^-alpha (C - k |x|^2 t^(-2 beta))_+^(1 / (m - 1))`, `alpha = d / (d (m - 1) + 2)`,
    `beta = alpha / d`, `k = alpha (m - 1) / (2 m d)`.

    Reference: Vázquez, "The porous medium equation: mathematical theory" (2007), ch. 4.
    """
    x = jnp.asarray(x)
    alpha, beta, k, c, p = _barenblatt_constants(m, x.shape[-1], mass)
    core = c - k * jnp.sum(x**2, axis=-1) * t ** (-2 * beta)
    return t ** (-alpha) * jnp.maximum(core, 0.0) ** p


def barenblatt_second_moment(t: float, m: float, d: int, mass: float = 1.0) -> float:
    """`∫ |x|^2 rho dx` of `barenblatt` at time t: `mass t^(2 beta) (C / k) d / (2p + 2 + d)`
    with p = 1 / (m - 1)."""
    _, beta, k, c, p = _barenblatt_constants(m, d, mass)
    return mass * t ** (2 * beta) * (c / k) * d / (2 * p + 2 + d)


def ornstein_uhlenbeck_law(
    a: Float[Array, "d d"],
    b: Float[Array, " d"],
    mean0: Float[Array, " d"],
    cov0: Float[Array, "d d"],
    t: float,
    temperature: float = 1.0,
) -> tuple[Float[Array, " d"], Float[Array, "d d"]]:
    """The Gaussian law at time t of `dX = -A (X - b) dt + sqrt(2 lambda) dW` (A symmetric
    positive definite) started from `N(mean0, cov0)`: mean `e^{-At} m0 + (I - e^{-At}) b`,
    covariance `e^{-At} S0 e^{-At} + lambda A^{-1} (I - e^{-2At})`. Its stationary law is
    `N(b, lambda A^{-1})`; the Fokker–Planck equation is the Wasserstein gradient flow of
    `∫ 1/2 (x - b)^T A (x - b) drho + lambda ∫ rho log rho`.

    **Returns:** `(mean [d], cov [d, d])`.
    """
    a = jnp.asarray(a)
    evals, evecs = jnp.linalg.eigh(0.5 * (a + a.T))
    decay = (evecs * jnp.exp(-evals * t)) @ evecs.T
    noise = (evecs * (temperature * -jnp.expm1(-2 * evals * t) / evals)) @ evecs.T
    b, mean0 = jnp.asarray(b, a.dtype), jnp.asarray(mean0, a.dtype)
    mean = decay @ mean0 + b - decay @ b
    return mean, decay @ jnp.asarray(cov0, a.dtype) @ decay + noise


class MeanFieldLangevin(eqx.Module):
    """Overdamped mean-field Langevin dynamics
    `dX = -grad (dF/dmu)(X) dt + sqrt(2 lambda) dW`.

    **Arguments:**

    - `temperature`: lambda >= 0 (0 gives the deterministic Wasserstein gradient flow of F
      for particles).
    - `dt`: the step (shortened so that a whole number of steps reaches `t1`).
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
    ts = jnp.array([0.0, t1]) if saveat is None else jnp.asarray(saveat, float)
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


@eqx.filter_jit
def _solve(energy, method, x0, v0, t1, steps, ts, key):
    dt = t1 / steps
    shape = x0.shape
    saveat = diffrax.SaveAt(ts=ts.astype(x0.dtype))
    common = dict(t0=0.0, t1=t1, dt0=dt, saveat=saveat, max_steps=steps + 1,
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
        return sol.ys
    drift = diffrax.ODETerm(lambda t, x, args: energy.force(x))
    scale = jnp.broadcast_to(jnp.sqrt(2 * method.temperature).astype(x0.dtype), shape)
    bm = diffrax.UnsafeBrownianPath(shape=shape, key=key, levy_area=diffrax.SpaceTimeLevyArea)
    noise = diffrax.ControlTerm(lambda t, x, args: lx.DiagonalLinearOperator(scale), bm)
    sol = diffrax.diffeqsolve(diffrax.MultiTerm(drift, noise), method.solver, y0=x0, **common)
    return sol.ys, None


def langevin(
    energy: MeanFieldEnergy,
    method: MeanFieldLangevin | UnderdampedMeanFieldLangevin,
    x0: Float[Array, "N d"],
    *,
    t1: float,
    key: PRNGKeyArray,
    saveat: Float[Array, " S"] | None = None,
    v0: Float[Array, "N d"] | None = None,
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

    **Returns:**

    A `ParticleTrajectory` with `ts = saveat`, positions `x [S, N, d]` and, for the
    underdamped dynamics, velocities `v`.

    Raises `ValueError` for non-finite particles, a potential without finite gradients, or
    an overdamped `dt` beyond the explicit scheme's stability bound `dt * L <= 2` (L: the
    largest curvature of the potential + interaction drift at the initial particles).
    """
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
    xs, vs = _solve(energy, method, x0, v0, float(t1), steps, ts, key)
    return ParticleTrajectory(ts=ts, x=xs, v=vs)


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


@eqx.filter_jit
def _play(energy, method, x0, key, snapshots, every):
    n = x0.shape[0]
    replaced = max(1, round(method.mixing * n))
    inner = MeanFieldLangevin(method.temperature, method.dt, method.solver)
    t1 = method.dt * method.inner_steps
    ts = jnp.array([t1], x0.dtype)

    def iteration(x, k):
        k_bm, k_pick = jax.random.split(k)
        best, _ = _solve(_FrozenField(energy, x), inner, x, None, t1, method.inner_steps, ts,
                         k_bm)
        idx = jax.random.permutation(k_pick, n)[:replaced]
        return x.at[idx].set(best[-1][idx]), None

    def block(x, k):
        x, _ = jax.lax.scan(iteration, x, jax.random.split(k, every))
        return x, x

    _, xs = jax.lax.scan(block, x0, jax.random.split(key, snapshots))
    return jnp.concatenate([x0[None], xs])


def fictitious_play(
    energy: MeanFieldEnergy,
    method: EntropicFictitiousPlay,
    x0: Float[Array, "N d"],
    *,
    iterations: int,
    key: PRNGKeyArray,
    save_every: int | None = None,
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

    **Returns:**

    A `ParticleTrajectory` whose `ts` are outer-iteration counts.

    Reference: Chen, Ren & Wang (JMLR 2023).
    """
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
    xs = _play(energy, method, x0, key, iterations // every, every)
    return ParticleTrajectory(ts=jnp.arange(0, iterations + 1, every), x=xs)
