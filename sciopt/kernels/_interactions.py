"""Public kernel reductions: `kernel_matvec` and `kernel_logsumexp`."""

from __future__ import annotations

from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from ..validate import array, real
from . import _blocked

Pairwise = Callable[[Float[Array, " d"], Float[Array, " d"]], Float[Array, ""]]


def _prepare(name: str, fn, x, y, v, *, check: bool, log_weights: bool):
    if not callable(fn):
        raise ValueError(f"{name} must be a function of two points (x_i, y_j); got {fn!r}")
    x = array("x", x, shape=("n", "d"), finite=check, min_size=1)
    y = array("y", y, shape=("m", "d"), finite=check, min_size=1)
    # integer weights are promoted to floats, never truncated; -inf is a log-weight of 0
    v_dtype = getattr(v, "dtype", None)  # lists and ints follow the points' dtype
    v_float = v_dtype is not None and jnp.issubdtype(v_dtype, jnp.floating)
    v = array("v", v, ndim=(1, 2), finite=check and ("not_positive_inf" if log_weights
                                                     else True))
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"x and y must have the same dimension d; got {x.shape[1]} and "
                         f"{y.shape[1]}")
    if v.shape[0] != y.shape[0]:
        raise ValueError(f"v must have shape (m,) or (m, k) with m = {y.shape[0]} (the number "
                         f"of y points); got {v.shape}")
    out_shape = jax.eval_shape(fn, x[0], y[0]).shape
    if out_shape != ():
        raise ValueError(f"{name}(x_i, y_j) must return a scalar; it returns shape {out_shape}")
    dtype = jnp.result_type(x, y, v) if v_float else jnp.result_type(x, y)
    return x.astype(dtype), y.astype(dtype), v.astype(dtype)


