"""Shared pieces of the particle methods: checks on particle arrays, the trajectory output,
the blocked interaction force `-(1/M) sum_j grad_x W(x_i, y_j) w_j`, and `SnapshotSteps`,
the particle evolutions as `sciopt.train.iterate` solvers."""

from __future__ import annotations

import abc
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray, PyTree

from sciopt.kernels import kernel_matvec
from sciopt.train import AbstractIterativeSolver, iterate, scan_iterate
from sciopt.validate import array, is_concrete, positive_int


class ParticleTrajectory(eqx.Module):
    """Snapshots of a particle system.

    **Fields:**

    - `ts`: `[S]` the snapshot times (or step counts for SVGD).
    - `x`: `[S, N, d]` the positions.
    - `v`: `[S, N, d]` the velocities (underdamped Langevin), else `None`.
    """

    ts: Float[Array, " S"]
    x: Float[Array, "S N d"]
    v: Float[Array, "S N d"] | None = None

    @property
    def final(self) -> Float[Array, "N d"]:
        """The last snapshot's positions."""
        return self.x[-1]


def check_particles(name: str, x, dim: int | None = None, *, min_particles: int = 1
                    ) -> Array:
    """`x` as a float array `[N, d]` (integers promoted) with finite entries and at least
    `min_particles` rows, else a clear `ValueError` (the finiteness check runs through
    `require` when `x` is traced)."""
    x = array(name, x)
    if x.ndim != 2:
        raise ValueError(f"{name} must be a particle array [N, d]; got shape {x.shape}")
    if dim is not None and x.shape[1] != dim:
        raise ValueError(f"{name} must have dimension {dim} (particles [N, {dim}]); got shape "
                         f"{x.shape}")
    if x.shape[1] == 0:
        raise ValueError(f"{name} must be a particle array [N, d] with d >= 1; got shape "
                         f"{x.shape}")
    if x.shape[0] < min_particles:
        raise ValueError(f"{name} must hold at least {min_particles} particles; got "
                         f"{x.shape[0]}")
    return x


def check_function(name: str, fn, *args) -> None:
    """`fn(*args)` must trace to a scalar."""
    if not callable(fn):
        raise ValueError(f"{name} must be a function; got {fn!r}")
    try:
        out = jax.eval_shape(fn, *args)
    except Exception as err:  # e.g. written for another dimension
        shapes = ", ".join(str(tuple(jnp.shape(a))) for a in args)
        raise ValueError(f"{name} fails on arguments of shape {shapes} (a particle of this "
                         f"problem's dimension): {type(err).__name__}: "
                         f"{str(err).splitlines()[0] if str(err) else ''}") from err
    shape = getattr(out, "shape", None)
    if shape != ():
        raise ValueError(f"{name} must return a scalar; it returns shape {shape}")


def interaction_force(
    w: Callable[[Array, Array], Array],
    x: Float[Array, "n d"],
    y: Float[Array, "m d"],
    weights: Float[Array, " m"],
    *,
    block_size: int | None = None,
    mesh: jax.sharding.Mesh | None = None,
) -> Float[Array, "n d"]:
    """`-sum_j weights_j grad_1 w(x_i, y_j)` through `sciopt.kernels.kernel_matvec`'s blocked
    gradient: no n x m array is formed."""
    y = jax.lax.stop_gradient(y)
    weights = jax.lax.stop_gradient(weights)

    def total(z):
        return jnp.sum(kernel_matvec(w, z, y, weights, block_size=block_size, mesh=mesh,
                                     check=False))

    return -jax.grad(total)(x)


def check_schedule(steps, save_every) -> tuple[int, int]:
    """`(steps, save_every)` as positive ints with `save_every` (default `steps`) dividing
    `steps`."""
    steps = positive_int("steps", steps)
    every = steps if save_every is None else positive_int("save_every", save_every)
    if steps % every:
        raise ValueError(f"save_every = {every} must divide steps = {steps}")
    return steps, every


@eqx.filter_jit
def _largest_curvature(force, x, v):
    """Power iteration on the Jacobian of `force` at `x` (10 Jacobian-vector products)."""

    def body(_, carry):
        v, _ = carry
        w = jax.jvp(force, (x,), (v,))[1]
        norm = jnp.linalg.norm(w)
        return w / jnp.maximum(norm, 1e-300), norm

    _, lam = jax.lax.fori_loop(0, 10, body, (v / jnp.linalg.norm(v), jnp.zeros((), x.dtype)))
    return lam


