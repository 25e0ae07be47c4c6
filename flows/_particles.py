"""Shared pieces of the particle methods: checks on particle arrays, the trajectory output,
and the blocked interaction force `-(1/M) sum_j grad_x W(x_i, y_j) w_j`."""

from __future__ import annotations

import math
from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from sciopt.kernels import kernel_matvec
from sciopt.validate import is_concrete, positive_int, require


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
    """`x` as a float array `[N, d]` with finite entries, else a clear `ValueError` (the
    finiteness check runs through `require` when `x` is traced)."""
    x = jnp.asarray(x)
    if not jnp.issubdtype(x.dtype, jnp.floating):
        x = x.astype(jnp.result_type(float))
    if x.ndim != 2 or x.shape[0] == 0 or x.shape[1] == 0:
        raise ValueError(f"{name} must be a non-empty particle array [N, d]; got shape "
                         f"{x.shape}")
    if dim is not None and x.shape[1] != dim:
        raise ValueError(f"{name} must have dimension {dim}; got shape {x.shape}")
    return require(x, lambda: jnp.isfinite(x), f"{name} contains NaN or Inf")


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
