"""Symmetric mean-field Langevin dynamics for distributional minimax problems: MFL-AG
(averaged gradient) and plain descent-ascent (MFL-DA).

The game is

    min_mu max_nu  L(mu, nu) + lambda Ent(mu) - lambda Ent(nu),
    L(mu, nu) = ∫∫ Q(x, y) dmu(x) dnu(y) + ∫ U dmu - ∫ V dnu,

whose mixed Nash equilibrium satisfies `mu ∝ exp(-(∫ Q(., y) dnu + U) / lambda)` and
`nu ∝ exp((∫ Q(x, .) dmu - V) / lambda)`. MFL-AG moves both particle systems with
Langevin steps along the gradient of the first variation averaged over all past iterates
with weights `beta_k = k^r`:

    X_{k+1} = X_k - eta grad_x [U + sum_{j <= k} (beta_j / B_k) ∫ Q(., y) dnu_j](X_k)
              + sqrt(2 lambda eta) xi,                               B_k = sum_j beta_j,

and symmetrically (ascent) for Y. With `averaged=False` only the current iterate enters
(descent-ascent).

The average over the past is exact and O(1) in memory when the payoff is given as features,
`Q(x, y) = phi(x) . psi(y)` (`MinimaxGame(features=(phi, psi))`): only the weighted means of
`phi` and `psi` are carried. For a general payoff the past iterates are kept in a ring
buffer of `history` snapshots taken every `record_every` steps (exact when the buffer holds
every step), and the averaged force is one blocked kernel sum (`sciopt.kernels`) over the
buffer.

Reference: Kim, Yamamoto, Oko, Yang & Suzuki, "Symmetric mean-field Langevin dynamics for
distributional minimax problems" (ICLR 2024).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray

from sciopt.validate import positive_int, prng_key, real

from ._particles import (
    SnapshotSteps,
    check_function,
    check_particles,
    check_schedule,
    check_step_stability,
    interaction_force,
    run_snapshots,
)


class MinimaxGame(eqx.Module):
    """`L(mu, nu) = ∫∫ Q dmu dnu + ∫ U dmu - ∫ V dnu` (mu minimises, nu maximises).

    **Arguments:**

    - `payoff`: `Q(x [d], y [e]) -> scalar`; or
    - `features`: a pair `(phi: x [d] -> [k], psi: y [e] -> [k])` with
      `Q(x, y) = phi(x) . psi(y)` (exact averaging in O(1) memory).
    - `potential_x`: `U(x) -> scalar` or `None`; `potential_y`: `V(y) -> scalar` or `None`
      (a confining `V` makes the max player's problem well posed).
    - `block_size`, `mesh`: passed to `sciopt.kernels` for a general payoff.
    """

    payoff: Callable | None = None
    features: tuple[Callable, Callable] | None = None
    potential_x: Callable | None = None
    potential_y: Callable | None = None
    block_size: int | None = eqx.field(static=True, default=None)
    mesh: jax.sharding.Mesh | None = eqx.field(static=True, default=None)

    def __check_init__(self):
        if (self.payoff is None) == (self.features is None):
            raise ValueError("MinimaxGame needs exactly one of payoff= (Q(x, y)) and "
                             "features= ((phi, psi) with Q = phi(x) . psi(y))")
        if self.features is not None and (len(self.features) != 2
                                          or not all(map(callable, self.features))):
            raise ValueError("features must be a pair of functions (phi, psi)")

    def check(self, x, y):
        if self.payoff is not None:
            check_function("payoff", self.payoff, x[0], y[0])
        else:
            phi, psi = self.features
            a, b = jax.eval_shape(phi, x[0]).shape, jax.eval_shape(psi, y[0]).shape
            if len(a) != 1 or a != b:
                raise ValueError(f"features phi(x) and psi(y) must be vectors of one length; "
                                 f"got shapes {a} and {b}")
        if self.potential_x is not None:
            check_function("potential_x", self.potential_x, x[0])
        if self.potential_y is not None:
            check_function("potential_y", self.potential_y, y[0])

    def value(self, x: Float[Array, "N d"], y: Float[Array, "M e"]) -> Float[Array, ""]:
        """`L(mu_N, nu_M)` for the empirical measures of `x` and `y` (dense in N x M for a
        general payoff: meant for monitoring small systems)."""
        if self.payoff is not None:
            q = jnp.mean(jax.vmap(lambda a: jnp.mean(jax.vmap(lambda b: self.payoff(a, b))(y)))(x))
        else:
            phi, psi = self.features
            q = jnp.mean(jax.vmap(phi)(x), 0) @ jnp.mean(jax.vmap(psi)(y), 0)
        if self.potential_x is not None:
            q = q + jnp.mean(jax.vmap(self.potential_x)(x))
        if self.potential_y is not None:
            q = q - jnp.mean(jax.vmap(self.potential_y)(y))
        return q


class SymmetricMFL(eqx.Module):
    """MFL-AG (default) or MFL-DA for a `MinimaxGame`.

    **Arguments:**

    - `temperature`: lambda > 0, the entropic regularisation of both players.
    - `dt`: the step eta.
    - `averaged`: MFL-AG's weighted average over past iterates (`True`) or the current
      iterate only (`False`, descent-ascent).
    - `weight_exponent`: r in `beta_k = k^r` (the paper takes r > 0).
    - `history`, `record_every`: the ring buffer for a general payoff (ignored for
      `features`).

    `temperature`, `dt` and `weight_exponent` are array leaves (no recompile for new
    values; `vmap` / `grad` over them work).

    Reference: Kim et al., ICLR 2024.
    """

    temperature: Float[Array, ""]
    dt: Float[Array, ""]
    averaged: bool = eqx.field(static=True)
    weight_exponent: Float[Array, ""]
    history: int = eqx.field(static=True)
    record_every: int = eqx.field(static=True)

    def __init__(self, temperature: float, dt: float, averaged: bool = True,
                 weight_exponent: float = 1.0, history: int = 32, record_every: int = 1):
        self.temperature = real("temperature", temperature)
        self.dt = real("dt", dt)
        self.averaged = bool(averaged)
        self.weight_exponent = real("weight_exponent", weight_exponent, low_inclusive=True)
        self.history = positive_int("history", history)
        self.record_every = positive_int("record_every", record_every)


class MinimaxTrajectory(eqx.Module):
    """Snapshots of the two particle systems: `ts [S]` (step counts), `x [S, N, d]`,
    `y [S, M, e]`."""

    ts: Float[Array, " S"]
    x: Float[Array, "S N d"]
    y: Float[Array, "S M e"]


def _grad_potential(fn, z):
    return jnp.zeros_like(z) if fn is None else jax.vmap(jax.grad(fn))(z)


def _feature_forces(game, x, y, fx_bar, fy_bar):
    """Forces from the averaged features: descent for x, ascent for y."""
    phi, psi = game.features
    gx = jax.vmap(lambda a: jax.grad(lambda z: phi(z) @ fy_bar)(a))(x)
    gy = jax.vmap(lambda b: jax.grad(lambda z: fx_bar @ psi(z))(b))(y)
    return -gx, gy


def _pad(z, dim):
    return jnp.pad(z, [(0, 0)] * (z.ndim - 1) + [(0, dim - z.shape[-1])])


def _buffer_forces(game, x, y, hx, hy, w):
    """Forces from the weighted ring buffers `hx [H, N, d]`, `hy [H, M, e]`, `w [H]`.
    (Both clouds are zero-padded to one dimension for `sciopt.kernels`.)"""
    h, n, d = hx.shape
    m, e = hy.shape[1:]
    dim = max(d, e)
    total = jnp.sum(w)
    wy = jnp.repeat(w / (total * m), m)
    wx = jnp.repeat(w / (total * n), n)
    fx = interaction_force(lambda a, b: game.payoff(a[:d], b[:e]), _pad(x, dim),
                           _pad(hy.reshape(h * m, e), dim), wy,
                           block_size=game.block_size, mesh=game.mesh)
    fy = -interaction_force(lambda b, a: game.payoff(a[:d], b[:e]), _pad(y, dim),
                            _pad(hx.reshape(h * n, d), dim), wx,
                            block_size=game.block_size, mesh=game.mesh)
    return fx[:, :d], fy[:, :e]


class _MinimaxSteps(SnapshotSteps):
    """MFL-AG / MFL-DA steps for `sciopt.train.iterate`: the carry is both particle
    systems, the players' memory (feature averages or the history buffer) and the step
    count."""

    game: MinimaxGame
    method: SymmetricMFL
    start: tuple
    every: int = eqx.field(static=True)
    snapshots: int = eqx.field(static=True)

    def advance(self, carry, key):
        game, method = self.game, self.method
        x, y, mem, k = carry
        eta, r = method.dt, method.weight_exponent
        noise = jnp.sqrt(2 * method.temperature * eta).astype(x.dtype)
        kx, ky = jax.random.split(key)
        beta = (k + 1.0) ** r
        if game.features is not None:
            phi, psi = game.features
            sx, sy, btot = mem
            mx, my = jnp.mean(jax.vmap(phi)(x), 0), jnp.mean(jax.vmap(psi)(y), 0)
            if method.averaged:
                sx, sy, btot = sx + beta * mx, sy + beta * my, btot + beta
                fx, fy = _feature_forces(game, x, y, sx / btot, sy / btot)
            else:
                fx, fy = _feature_forces(game, x, y, mx, my)
            mem = (sx, sy, btot)
        else:
            hsize = mem[0].shape[0]
            rec = 1 if not method.averaged else method.record_every
            slot = (k // rec) % hsize

            def record(m):
                hx, hy, w = m
                return (hx.at[slot].set(x), hy.at[slot].set(y), w.at[slot].set(beta))

            mem = jax.lax.cond(k % rec == 0, record, lambda m: m, mem)
            fx, fy = _buffer_forces(game, x, y, *mem)
        fx = fx - _grad_potential(game.potential_x, x)
        fy = fy - _grad_potential(game.potential_y, y)
        x = x + eta * fx + noise * jax.random.normal(kx, x.shape, x.dtype)
        y = y + eta * fy + noise * jax.random.normal(ky, y.shape, y.dtype)
        return x, y, mem, k + 1

    def observe(self, carry):
        return carry[0], carry[1]


def _minimax_steps(game, method, x0, y0, snapshots, every) -> _MinimaxSteps:
    if game.features is not None:
        k = jax.eval_shape(game.features[0], x0[0]).shape[0]
        memory = (jnp.zeros(k, x0.dtype), jnp.zeros(k, x0.dtype), jnp.zeros((), x0.dtype))
    else:
        hsize = 1 if not method.averaged else method.history
        memory = (jnp.zeros((hsize,) + x0.shape, x0.dtype),
                  jnp.zeros((hsize,) + y0.shape, y0.dtype), jnp.zeros(hsize, x0.dtype))
    start = (x0, y0, memory, jnp.zeros((), jnp.int32))
    return _MinimaxSteps(game=game, method=method, start=start, every=every,
                         snapshots=snapshots)


def minimax_langevin(
    game: MinimaxGame,
    method: SymmetricMFL,
    x0: Float[Array, "N d"],
    y0: Float[Array, "M e"],
    *,
    steps: int,
    key: PRNGKeyArray,
    save_every: int | None = None,
    checkpoint_dir: str | Path | None = None,
    progress: Any = "off",
) -> MinimaxTrajectory:
    """Run MFL-AG (or MFL-DA) from the particle systems `x0` (min player) and `y0` (max
    player) for `steps` steps.

    **Arguments:**

    - `game`: a `MinimaxGame`; `method`: a `SymmetricMFL`.
    - `x0`: `[N, d]`; `y0`: `[M, e]`.
    - `steps`: the number of steps; `save_every` (default `steps`) must divide it.
    - `key`: PRNG key for the noise.
    - `checkpoint_dir`, `progress`: run through `sciopt.train.iterate` (checkpoints with
      bitwise resume, progress, metrics, the NaN/Inf guard; at snapshot boundaries) instead
      of one pure scan; the result is the same to round-off. Leave both unset inside
      `jax.jit`.

    **Returns:**

    A `MinimaxTrajectory` with snapshots at steps `0, save_every, ..., steps`.

    Reference: Kim, Yamamoto, Oko, Yang & Suzuki (ICLR 2024).
    """
    prng_key("key", key)
    if not isinstance(game, MinimaxGame):
        raise ValueError(f"game must be a flows.MinimaxGame; got {type(game).__name__}")
    if not isinstance(method, SymmetricMFL):
        raise ValueError(f"method must be a flows.SymmetricMFL; got {type(method).__name__}")
    steps, every = check_schedule(steps, save_every)
    x0, y0 = check_particles("x0", x0), check_particles("y0", y0)
    game.check(x0, y0)
    for potential, z in ((game.potential_x, x0), (game.potential_y, y0)):
        if potential is not None:
            check_step_stability("dt", method.dt,
                                 lambda p, u=potential: -_grad_potential(u, p), z)
    solver = _minimax_steps(game, method, x0, y0, steps // every, every)
    xs, ys = run_snapshots(solver, key=key, checkpoint_dir=checkpoint_dir,
                           progress=progress, description="minimax Langevin")
    return MinimaxTrajectory(ts=jnp.arange(0, steps + 1, every), x=xs, y=ys)
