"""Periodic pseudo-spectral grids: points, wavenumbers, derivatives and the 2/3 rule."""

from __future__ import annotations

import math
from collections.abc import Sequence

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Complex, Float

from ..validate import positive_float, positive_int


class PeriodicGrid(eqx.Module):
    """A uniform periodic grid on `[0, L_1) x ... x [0, L_d)` (shifted by `origin`).

    Fields are real arrays `[n_1, ..., n_d]`; their spectra use `rfftn` (the last axis keeps
    `n_d // 2 + 1` modes).

    **Arguments:**

    - `sizes`: points per axis (even, >= 4).
    - `lengths`: period per axis.
    - `origin`: the first grid point per axis (default 0).
    """

    sizes: tuple[int, ...] = eqx.field(static=True)
    lengths: tuple[float, ...] = eqx.field(static=True)
    origin: tuple[float, ...] = eqx.field(static=True)

    def __init__(self, sizes: Sequence[int] | int, lengths: Sequence[float] | float,
                 origin: Sequence[float] | float | None = None):
        sizes = (sizes,) if isinstance(sizes, int) else tuple(sizes)
        lengths = (lengths,) if isinstance(lengths, int | float) else tuple(lengths)
        if len(sizes) != len(lengths):
            raise ValueError(f"sizes and lengths must have one entry per axis; got {sizes} and "
                             f"{lengths}")
        for n in sizes:
            positive_int("grid size", n)
            if n < 4 or n % 2:
                raise ValueError(f"grid sizes must be even and at least 4; got {n}")
        self.sizes = tuple(int(n) for n in sizes)
        self.lengths = tuple(positive_float("period", float(v)) for v in lengths)
        if origin is None:
            origin = (0.0,) * len(sizes)
        elif isinstance(origin, int | float):
            origin = (float(origin),)
        self.origin = tuple(float(o) for o in origin)

    @property
    def ndim(self) -> int:
        return len(self.sizes)

    @property
    def spacing(self) -> tuple[float, ...]:
        return tuple(length / n for length, n in zip(self.lengths, self.sizes, strict=True))

    def axes(self) -> list[Float[Array, " n"]]:
        """The coordinates along each axis."""
        return [jnp.asarray(a) for a in self._axes_numpy()]

    def _axes_numpy(self) -> list[np.ndarray]:
        return [o + np.arange(n) * (length / n) for o, n, length
                in zip(self.origin, self.sizes, self.lengths, strict=True)]

    def points(self) -> list[Float[Array, "..."]]:
        """Coordinate arrays `[n_1, ..., n_d]` (ij indexing), one per axis."""
        return list(jnp.meshgrid(*self.axes(), indexing="ij"))

    def wavenumbers(self) -> list[Float[Array, "..."]]:
        """Angular wavenumbers `2 pi m / L` per axis, broadcastable to the spectrum shape."""
        ks = []
        for axis, (n, length) in enumerate(zip(self.sizes, self.lengths, strict=True)):
            last = axis == self.ndim - 1
            m = np.fft.rfftfreq(n, 1.0 / n) if last else np.fft.fftfreq(n, 1.0 / n)
            shape = [1] * self.ndim
            shape[axis] = len(m)
            ks.append(jnp.asarray(2 * math.pi / length * m).reshape(shape))
        return ks

    def dealias_mask(self) -> Bool[Array, "..."]:
        """The 2/3 rule: keep modes with |m| < n/3 on every axis (Orszag, 1971)."""
        mask = True
        for axis, n in enumerate(self.sizes):
            last = axis == self.ndim - 1
            m = np.fft.rfftfreq(n, 1.0 / n) if last else np.fft.fftfreq(n, 1.0 / n)
            shape = [1] * self.ndim
            shape[axis] = len(m)
            mask = mask & (np.abs(m) < n / 3).reshape(shape)
        return jnp.asarray(mask)

    def check_axis(self, x, what: str) -> None:
        """Raise `ValueError` unless `x` are this grid's first-axis points."""
        x = np.asarray(x)
        expected = self._axes_numpy()[0]
        if x.shape != expected.shape or not np.allclose(
                x, expected, rtol=0, atol=1e-12 * max(1.0, float(np.abs(expected).max()))):
            lo = self.origin[0]
            raise ValueError(f"{what} needs the uniform periodic grid of {self.sizes[0]} points "
                             f"on [{lo:g}, {lo + self.lengths[0]:g}) (endpoint excluded)")

    def to_spectral(self, u: Float[Array, "..."]) -> Complex[Array, "..."]:
        return jnp.fft.rfftn(u, axes=tuple(range(-self.ndim, 0)))

    def to_physical(self, v: Complex[Array, "..."]) -> Float[Array, "..."]:
        return jnp.fft.irfftn(v, s=self.sizes, axes=tuple(range(-self.ndim, 0)))
