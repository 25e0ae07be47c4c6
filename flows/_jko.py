"""The JKO scheme with input-convex networks (JKO-ICNN): Wasserstein gradient flows of free
energies, one learnt Brenier map per step, with the density tracked through the change of
variables.

One JKO step of size tau from mu_k looks for the push-forward `mu_{k+1} = (grad psi)# mu_k`
with psi convex that minimises

    E_{x ~ mu_k} [ |grad psi(x) - x|^2 / (2 tau) ] + F((grad psi)# mu_k),

    F(rho) = ∫ V drho + 1/2 ∫∫ W drho drho + G(rho) + lambda ∫ rho log rho + ∫ U(rho) dx.

For `rho = T# mu` with T = grad psi invertible, `rho(T(x)) = mu(x) / det grad^2 psi(x)`, so
`∫ rho log rho = E_mu[log mu] - E_mu[log det grad^2 psi]` and
`∫ U(rho) dx = E_mu[U(rho(T(x))) / rho(T(x))]`: every term is an expectation over samples of
mu_k, minimised by stochastic gradients over minibatches. The samples of mu_k (a pool of
particles with their log-densities) are pushed through each learnt map, so after K steps the
pool is an i.i.d. sample of mu_K with exact (model) log-densities, and the density at any
other point follows by inverting the maps (strongly convex minimisation, optimistix Newton).

Reference: Mokrov, Korotin, Li, Genevay, Solomon & Burnaev, "Large-scale Wasserstein
gradient flows" (NeurIPS 2021); Jordan, Kinderlehrer & Otto, "The variational formulation of
the Fokker–Planck equation" (SIAM J. Math. Anal. 1998).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import optax
import optimistix as optx
from jaxtyping import Array, Float, PRNGKeyArray

from sciopt.train import NonFiniteIteration, iterate
from sciopt.validate import array, positive_int, prng_key, real

from ._convex import ICNN, ConvexGradientNet
from ._energy import MeanFieldEnergy
from ._particles import check_function, check_particles, check_schedule
from ._schemes import SchemeSteps, has_entropy


@functools.cache
def _default_optimizer(iterations: int) -> optax.GradientTransformation:
    """The paper's Adam (5e-3, cosine decay over a step's iterations): one object per
    iteration count, so new JKO settings with the default reuse the compiled steps."""
    return optax.adam(optax.cosine_decay_schedule(5e-3, iterations, 0.05))


class JKO(eqx.Module):
    """The JKO-ICNN scheme's settings.

    **Arguments:**

    - `step_size`: tau, the JKO step (the paper: 0.05 for Ornstein–Uhlenbeck).
    - `temperature`: lambda >= 0, the weight of the entropy `∫ rho log rho`.
    - `internal`: `U(rho) -> energy density` (elementwise) for an internal energy
      `∫ U(rho) dx`, e.g. `lambda r: r**2` for the porous-medium equation with m = 2; or
      `None`.
    - `iterations`: optimiser steps per JKO step (paper: 500); `batch_size`: samples per
      step (paper: 1024).
    - `optimizer`: an optax transformation (default Adam with the paper's 5e-3 and a cosine
      decay over each JKO step's iterations).
    - `warm_start`: start each step's network from the previous step's (default) rather
      than from the initial one.

    `step_size` and `temperature` are array leaves (a new value does not recompile; a
    caller may `vmap` over them); whether the entropy term is there at all (`temperature`
    nonzero, or traced) is static, as it decides whether the log-determinants are computed.

    Reference: Mokrov et al., "Large-scale Wasserstein gradient flows" (NeurIPS 2021).
    """

    step_size: Float[Array, ""]
    temperature: Float[Array, ""]
    entropy: bool = eqx.field(static=True)
    internal: Callable | None = eqx.field(static=True)
    iterations: int = eqx.field(static=True)
    batch_size: int = eqx.field(static=True)
    optimizer: optax.GradientTransformation = eqx.field(static=True)
    warm_start: bool = eqx.field(static=True)

    def __init__(self, step_size: float, *, temperature: float = 0.0,
                 internal: Callable | None = None, iterations: int = 500,
                 batch_size: int = 1024, optimizer: optax.GradientTransformation | None = None,
                 warm_start: bool = True):
        self.step_size = real("step_size", step_size)
        self.temperature = real("temperature", temperature, low_inclusive=True)
        self.entropy = has_entropy(self.temperature)
        if internal is not None and not callable(internal):
            raise ValueError(f"internal must be a function U(rho); got {internal!r}")
        self.internal = internal
        self.iterations = positive_int("iterations", iterations)
        self.batch_size = positive_int("batch_size", batch_size)
        self.optimizer = _default_optimizer(self.iterations) if optimizer is None else optimizer
        self.warm_start = bool(warm_start)

    @property
    def has_internal(self) -> bool:
        """Whether the free energy has an entropy or internal-energy term."""
        return self.entropy or self.internal is not None


def _logdet(net, x):
    """`log det grad^2 psi(x)` by Cholesky (the Hessian is SPD by construction)."""
    chol = jnp.linalg.cholesky(net.jacobian(x))
    return 2.0 * jnp.sum(jnp.log(jnp.diagonal(chol)))


def _push(net, x, log_rho):
    y = jax.vmap(net.transport)(x)
    return y, log_rho - jax.vmap(lambda z: _logdet(net, z))(x)


def _objective(net, energy, method, x, log_rho):
    y, log_new = _push(net, x, log_rho)
    loss = jnp.mean(jnp.sum((y - x) ** 2, axis=1)) / (2 * method.step_size)
    if energy is not None:
        loss = loss + energy.value(y)
    if method.entropy:
        # ∫ rho log rho = E_mu[log rho_new(T x)]; log mu is a constant of this step.
        loss = loss + method.temperature * jnp.mean(log_new - log_rho)
    if method.internal is not None:
        rho = jnp.exp(log_new)
        loss = loss + jnp.mean(method.internal(rho) / rho)
    return loss


@eqx.filter_jit
def _train_step(net, energy, method, x, log_rho, key):
    params, static = eqx.partition(net, eqx.is_inexact_array)
    opt_state = method.optimizer.init(params)

    def iteration(carry, k):
        params, opt_state = carry
        idx = jax.random.randint(k, (method.batch_size,), 0, x.shape[0])

        def loss_fn(p):
            return _objective(eqx.combine(p, static), energy, method, x[idx], log_rho[idx])

        loss, grads = jax.value_and_grad(loss_fn)(params)
        updates, opt_state = method.optimizer.update(grads, opt_state, params)
        return (optax.apply_updates(params, updates), opt_state), loss

    keys = jax.random.split(key, method.iterations)
    (params, _), losses = jax.lax.scan(iteration, (params, opt_state), keys)
    net = eqx.combine(params, static)
    y, log_new = _push(net, x, log_rho)
    return net, y, log_new, losses


def _tolerance(dtype):
    return float(jnp.finfo(dtype).eps) ** 0.75


@eqx.filter_jit
def _pull(net, y):
    """`(T^{-1}(y), log det grad^2 psi(T^{-1} y))` by Newton on `T(x) = y` (T is the gradient
    of a strongly convex function, so the root is unique)."""
    tol = _tolerance(y.dtype)
    solver = optx.Newton(rtol=tol, atol=tol)

    def one(target):
        sol = optx.root_find(lambda x, t: net.transport(x) - t, solver, target, args=target,
                             max_steps=100)
        return sol.value, _logdet(net, sol.value)

    return jax.vmap(one)(y)


class JKOTrajectory(eqx.Module):
    """The output of `jko`.

    **Fields:**

    - `ts`: `[S]` snapshot times (multiples of the step size).
    - `x`: `[S, P, d]` the particle pool at those times (an i.i.d. sample of each mu_k).
    - `log_density`: `[S, P]` the model log-density at the pool particles.
    - `maps`: the learnt convex potentials, one per JKO step (`maps[k]` pushes mu_k to
      mu_{k+1}).
    - `losses`: `[steps, iterations]` the training objective of every step.
    """

    ts: Float[Array, " S"]
    x: Float[Array, "S P d"]
    log_density: Float[Array, "S P"]
    maps: tuple
    losses: Float[Array, "K I"]

    @property
    def final(self) -> Float[Array, "P d"]:
        """The last snapshot's particles."""
        return self.x[-1]

    def push(self, x: Float[Array, "n d"], log_density0: Float[Array, " n"], steps: int | None
             = None) -> tuple[Float[Array, "n d"], Float[Array, " n"]]:
        """Push fresh samples `x` of mu_0 (with their log-densities) through the first
        `steps` maps (default all): samples of mu_steps with their model log-densities."""
        x = check_particles("x", x, self.x.shape[-1])
        log_rho = jnp.asarray(log_density0, x.dtype)
        if log_rho.shape != x.shape[:1]:
            raise ValueError(f"log_density0 must have shape {x.shape[:1]}; got {log_rho.shape}")
        for net in self.maps[:steps]:
            x, log_rho = _push_jit(net, x, log_rho)
        return x, log_rho

    def log_prob(self, y: Float[Array, "n d"], log_density0: Callable, steps: int | None = None
                 ) -> Float[Array, " n"]:
        """The model log-density of mu_steps (default the last) at arbitrary points `y`, by
        inverting the maps back to mu_0, whose log-density is `log_density0(x [d])`."""
        y = check_particles("y", y, self.x.shape[-1])
        check_function("log_density0", log_density0, y[0])
        total = jnp.zeros(y.shape[0], y.dtype)
        for net in reversed(self.maps[:steps]):
            y, logdet = _pull(net, y)
            total = total - logdet
        return total + jax.vmap(log_density0)(y)


_push_jit = eqx.filter_jit(_push)


def check_scheme(energy, method, method_type, network, x0) -> Array:
    """The checks shared by the neural JKO schemes; returns `x0` as a checked `[P, d]`
    array."""
    if energy is not None and not isinstance(energy, MeanFieldEnergy):
        raise ValueError(f"energy must be a flows.MeanFieldEnergy or None; got "
                         f"{type(energy).__name__}")
    if not isinstance(method, method_type):
        raise ValueError(f"method must be a flows.{method_type.__name__}; got "
                         f"{type(method).__name__}")
    if not isinstance(network, (ICNN, ConvexGradientNet)):
        raise ValueError("network must be a flows.ICNN or flows.ConvexGradientNet; got "
                         f"{type(network).__name__}")
    if energy is None and not method.has_internal:
        raise ValueError("the free energy is empty: give an energy, a temperature > 0 or an "
                         "internal energy")
    x0 = check_particles("x0", x0, network.quadratic.shift.shape[0])
    if energy is not None:
        energy.check(x0)
    return x0


def jko(
    energy: MeanFieldEnergy | None,
    method: JKO,
    network: ICNN | ConvexGradientNet,
    x0: Float[Array, "P d"],
    log_density0: Float[Array, " P"],
    *,
    steps: int,
    key: PRNGKeyArray,
    save_every: int | None = None,
    progress: bool = False,
    checkpoint_dir: str | Path | None = None,
) -> JKOTrajectory:
    """Run `steps` JKO steps from the pool `x0` (an i.i.d. sample of mu_0) with
    log-densities `log_density0`.

    **Arguments:**

    - `energy`: a `MeanFieldEnergy` (potential, interaction and a functional evaluated on
      each minibatch), or `None` for a pure entropy / internal-energy flow.
    - `method`: a `JKO`.
    - `network`: the initial convex potential, an `ICNN` or a `ConvexGradientNet` (its
      initial map is the identity).
    - `x0`, `log_density0`: `[P, d]` samples of mu_0 and `[P]` their log-densities. Make
      the pool large against `iterations * batch_size`: every step draws its minibatches
      from these P particles, and a small pool is over-fitted (on the OU benchmark at
      d = 12, P = 32768 gave a symmetric KL of 0.019, P = 131072 gave 0.0018).
    - `steps`: the number of JKO steps; `save_every` (default `steps`) must divide it.
    - `key`: PRNG key for the minibatches.
    - `progress`: print one line per step (loss, rate).
    - `checkpoint_dir`: checkpoint after every step (atomically) and resume from the newest
      checkpoint there; the steps run through `sciopt.train.iterate`, step `k` with
      `fold_in` of `key` with `k`, so a resumed run is the uninterrupted one, bit for bit.

    **Returns:**

    A `JKOTrajectory`.

    Reference: Mokrov et al. (NeurIPS 2021).
    """
    prng_key("key", key)
    x0 = check_scheme(energy, method, JKO, network, x0)
    steps, every = check_schedule(steps, save_every)
    log_rho = array("log_density0", log_density0, shape=x0.shape[:1]).astype(x0.dtype)
    solver = SchemeSteps(_jko_train, energy, method, (network,), (x0, log_rho), steps, every,
                         method.iterations, method.warm_start)
    try:
        out = iterate(solver, steps, key=key, chunk_size=1, checkpoint_dir=checkpoint_dir,
                      progress="lines" if progress else "off", description="JKO")
    except NonFiniteIteration as err:
        raise FloatingPointError(f"JKO step {err.result.step + 1}: the pushed particles are "
                                 f"not finite (lower the learning rate or raise "
                                 f"min_curvature)") from err
    x, log_density = solver.snapshots(out.state)
    maps = tuple(nets[0] for nets in solver.networks(out.state))
    ts = method.step_size * jnp.arange(0, steps + 1, every, dtype=x0.dtype)
    return JKOTrajectory(ts=ts, x=x, log_density=log_density, maps=maps,
                         losses=out.state["losses"])


def _jko_train(models, pool, energy, method, key):
    """One JKO step for `SchemeSteps`: the network, the pushed pool and log-densities."""
    net, y, log_new, losses = _train_step(models[0], energy, method, *pool, key)
    return (net,), (y, log_new), losses
