"""Shared pieces of the particle methods: checks on particle arrays, the trajectory output,
and the blocked interaction force `-(1/M) sum_j grad_x W(x_i, y_j) w_j`."""

from __future__ import annotations

from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from sciopt._validate import positive_int
from sciopt.kernels import kernel_matvec


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


def check_particles(name: str, x, dim: int | None = None) -> Array:
    """`x` as a float array `[N, d]` with finite entries, else a clear `ValueError`."""
    x = jnp.asarray(x)
    if not jnp.issubdtype(x.dtype, jnp.floating):
        x = x.astype(jnp.result_type(float))
    if x.ndim != 2 or x.shape[0] == 0 or x.shape[1] == 0:
        raise ValueError(f"{name} must be a non-empty particle array [N, d]; got shape "
                         f"{x.shape}")
    if dim is not None and x.shape[1] != dim:
        raise ValueError(f"{name} must have dimension {dim}; got shape {x.shape}")
    if not bool(jnp.all(jnp.isfinite(x))):
        raise ValueError(f"{name} contains NaN or Inf")
    return x


def check_function(name: str, fn, *args) -> None:
    """`fn(*args)` must trace to a scalar."""
    if not callable(fn):
        raise ValueError(f"{name} must be a function; got {fn!r}")
    shape = jax.eval_shape(fn, *args).shape
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
        return jnp.sum(kernel_matvec(w, z, y, weights, block_size=block_size, mesh=mesh))

    return -jax.grad(total)(x)


def check_schedule(steps, save_every) -> tuple[int, int]:
    """`(steps, save_every)` as positive ints with `save_every` (default `steps`) dividing
    `steps`."""
    steps = positive_int("steps", steps)
    every = steps if save_every is None else positive_int("save_every", save_every)
    if steps % every:
        raise ValueError(f"save_every = {every} must divide steps = {steps}")
    return steps, every
