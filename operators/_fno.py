"""The Fourier neural operator (1D and 2D), the baseline every neural-operator paper compares
with.

Reference: Li, Kovachki, Azizzadenesheli, Liu, Bhattacharya, Stuart & Anandkumar, "Fourier
Neural Operator for Parametric Partial Differential Equations", ICLR 2021.
"""

from __future__ import annotations

import math

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray

from sciopt._validate import positive_int


class SpectralConv(eqx.Module):
    """`v -> irfft(R . rfft(v))` on a periodic grid, keeping the lowest `modes` Fourier modes
    per axis (both signs on every axis but the last, whose rfft has only non-negative
    ones) with a learned complex `[out, in]` matrix per mode.

    The layer is a function of the continuous field: evaluated on any grid with at least
    `2 * modes` points per axis, a band-limited input gives the same output values at the
    same points — the source of FNO's zero-shot super-resolution.
    """

    weights: Float[Array, "2 o i ..."]
    modes: tuple[int, ...] = eqx.field(static=True)

    def __init__(self, in_channels: int, out_channels: int, modes: tuple[int, ...], *,
                 key: PRNGKeyArray):
        self.modes = tuple(positive_int("modes", m) for m in modes)
        if len(self.modes) not in (1, 2):
            raise ValueError(f"SpectralConv supports 1D and 2D grids; got modes={modes}")
        # Every axis but the last keeps modes 0..m-1 and -m..-1; the last keeps 0..m-1.
        shape = (out_channels, in_channels, *[2 * m for m in self.modes[:-1]], self.modes[-1])
        scale = 1.0 / (in_channels * out_channels)
        # Real and imaginary parts are stored as two real arrays: JAX's gradient of a real
        # loss with respect to a complex leaf is the conjugate of the descent direction, so
        # optax would step the imaginary parts uphill.
        self.weights = scale * jax.random.uniform(key, (2, *shape), jnp.result_type(float))

    def _kept(self, spectrum: Array) -> Array:
        """The kept block of an rfftn spectrum `[c, n_1, (n_2,) n_last // 2 + 1]`."""
        out = spectrum[..., : self.modes[-1]]
        if len(self.modes) == 2:
            m = self.modes[0]
            out = jnp.concatenate([out[:, :m], out[:, -m:]], axis=1)
        return out

    def __call__(self, v: Float[Array, "i ..."]) -> Float[Array, "o ..."]:
        shape = v.shape[1:]
        d = len(self.modes)
        if len(shape) != d:
            raise ValueError(f"SpectralConv with {d} axes of modes got an input of shape "
                             f"{v.shape} ([channels, *{d} grid axes] expected)")
        for n, m in zip(shape, self.modes, strict=True):
            if n < 2 * m:
                raise ValueError(f"grid of {shape} points is too coarse for {self.modes} "
                                 f"Fourier modes (need at least 2 * modes per axis)")
        axes = tuple(range(1, d + 1))
        spectrum = jnp.fft.rfftn(v, axes=axes, norm="forward")
        weights = jax.lax.complex(self.weights[0], self.weights[1])
        mixed = jnp.einsum("oi...,i...->o...", weights, self._kept(spectrum))
        full = jnp.zeros((mixed.shape[0], *shape[:-1], shape[-1] // 2 + 1), mixed.dtype)
        last = self.modes[-1]
        if d == 1:
            full = full.at[:, :last].set(mixed)
        else:  # positive then negative modes on the first axis
            m = self.modes[0]
            full = full.at[:, :m, :last].set(mixed[:, :m]).at[:, -m:, :last].set(mixed[:, m:])
        return jnp.fft.irfftn(full, s=shape, axes=axes, norm="forward").astype(v.dtype)


class FNO(eqx.Module):
    """A Fourier neural operator on a periodic (or zero-padded) grid in 1D or 2D.

    `u [in_channels, *grid] -> [out_channels, *grid]`: the input and the grid coordinates
    (in `[0, 1)`, so the model is resolution independent) are lifted pointwise to `width`
    channels, pass `layers` Fourier layers `v <- gelu(W v + K v)` (no activation after the
    last, as in the reference implementation), and are projected pointwise by a two-layer
    MLP (`width -> projection -> out_channels`).

    **Arguments:**

    - `in_channels`, `out_channels`: fields in and out.
    - `modes`: Fourier modes kept per axis (an int for 1D, a pair for 2D; the paper: 16 in
      1D, 12 in 2D).
    - `width`, `layers`, `projection`: the paper's 64 / 32, 4, 128.
    - `key`: PRNG key.

    Reference: Li et al., ICLR 2021.
    """

    lift: eqx.nn.Conv
    spectral: list[SpectralConv]
    pointwise: list[eqx.nn.Conv]
    project: list[eqx.nn.Conv]
    in_channels: int = eqx.field(static=True)
    dim: int = eqx.field(static=True)

    def __init__(self, in_channels: int, out_channels: int, *, modes: int | tuple[int, ...],
                 width: int = 64, layers: int = 4, projection: int = 128,
                 key: PRNGKeyArray):
        modes = (modes,) if isinstance(modes, int) else tuple(modes)
        if len(modes) not in (1, 2):
            raise ValueError(f"FNO supports 1D and 2D grids; got modes={modes}")
        self.dim = len(modes)
        self.in_channels = positive_int("in_channels", in_channels)
        positive_int("out_channels", out_channels)
        width, layers = positive_int("width", width), positive_int("layers", layers)
        keys = jax.random.split(key, 2 * layers + 3)
        d = self.dim

        def pointwise(k, i, o):
            return eqx.nn.Conv(d, i, o, 1, key=k, dtype=jnp.result_type(float))

        self.lift = pointwise(keys[0], in_channels + d, width)
        self.spectral = [SpectralConv(width, width, modes, key=k) for k in keys[1:layers + 1]]
        self.pointwise = [pointwise(k, width, width) for k in keys[layers + 1:2 * layers + 1]]
        self.project = [pointwise(keys[-2], width, projection),
                        pointwise(keys[-1], projection, out_channels)]

    @property
    def out_channels(self) -> int:
        return self.project[-1].out_channels

    def __call__(self, u: Float[Array, "c ..."]) -> Float[Array, "o ..."]:
        if u.ndim != self.dim + 1 or u.shape[0] != self.in_channels:
            raise ValueError(f"FNO expects [{self.in_channels}, *{self.dim} grid axes]; got "
                             f"shape {u.shape}")
        grids = jnp.meshgrid(*[jnp.arange(n, dtype=u.dtype) / n for n in u.shape[1:]],
                             indexing="ij")
        v = self.lift(jnp.concatenate([u, jnp.stack(grids)], 0))
        last = len(self.spectral) - 1
        for i, (k, w) in enumerate(zip(self.spectral, self.pointwise, strict=True)):
            v = k(v) + w(v)
            if i < last:
                v = jax.nn.gelu(v)
        return self.project[1](jax.nn.gelu(self.project[0](v)))


def count_parameters(model: eqx.Module) -> int:
    """Real parameters of `model` (a complex weight counts twice)."""
    leaves = jax.tree.leaves(eqx.filter(model, eqx.is_inexact_array))
    return sum(math.prod(x.shape) * (2 if jnp.iscomplexobj(x) else 1) for x in leaves)
