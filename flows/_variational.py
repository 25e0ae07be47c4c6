"""Variational Wasserstein gradient flow: JKO steps on particles, without densities.

Each JKO step looks for a map `T = grad psi` (a convex network) pushing the particles of
mu_k to mu_{k+1} = T# mu_k. The internal energy `∫ U(rho) dx` of the push-forward, which
needs a density, is replaced by its variational (dual) form

    ∫ U(rho(x)) dx = sup_h  E_{x ~ rho}[h(x)] - E_{y ~ Gamma}[U*(h(y)) / gamma(y)],

with U* the convex conjugate and Gamma (density gamma) a reference measure covering the
support of rho — here a Gaussian fitted to the particles of mu_k and widened. So one step is
the saddle-point problem

    min_T max_h  E_{x ~ mu_k}[ |T(x) - x|^2 / (2 tau) + V(T(x)) + h(T(x)) ]
                 + 1/2 E[W(T(x), T(x'))] + G(T#mu_k) - E_{y ~ Gamma}[U*(h(y)) / gamma(y)],

solved by alternating stochastic gradient steps on the critic h (an MLP) and on T, over
minibatches of particles and of reference samples. Only samples are needed: no Hessian, no
log-determinant, so the cost per step is that of two small networks whatever the dimension.

For the entropy `lambda ∫ rho log rho`, `U*(t) = lambda exp(t / lambda - 1)`; for the
porous-medium energy `∫ rho^m / (m - 1)`, `U*(t) = ((m - 1) t_+ / m)^(m / (m - 1))`.

Reference: Fan, Taghvaei & Chen, "Variational Wasserstein gradient flow" (ICML 2022).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import optax
from jaxtyping import Array, Float, PRNGKeyArray

from sciopt.train import NonFiniteIteration, iterate
from sciopt.validate import positive_float, positive_int, prng_key, real

from ._convex import ICNN, ConvexGradientNet
from ._energy import MeanFieldEnergy
from ._jko import check_scheme
from ._particles import check_particles, check_schedule
from ._schemes import SchemeSteps, has_entropy


def porous_medium_conjugate(m: float) -> Callable[[Array], Array]:
    """`U*` for `U(r) = r^m / (m - 1)` (m > 1): `((m - 1) t_+ / m)^(m / (m - 1))`; its
    gradient flow is the porous-medium equation `d rho / dt = Laplacian(rho^m)`."""
    if positive_float("m", m) <= 1:
        raise ValueError(f"the porous-medium exponent m must be > 1; got {m}")
    return lambda t: ((m - 1) * jnp.maximum(t, 0.0) / m) ** (m / (m - 1))


_ADAM = optax.adam(1e-3)  # the default of both players: one object, reused compilations


class VariationalWGF(eqx.Module):
    """The variational WGF scheme's settings.

    **Arguments:**

    - `step_size`: tau, the JKO step.
    - `temperature`: lambda >= 0, the weight of the entropy (its conjugate is built in).
    - `internal_conjugate`: `U*` (elementwise) of another internal energy `∫ U(rho) dx`,
      e.g. `porous_medium_conjugate(2.0)`; not together with `temperature`.
    - `iterations`: map updates per JKO step; `critic_steps`: critic updates before each
      map update; `batch_size`: particles (and reference samples) per update.
    - `optimizer`, `critic_optimizer`: optax transformations (default Adam 1e-3 for both).
    - `reference_scale`: the reference Gaussian has the mean of mu_k's particles and their
      covariance times `reference_scale^2` (default 1.5).

    `step_size`, `temperature` and `reference_scale` are array leaves (a new value does not
    recompile); whether the entropy term is there (`temperature` nonzero, or traced) is
    static.

    Reference: Fan, Taghvaei & Chen (ICML 2022).
    """

    step_size: Float[Array, ""]
    temperature: Float[Array, ""]
    entropy: bool = eqx.field(static=True)
    internal_conjugate: Callable | None = eqx.field(static=True)
    iterations: int = eqx.field(static=True)
    critic_steps: int = eqx.field(static=True)
    batch_size: int = eqx.field(static=True)
    optimizer: optax.GradientTransformation = eqx.field(static=True)
    critic_optimizer: optax.GradientTransformation = eqx.field(static=True)
    reference_scale: Float[Array, ""]

    def __init__(self, step_size: float, *, temperature: float = 0.0,
                 internal_conjugate: Callable | None = None, iterations: int = 500,
                 critic_steps: int = 3, batch_size: int = 1024,
                 optimizer: optax.GradientTransformation | None = None,
                 critic_optimizer: optax.GradientTransformation | None = None,
                 reference_scale: float = 1.5):
        self.step_size = real("step_size", step_size)
        self.temperature = real("temperature", temperature, low_inclusive=True)
        self.entropy = has_entropy(self.temperature)
        if internal_conjugate is not None and not callable(internal_conjugate):
            raise ValueError(f"internal_conjugate must be a function U*(t); got "
                             f"{internal_conjugate!r}")
        if internal_conjugate is not None and self.entropy:
            raise ValueError("give either temperature (entropy) or internal_conjugate, not "
                             "both: the conjugate of a sum is not the sum of the conjugates")
        self.internal_conjugate = internal_conjugate
        self.iterations = positive_int("iterations", iterations)
        self.critic_steps = positive_int("critic_steps", critic_steps)
        self.batch_size = positive_int("batch_size", batch_size)
        self.optimizer = _ADAM if optimizer is None else optimizer
        self.critic_optimizer = _ADAM if critic_optimizer is None else critic_optimizer
        self.reference_scale = real("reference_scale", reference_scale)

    @property
    def has_internal(self) -> bool:
        """Whether the free energy has an entropy or internal-energy term."""
        return self.entropy or self.internal_conjugate is not None

    def conjugate(self, t: Array) -> Array:
        """`U*(t)` of the internal energy."""
        if self.internal_conjugate is not None:
            return self.internal_conjugate(t)
        return self.temperature * jnp.exp(t / self.temperature - 1.0)


class VariationalTrajectory(eqx.Module):
    """The output of `variational_wgf`.

    **Fields:**

    - `ts`: `[S]` snapshot times; `x`: `[S, P, d]` the particles at those times.
    - `maps`: the learnt convex potentials, one per step; `critics`: the dual functions h.
    - `losses`: `[steps, iterations]` the saddle objective after each map update.
    """

    ts: Float[Array, " S"]
    x: Float[Array, "S P d"]
    maps: tuple
    critics: tuple
    losses: Float[Array, "K I"]

    @property
    def final(self) -> Float[Array, "P d"]:
        """The last snapshot's particles."""
        return self.x[-1]

    def push(self, x: Float[Array, "n d"], steps: int | None = None) -> Float[Array, "n d"]:
        """Push fresh samples of mu_0 through the first `steps` maps (default all)."""
        x = check_particles("x", x, self.x.shape[-1])
        for net in self.maps[:steps]:
            x = _transport(net, x)
        return x


