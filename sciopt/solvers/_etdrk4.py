"""Exponential time differencing RK4 (Cox & Matthews, 2002) with the contour-integral
coefficients of Kassam & Trefethen (2005), for diagonal linear parts in Fourier space."""

from __future__ import annotations

import math
from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Complex

from ..validate import array, positive_float, positive_int, protocol, real


class ETDRK4Coefficients(eqx.Module):
    """`exp(hL)`, `exp(hL/2)` and the phi-function weights Q, f1, f2, f3 of ETDRK4."""

    e: Complex[Array, "..."]
    e2: Complex[Array, "..."]
    q: Complex[Array, "..."]
    f1: Complex[Array, "..."]
    f2: Complex[Array, "..."]
    f3: Complex[Array, "..."]


def etdrk4_coefficients(linear: Complex[Array, "..."], dt: float, *,
                        contour_points: int = 64) -> ETDRK4Coefficients:
    """ETDRK4 coefficients for the diagonal operator `linear` and step `dt`.

    The phi functions are averaged over `contour_points` points on a unit circle around each
    `dt * L` (Kassam & Trefethen, "Fourth-order time-stepping for stiff PDEs", SIAM J. Sci.
    Comput. 26, 2005), which avoids the cancellation of the closed forms near `L = 0`. The
    full circle is used, so dispersive (imaginary) operators are handled too.
    """
    contour_points = positive_int("contour_points", contour_points)
    linear = array("linear", linear, kind="inexact", traced=False)
    dt = real("dt", dt)
    cdtype = jnp.result_type(linear, jnp.complex64)
    hl = (dt * linear).astype(cdtype)
    r = jnp.exp(2j * jnp.pi * (jnp.arange(contour_points) + 0.5) / contour_points).astype(cdtype)
    lr = hl[..., None] + r

    def mean(z):
        return jnp.mean(z, axis=-1)

    el = jnp.exp(lr)
    q = dt * mean((jnp.exp(lr / 2) - 1) / lr)
    f1 = dt * mean((-4 - lr + el * (4 - 3 * lr + lr**2)) / lr**3)
    f2 = dt * mean((2 + lr + el * (-2 + lr)) / lr**3)
    f3 = dt * mean((-4 - 3 * lr - lr**2 + el * (4 - lr)) / lr**3)
    return ETDRK4Coefficients(jnp.exp(hl), jnp.exp(hl / 2), q, f1, f2, f3)


def etdrk4_step(c: ETDRK4Coefficients, nonlinear: Callable[[Array], Array],
                v: Complex[Array, "..."]) -> Complex[Array, "..."]:
    """One ETDRK4 step of `v_t = L v + N(v)` in spectral space."""
    protocol("c", c, ("e", "e2", "q", "f1", "f2", "f3"), "ETDRK4 coefficients "
             "(etdrk4_coefficients)")
    if not callable(nonlinear):
        raise ValueError(f"nonlinear must be a function of v; got {type(nonlinear).__name__}")
    v = array("v", v, kind="inexact", shape=c.e.shape, traced=False)
    nv = nonlinear(v)
    a = c.e2 * v + c.q * nv
    na = nonlinear(a)
    b = c.e2 * v + c.q * na
    nb = nonlinear(b)
    cc = c.e2 * a + c.q * (2 * nb - nv)
    nc = nonlinear(cc)
    return c.e * v + c.f1 * nv + 2 * c.f2 * (na + nb) + c.f3 * nc


def solve_etdrk4(
    linear: Complex[Array, "..."],
    nonlinear: Callable[[Complex[Array, "..."]], Complex[Array, "..."]],
    v0: Complex[Array, "..."],
    *,
    dt: float,
    num_steps: int,
    save_every: int,
    contour_points: int = 64,
) -> Complex[Array, "saves ..."]:
    """Integrate `v_t = L v + N(v)` from `v0` with `num_steps` ETDRK4 steps of size `dt`.

    **Arguments:**

    - `linear`: the diagonal linear operator in spectral space (shape of `v0`).
    - `nonlinear`: `v -> N(v)` in spectral space (dealiasing is the caller's).
    - `v0`: the initial spectrum.
    - `dt`, `num_steps`: step size and count.
    - `save_every`: keep every `save_every`-th state (`num_steps` must be a multiple).

    **Returns:**

    `[num_steps // save_every + 1, *v0.shape]`: the initial state and the saved states.

    Differentiable in both modes; reverse mode is checkpointed (about `sqrt(save_every)`
    stored states per save interval).

    Reference: Cox & Matthews, "Exponential time differencing for stiff systems", J. Comput.
    Phys. 176 (2002).
    """
    dt = positive_float("dt", dt)
    num_steps = positive_int("num_steps", num_steps)
    save_every = positive_int("save_every", save_every)
    if num_steps % save_every:
        raise ValueError(f"num_steps ({num_steps}) must be a multiple of save_every "
                         f"({save_every})")
    coef = etdrk4_coefficients(linear, dt, contour_points=contour_points)
    v0 = array("v0", v0, kind="inexact", traced=False).astype(coef.e.dtype)

    def advance(v, n):
        return jax.lax.fori_loop(0, n, lambda i, w: etdrk4_step(coef, nonlinear, w), v)

    # Reverse mode stores only the state every `chunk` steps and recomputes the steps inside
    # a chunk on the way back (jax.checkpoint): memory O(saves * sqrt(save_every)) states
    # instead of one per step. The forward pass is unchanged.
    chunk = max(1, math.isqrt(save_every))
    full, rest = divmod(save_every, chunk)

    @jax.checkpoint
    def chunk_step(v, _):
        return advance(v, chunk), None

    def block(v, _):
        v, _ = jax.lax.scan(chunk_step, v, None, length=full)
        if rest:
            v = advance(v, rest)
        return v, v

    _, saved = jax.lax.scan(block, v0, None, length=num_steps // save_every)
    return jnp.concatenate([v0[None], saved])





def solve_on_grid(
    grid,
    symbol: Complex[Array, "..."],
    nonlinear: Callable[[Complex[Array, "..."]], Complex[Array, "..."]],
    u0: Array,
    *,
    dt: float,
    num_steps: int,
    save_every: int,
) -> Array:
    """`solve_etdrk4` for a physical field `u0` on a `PeriodicGrid`: transform, integrate
    `v_t = symbol v + nonlinear(v)` (spectral), and return the saved physical fields
    `[num_steps // save_every + 1, *u0.shape]`."""
    if not callable(getattr(grid, "to_spectral", None)):
        raise ValueError(f"grid must be a sciopt.solvers.PeriodicGrid; got {type(grid).__name__}")
    v0 = grid.to_spectral(array("u0", u0, kind="inexact", traced=False))
    symbol = array("symbol", symbol, kind="inexact", traced=False)
    try:
        symbol = jnp.broadcast_to(symbol, v0.shape)
    except ValueError:
        raise ValueError(f"symbol of shape {symbol.shape} does not broadcast to the spectral "
                         f"shape {v0.shape} of u0 (the grid's rfft shape)") from None
    v = solve_etdrk4(symbol, nonlinear, v0, dt=dt,
                     num_steps=num_steps, save_every=save_every)
    return grid.to_physical(v)