def check_step_stability(name: str, dt: float, force: Callable, x: Array, *,
                         bound: float = 2.0, sample: int = 256) -> None:
    """Reject an explicit step `dt` with `dt * L > bound`, L the largest curvature of the
    drift (the spectral radius of the Jacobian of `force`, by power iteration on at most
    `sample` of the particles at `x`): the Euler-type schemes blow up beyond it on the
    linearised dynamics (`|1 - dt L| > 1`). A check at the initial particles, not a proof of
    stability along the path; it runs on concrete particles only (under a caller's
    transformation the bound is the caller's to respect)."""
    sub = x[:: max(1, -(-x.shape[0] // sample))]
    v = jax.random.normal(jax.random.key(0), sub.shape, sub.dtype)
    with jax.ensure_compile_time_eval():
        lam = _largest_curvature(force, sub, v)
    if not is_concrete(lam, dt):
        return
    lam = float(lam)
    if math.isfinite(lam) and dt * lam > bound:
        raise ValueError(f"{name} = {dt} is beyond the stability bound of the explicit scheme: "
                         f"the drift's largest curvature at the initial particles is "
                         f"L = {lam:.4g}, so {name} must be below {bound / lam:.4g} "
                         f"({name} * L <= {bound})")


def check_differentiable(name: str, fn: Callable, x: Array, sample: int = 16) -> None:
    """`fn` (a scalar function of one particle) must be differentiable by JAX, with finite
    gradients at the first `sample` particles of `x`."""
    try:
        jax.eval_shape(jax.grad(fn), x[0])
    except Exception as err:  # integer outputs, Python control flow on traced values, ...
        raise ValueError(f"{name} is not differentiable with JAX (it must be a jnp function "
                         f"returning a float): {type(err).__name__}: {err}") from err
    with jax.ensure_compile_time_eval():
        grads = jax.vmap(jax.grad(fn))(x[:sample])
    if not is_concrete(grads):
        return  # the gradient values are checked outside a caller's transformation only
    bad = ~jnp.all(jnp.isfinite(grads), axis=1)
    if bool(jnp.any(bad)):
        i = int(jnp.argmax(bad))
        raise ValueError(f"the gradient of {name} is not finite at particle {i} "
                         f"({x[i].tolist()})")


class SnapshotSteps(AbstractIterativeSolver):
    """A particle evolution as an iterative solver: each step of `sciopt.train.iterate` is
    one save interval, `every` inner steps (`advance`, one `lax.scan`), after which the
    snapshot `observe(carry)` is written into a buffer preallocated for every snapshot.
    The state is `(carry, snapshots, index)`; the first snapshot is the start's.

    Subclasses give `start` (the carry before the first step), `every`, `snapshots` (save
    intervals), `advance(carry, key) -> carry` (one inner step; the interval's key is split
    over its inner steps) and `observe(carry) -> pytree of arrays`.
    """

    start: eqx.AbstractVar[PyTree[Array]]
    every: eqx.AbstractVar[int]
    snapshots: eqx.AbstractVar[int]

    @abc.abstractmethod
    def advance(self, carry: PyTree[Array], key: PRNGKeyArray) -> PyTree[Array]:
        """One inner step."""

    @abc.abstractmethod
    def observe(self, carry: PyTree[Array]) -> PyTree[Array]:
        """What a snapshot records (positions, and velocities or the second player)."""

    def init(self, key):
        del key
        first = self.observe(self.start)
        buffer = jax.tree.map(
            lambda a: jnp.zeros((self.snapshots + 1,) + a.shape, a.dtype).at[0].set(a), first)
        return self.start, buffer, jnp.asarray(0)

    def step(self, state, key):
        carry, buffer, i = state
        carry, _ = jax.lax.scan(lambda c, k: (self.advance(c, k), None), carry,
                                jax.random.split(key, self.every))
        seen = self.observe(carry)
        buffer = jax.tree.map(lambda b, a: b.at[i + 1].set(a), buffer, seen)
        positions = jax.tree.leaves(seen)[0]
        return (carry, buffer, i + 1), {"mean_square": jnp.mean(positions**2)}


@eqx.filter_jit
def _scan_snapshots(solver, key):
    # compiled once per solver structure (as the particle loops always were); inlined
    # under a caller's jit
    return scan_iterate(solver, solver.snapshots, key=key)[0][1]


def run_snapshots(solver: SnapshotSteps, *, key: PRNGKeyArray,
                  checkpoint_dir: str | Path | None, progress: Any, description: str
                  ) -> PyTree[Array]:
    """The snapshot buffer after every step of `solver`: through `sciopt.train.iterate`
    (progress, JSON-lines metrics, checkpoints with bitwise resume, the NaN/Inf guard) when
    `checkpoint_dir` or `progress` asks for the host loop (checkpoints and progress at
snapshot boundaries, in about 20 chunks), else as one pure
    `sciopt.train.scan_iterate` (for callers' `jit`, `vmap`, `grad`). Both give the same
    result to round-off (they compile differently)."""
    if checkpoint_dir is None and progress in ("off", False, None):
        return _scan_snapshots(solver, key)
    chunk = max(1, math.ceil(solver.snapshots / 20))  # about 20 progress lines
    result = iterate(solver, solver.snapshots, key=key, chunk_size=chunk,
                     checkpoint_dir=checkpoint_dir, progress=progress,
                     description=description)
    return result.state[1]