@eqx.filter_jit
def _transport(net, x):
    return jax.vmap(net.transport)(x)


def _gaussian_reference(x, scale):
    """Mean and Cholesky factor of the widened Gaussian fitted to the particles."""
    d = x.shape[1]
    mean = jnp.mean(x, axis=0)
    cov = jnp.atleast_2d(jnp.cov(x.T)) + 1e-8 * jnp.eye(d, dtype=x.dtype)
    return mean, scale * jnp.linalg.cholesky(cov)


def _reference_log_density(y, mean, chol):
    d = y.shape[-1]
    z = jax.scipy.linalg.solve_triangular(chol, (y - mean).T, lower=True).T
    logdet = jnp.sum(jnp.log(jnp.diagonal(chol)))
    return -0.5 * jnp.sum(z**2, axis=-1) - logdet - 0.5 * d * math.log(2 * math.pi)


def _saddle(net, critic, energy, method, x, y, log_gamma):
    """The step's saddle objective on a minibatch x of mu_k and y of the reference."""
    tx = jax.vmap(net.transport)(x)
    value = jnp.mean(jnp.sum((tx - x) ** 2, axis=1)) / (2 * method.step_size)
    if energy is not None:
        value = value + energy.value(tx)
    if method.has_internal:
        dual = jnp.mean(method.conjugate(jax.vmap(critic)(y)) * jnp.exp(-log_gamma))
        value = value + jnp.mean(jax.vmap(critic)(tx)) - dual
    return value