def _run(op, fn, x, y, v, block_size, mesh):
    vector = v.ndim == 1
    v2 = v[:, None] if vector else v
    width = 1 if hasattr(fn, "block") else x.shape[1]
    bx, by = _blocked.block_sizes(block_size, x.shape[0], y.shape[0], width)
    # The kernel's array leaves (a bandwidth, an epsilon) are arguments of the custom VJP,
    # so they may be traced and are differentiated; the rest of it is static.
    params, static = eqx.partition(fn, eqx.is_array)
    if mesh is None:
        out = op(static, bx, by, params, x, y, v2)
    else:
        spec = jax.sharding.PartitionSpec
        axis = mesh.axis_names[0]
        ndev = mesh.shape[axis]
        n = x.shape[0]
        pad = (-n) % ndev
        xp = jnp.concatenate([x, jnp.broadcast_to(x[:1], (pad, x.shape[1]))]) if pad else x
        bx = min(bx, xp.shape[0] // ndev)
        sharded = jax.shard_map(lambda ps, xs, ys, vs: op(static, bx, by, ps, xs, ys, vs),
                                mesh=mesh, in_specs=(spec(), spec(axis), spec(), spec()),
                                out_specs=spec(axis), check_vma=False)
        out = sharded(params, xp, y, v2)[:n]
    return out[:, 0] if vector else out


def kernel_matvec(
    kernel: Pairwise,
    x: Float[Array, "n d"],
    y: Float[Array, "m d"],
    v: Float[Array, "m ..."],
    *,
    block_size: int | tuple[int, int] | None = None,
    mesh: jax.sharding.Mesh | None = None,
    check: bool = True,
) -> Float[Array, "n ..."]:
    """`out_i = sum_j kernel(x_i, y_j) v_j` without forming the n x m kernel matrix.

    **Arguments:**

    - `kernel`: a traceable function of two points `(x_i [d], y_j [d]) -> scalar`.
    - `x`, `y`: point clouds `[n, d]`, `[m, d]`; `v`: weights `[m]` or `[m, k]`.
    - `block_size`: rows and columns per block (an int or a pair); memory is
      O((n + m) d + block^2). Default 1024 (capped at n, m).
    - `mesh`: a `jax.sharding.Mesh`; the rows of `x` are split over its first axis and `y`
      is streamed on every device.
    - `check`: check that `x`, `y`, `v` hold no NaN / Inf (at once on concrete arrays,
      through `equinox.error_if` on traced ones); `False` skips it, for callers whose loop
      already guards its values.

    **Returns:**

    `[n]` or `[n, k]` (integer weights are promoted to floats). Gradients with respect to
    `x`, `y` and `v` are blocked the same way (custom VJP): differentiating never
    materialises n x m either.

    References: Charlier, Feydy, Glaunès, Collin & Durif, "Kernel operations on the GPU, with
    autodiff, without memory overflows" (KeOps, JMLR 2021).
    """
    x, y, v = _prepare("kernel", kernel, x, y, v, check=check, log_weights=False)
    return _run(_blocked.matvec, kernel, x, y, v, block_size, mesh)


def kernel_logsumexp(
    score: Pairwise,
    x: Float[Array, "n d"],
    y: Float[Array, "m d"],
    v: Float[Array, "m ..."],
    *,
    block_size: int | tuple[int, int] | None = None,
    mesh: jax.sharding.Mesh | None = None,
    check: bool = True,
) -> Float[Array, "n ..."]:
    """`out_i = log sum_j exp(score(x_i, y_j) + v_j)`, streamed (online max and sum), without
    forming the n x m score matrix.

    **Arguments:**

    - `score`: a traceable function `(x_i [d], y_j [d]) -> scalar`, e.g. `-|x - y|^2 / eps`.
    - `x`, `y`, `v`, `block_size`, `mesh`, `check`: as for `kernel_matvec` (`v` may hold
      `-inf`, the log of a zero weight).

    **Returns:**

    `[n]` or `[n, k]`; blocked gradients (softmax weights recomputed per block).

    References: Milakov & Gimelshein, "Online normalizer calculation for softmax" (2018);
    Feydy et al., "Interpolating between optimal transport and MMD using Sinkhorn
    divergences" (AISTATS 2019).
    """
    x, y, v = _prepare("score", score, x, y, v, check=check, log_weights=True)
    return _run(_blocked.logsumexp, score, x, y, v, block_size, mesh)


def pairwise(fn: Pairwise, x: Float[Array, "a d"], y: Float[Array, "b d"]) -> Array:
    """`fn(x_i, y_j)` for two small point sets, shape `[a, b]` (the whole matrix: use
    `kernel_matvec` / `kernel_logsumexp` for large sets). A function with a `block(x, y)`
    method (the built-in kernels) computes the block itself."""
    if not callable(fn):
        raise ValueError(f"fn must be a function of two points (x_i, y_j); got {fn!r:.60}")
    x = array("x", x, shape=("a", "d"), traced=False)
    y = array("y", y, shape=("b", x.shape[1]), traced=False)
    return _blocked.pairwise(fn, x, y)


def squared_distances(x: Float[Array, "a d"], y: Float[Array, "b d"]) -> Float[Array, "a b"]:
    """`|x_i - y_j|^2` for two small point sets. For d <= 16 the differences are summed
    coordinate by coordinate (exact, and a layout XLA vectorises); above that through one
    matrix product, `|x|^2 + |y|^2 - 2 x.y`, clipped at zero. (NaN / Inf are refused in
    concrete inputs; traced ones are the caller's to guard.)"""
    x = array("x", x, shape=("a", "d"), traced=False)
    y = array("y", y, shape=("b", x.shape[1]), traced=False)
    return _squared_distances(x, y)


def _squared_distances(x, y):
    d = x.shape[-1]
    if d <= 16:
        return sum((x[:, None, k] - y[None, :, k]) ** 2 for k in range(d))
    cross = x @ y.T
    return jnp.maximum(jnp.sum(x**2, -1)[:, None] + jnp.sum(y**2, -1)[None, :] - 2 * cross,
                       0.0)


class GaussianKernel(eqx.Module):
    """`k(x, y) = exp(-|x - y|^2 / (2 bandwidth^2))`, with a vectorised `block`. The
    bandwidth is an array leaf: a new value does not recompile, and `kernel_matvec`
    differentiates with respect to it."""

    bandwidth: Float[Array, ""] = eqx.field(converter=lambda v: real("bandwidth", v))

    def __call__(self, a: Float[Array, " d"], b: Float[Array, " d"]) -> Float[Array, ""]:
        return jnp.exp(-jnp.sum((a - b) ** 2) / (2 * self.bandwidth**2))

    def block(self, x: Float[Array, "a d"], y: Float[Array, "b d"]) -> Float[Array, "a b"]:
        return jnp.exp(-_squared_distances(x, y) / (2 * self.bandwidth**2))


class SquaredDistanceScore(eqx.Module):
    """`s(x, y) = -|x - y|^2 / epsilon` (entropic optimal transport's scaled cost); epsilon
    is an array leaf, as the Gaussian kernel's bandwidth is."""

    epsilon: Float[Array, ""] = eqx.field(converter=lambda v: real("epsilon", v))

    def __call__(self, a: Float[Array, " d"], b: Float[Array, " d"]) -> Float[Array, ""]:
        return -jnp.sum((a - b) ** 2) / self.epsilon

    def block(self, x: Float[Array, "a d"], y: Float[Array, "b d"]) -> Float[Array, "a b"]:
        return -_squared_distances(x, y) / self.epsilon


def gaussian_kernel(bandwidth: float) -> GaussianKernel:
    """The Gaussian kernel `exp(-|x - y|^2 / (2 bandwidth^2))`."""
    return GaussianKernel(bandwidth)  # checked by the field converter


def squared_distance_score(epsilon: float) -> SquaredDistanceScore:
    """The score `-|x - y|^2 / epsilon` for `kernel_logsumexp`."""
    return SquaredDistanceScore(epsilon)  # checked by the field converter
