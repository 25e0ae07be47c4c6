"""Blocked pairwise reductions with O((n + m) d + block^2) memory, forward and backward.

Rows of `x` are processed block by block (`lax.scan`); for each row block the columns `y`
are streamed block by block, so no N x M array ever exists. Gradients are custom VJPs that
recompute each block and pull its cotangent back, with the same blocking.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import jax
import jax.numpy as jnp
from jaxtyping import Array, Bool, Float

from .._validate import positive_int

Pairwise = Callable[[Float[Array, " d"], Float[Array, " d"]], Float[Array, ""]]


def block_sizes(block_size: int | tuple[int, int] | None, n: int, m: int) -> tuple[int, int]:
    """Row and column block sizes: `None` picks 1024 x 1024 (8 MiB per float64 block),
    capped at the array sizes."""
    if block_size is None:
        bx, by = 1024, 1024
    elif isinstance(block_size, tuple):
        if len(block_size) != 2:
            raise ValueError(f"block_size must be an int or a pair (rows, cols); got "
                             f"{block_size!r}")
        bx = positive_int("block_size[0]", block_size[0])
        by = positive_int("block_size[1]", block_size[1])
    else:
        bx = by = positive_int("block_size", block_size)
    return min(bx, n), min(by, m)


def _blocks(a: Array, size: int) -> Array:
    """Pad `a` along axis 0 (repeating its first row, so kernels stay finite) to a multiple
    of `size` and reshape to `[num_blocks, size, ...]`."""
    n = a.shape[0]
    pad = (-n) % size
    if pad:
        a = jnp.concatenate([a, jnp.broadcast_to(a[:1], (pad, *a.shape[1:]))], axis=0)
    return a.reshape(-1, size, *a.shape[1:])


def _mask(m: int, size: int) -> Bool[Array, "nb size"]:
    nb = -(-m // size)
    return (jnp.arange(nb * size) < m).reshape(nb, size)


def pairwise(fn: Pairwise, x: Float[Array, "a d"], y: Float[Array, "b d"]) -> Array:
    """`fn(x_i, y_j)` for one block pair, shape `[a, b]`."""
    return jax.vmap(jax.vmap(fn, (None, 0)), (0, None))(x, y)


# ---------------------------------------------------------------------------------------
# sum_j k(x_i, y_j) v_j


def _matvec_block(kernel, xi, yj, vj, mj):
    k = jnp.where(mj[None, :], pairwise(kernel, xi, yj), 0.0)
    return k.astype(vj.dtype) @ vj


def _matvec_forward(kernel, bx, by, x, y, v):
    n = x.shape[0]
    yb, vb, mb = _blocks(y, by), _blocks(v, by), _mask(y.shape[0], by)

    def rows(_, xi):
        def cols(acc, blk):
            return acc + _matvec_block(kernel, xi, *blk), None

        acc = jnp.zeros((xi.shape[0], v.shape[1]), jnp.result_type(x, y, v))
        return None, jax.lax.scan(cols, acc, (yb, vb, mb))[0]

    _, out = jax.lax.scan(rows, None, _blocks(x, bx))
    return out.reshape(-1, v.shape[1])[:n]


@partial(jax.custom_vjp, nondiff_argnums=(0, 1, 2))
def matvec(kernel: Pairwise, bx: int, by: int, x, y, v):
    return _matvec_forward(kernel, bx, by, x, y, v)


def _matvec_fwd(kernel, bx, by, x, y, v):
    return _matvec_forward(kernel, bx, by, x, y, v), (x, y, v)


def _matvec_pull(kernel, xi, extra, yj, vj, mj):
    (gi,) = extra
    _, pull = jax.vjp(lambda a, b, c: _matvec_block(kernel, a, b, c, mj), xi, yj, vj)
    return pull(gi)


def _matvec_bwd(kernel, bx, by, res, g):
    x, y, v = res
    return _backward(partial(_matvec_pull, kernel), bx, by, x, y, v, (g,))


matvec.defvjp(_matvec_fwd, _matvec_bwd)


# ---------------------------------------------------------------------------------------
# logsumexp_j (s(x_i, y_j) + v_j)


def _lse_scores(score, xi, yj, vj):
    return pairwise(score, xi, yj)[:, :, None].astype(vj.dtype) + vj[None, :, :]


def _lse_forward(score, bx, by, x, y, v):
    n, k = x.shape[0], v.shape[1]
    yb, vb, mb = _blocks(y, by), _blocks(v, by), _mask(y.shape[0], by)
    dtype = jnp.result_type(x, y, v)

    def rows(_, xi):
        def cols(carry, blk):
            mx, sx = carry
            yj, vj, mj = blk
            z = jnp.where(mj[None, :, None], _lse_scores(score, xi, yj, vj), -jnp.inf)
            new = jnp.maximum(mx, jnp.max(z, axis=1))
            shift = jnp.where(jnp.isfinite(new), new, 0.0)
            sx = sx * jnp.exp(mx - shift) + jnp.sum(jnp.exp(z - shift[:, None, :]), axis=1)
            return (new, sx), None

        init = (jnp.full((xi.shape[0], k), -jnp.inf, dtype), jnp.zeros((xi.shape[0], k), dtype))
        (mx, sx), _ = jax.lax.scan(cols, init, (yb, vb, mb))
        return None, jnp.where(jnp.isfinite(mx), mx, 0.0) + jnp.log(sx)

    _, out = jax.lax.scan(rows, None, _blocks(x, bx))
    return out.reshape(-1, k)[:n]


@partial(jax.custom_vjp, nondiff_argnums=(0, 1, 2))
def logsumexp(score: Pairwise, bx: int, by: int, x, y, v):
    return _lse_forward(score, bx, by, x, y, v)


def _lse_fwd(score, bx, by, x, y, v):
    out = _lse_forward(score, bx, by, x, y, v)
    return out, (x, y, v, out)


def _lse_pull(score, xi, extra, yj, vj, mj):
    gi, oi = extra
    z, pull = jax.vjp(lambda a, b, c: _lse_scores(score, a, b, c), xi, yj, vj)
    p = jnp.where(mj[None, :, None], jnp.exp(z - oi[:, None, :]), 0.0)
    return pull(gi[:, None, :] * p)


def _lse_bwd(score, bx, by, res, g):
    x, y, v, out = res
    return _backward(partial(_lse_pull, score), bx, by, x, y, v, (g, out))


logsumexp.defvjp(_lse_fwd, _lse_bwd)


# ---------------------------------------------------------------------------------------


def _backward(pull, bx, by, x, y, v, row_extras):
    """Accumulate (dx, dy, dv) over all block pairs; `pull(xi, extras_i, yj, vj, mj)` returns
    one block pair's contribution."""
    n, m = x.shape[0], y.shape[0]
    xb = _blocks(x, bx)
    # Padded rows get a zero cotangent, so they contribute nothing.
    extras = tuple(_blocks(jnp.concatenate([e, jnp.zeros(((-n) % bx, *e.shape[1:]), e.dtype)]),
                           bx) for e in row_extras)
    yb, vb, mb = _blocks(y, by), _blocks(v, by), _mask(m, by)

    def rows(carry, blk):
        dy, dv = carry
        xi, ex = blk

        def cols(dxi, cblk):
            yj, vj, mj = cblk
            a, b, c = pull(xi, ex, yj, vj, mj)
            return dxi + a, (b, c)

        dxi, (dys, dvs) = jax.lax.scan(cols, jnp.zeros_like(xi), (yb, vb, mb))
        return (dy + dys, dv + dvs), dxi

    (dy, dv), dx = jax.lax.scan(rows, (jnp.zeros_like(yb), jnp.zeros_like(vb)), (xb, extras))
    return (dx.reshape(-1, *x.shape[1:])[:n], dy.reshape(-1, *y.shape[1:])[:m],
            dv.reshape(-1, *v.shape[1:])[:m])