@eqx.filter_jit
def _train_step(net, critic, energy, method, x, key):
    (p_net, s_net), (p_crit, s_crit) = (eqx.partition(m, eqx.is_inexact_array)
                                        for m in (net, critic))
    opt_net, opt_crit = method.optimizer.init(p_net), method.critic_optimizer.init(p_crit)
    mean, chol = _gaussian_reference(x, method.reference_scale)
    n, b = x.shape[0], method.batch_size

    def batch(k):
        kx, ky = jax.random.split(k)
        y = mean + jax.random.normal(ky, (b, x.shape[1]), x.dtype) @ chol.T
        return x[jax.random.randint(kx, (b,), 0, n)], y, _reference_log_density(y, mean, chol)

    def objective(pn, pc, data):
        return _saddle(eqx.combine(pn, s_net), eqx.combine(pc, s_crit), energy, method, *data)

    def critic_update(carry, k):
        p_net, p_crit, opt_crit = carry
        g = jax.grad(lambda pc: -objective(p_net, pc, batch(k)))(p_crit)
        updates, opt_crit = method.critic_optimizer.update(g, opt_crit, p_crit)
        return (p_net, optax.apply_updates(p_crit, updates), opt_crit), None

    def iteration(carry, k):
        p_net, p_crit, opt_net, opt_crit = carry
        keys = jax.random.split(k, method.critic_steps + 1)
        if method.has_internal:
            (_, p_crit, opt_crit), _ = jax.lax.scan(critic_update, (p_net, p_crit, opt_crit),
                                                    keys[1:])
        loss, g = jax.value_and_grad(objective)(p_net, p_crit, batch(keys[0]))
        updates, opt_net = method.optimizer.update(g, opt_net, p_net)
        return (optax.apply_updates(p_net, updates), p_crit, opt_net, opt_crit), loss

    carry = (p_net, p_crit, opt_net, opt_crit)
    (p_net, p_crit, _, _), losses = jax.lax.scan(iteration, carry,
                                                 jax.random.split(key, method.iterations))
    net, critic = eqx.combine(p_net, s_net), eqx.combine(p_crit, s_crit)
    return net, critic, jax.vmap(net.transport)(x), losses


def variational_wgf(
    energy: MeanFieldEnergy | None,
    method: VariationalWGF,
    network: ICNN | ConvexGradientNet,
    x0: Float[Array, "P d"],
    *,
    steps: int,
    key: PRNGKeyArray,
    critic: Callable | None = None,
    save_every: int | None = None,
    progress: bool = False,
    checkpoint_dir: str | Path | None = None,
) -> VariationalTrajectory:
    """Run `steps` variational JKO steps on the particles `x0` (samples of mu_0).

    **Arguments:**

    - `energy`: a `MeanFieldEnergy`, or `None` for a pure internal-energy flow.
    - `method`: a `VariationalWGF`.
    - `network`: the initial convex potential (`ICNN` or `ConvexGradientNet`); each step
      warm-starts from the previous one.
    - `x0`: `[P, d]` particles of mu_0.
    - `steps`, `save_every`: the number of steps and the snapshot interval (dividing it).
    - `key`: PRNG key; `critic`: the initial dual function, an equinox module
      `x [d] -> scalar` (default an MLP of width 64, depth 2, softplus activations).
    - `progress`: print one line per step.
    - `checkpoint_dir`: checkpoint after every step and resume from the newest there (the
      steps run through `sciopt.train.iterate`, bit for bit as uninterrupted).

    **Returns:**

    A `VariationalTrajectory`.

    Reference: Fan, Taghvaei & Chen (ICML 2022).
    """
    prng_key("key", key)
    x = check_scheme(energy, method, VariationalWGF, network, x0)
    steps, every = check_schedule(steps, save_every)
    d = x.shape[1]
    if x.shape[0] < 2:
        raise ValueError("variational_wgf needs at least 2 particles (the reference Gaussian "
                         "is fitted to them)")
    key, sub = jax.random.split(key)
    if critic is None:
        critic = eqx.nn.MLP(d, "scalar", 64, 2, activation=jax.nn.softplus, key=sub,
                            dtype=x.dtype)
    solver = SchemeSteps(_variational_train, energy, method, (network, critic), (x,), steps,
                         every, method.iterations, True)
    try:
        out = iterate(solver, steps, key=key, chunk_size=1, checkpoint_dir=checkpoint_dir,
                      progress="lines" if progress else "off", description="variational WGF")
    except NonFiniteIteration as err:
        raise FloatingPointError(f"variational WGF step {err.result.step + 1}: the particles "
                                 f"are not finite (lower the learning rates)") from err
    (snaps,) = solver.snapshots(out.state)
    nets = solver.networks(out.state)
    ts = method.step_size * jnp.arange(0, steps + 1, every, dtype=x.dtype)
    return VariationalTrajectory(ts=ts, x=snaps, maps=tuple(n[0] for n in nets),
                                 critics=tuple(n[1] for n in nets),
                                 losses=out.state["losses"])


def _variational_train(models, pool, energy, method, key):
    """One variational step for `SchemeSteps`: the map, the critic and the pushed pool."""
    net, critic, x, losses = _train_step(*models, energy, method, *pool, key)
    return (net, critic), (x,), losses
