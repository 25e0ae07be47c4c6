"""Building blocks of inverse-problem objectives: point observations of gridded fields and
regularisation terms."""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int

from ..validate import array, positive_float, real


def _nonnegative(name: str, value: float) -> float:
    value = float(value)
    if not (np.isfinite(value) and value >= 0):
        raise ValueError(f"{name} must be a finite, non-negative number; got {value}")
    return value


class PointObservations(eqx.Module):
    """Values of a nodal 2D field observed at scattered points, by bilinear interpolation.

    **Arguments:**

    - `points`: `[m, 2]` observation locations inside the grid's rectangle.
    - `values`: `[m]` observed values (finite).
    - `axes`: the grid's node coordinates `(x [nx], y [ny])`, increasing and uniform.

    `self(u)` interpolates a field `u [nx, ny]` at the points; `misfit(u)` is
    `0.5 sum ((u(points) - values) / noise)^2` with `noise` the standard deviation (default 1).
    """

    index: Int[Array, "m 2"]
    weight: Float[Array, "m 2"]
    values: Float[Array, " m"]
    shape: tuple[int, int] = eqx.field(static=True)

    def __init__(self, points, values, axes: Sequence[np.ndarray]):
        points = np.asarray(array("points", points, finite=False))
        values = np.asarray(array("values", values, finite=False))
        if not isinstance(axes, Sequence | tuple) or isinstance(axes, str) or len(axes) != 2:
            raise ValueError(f"axes must be the two node-coordinate arrays (x [nx], y [ny]) of "
                             f"the 2D grid; got {type(axes).__name__} of "
                             f"{len(axes) if hasattr(axes, '__len__') else '?'} entries")
        if points.ndim != 2 or points.shape[1] != 2:
            raise ValueError(f"points must be [m, 2]; got shape {points.shape}")
        if values.shape != (points.shape[0],):
            raise ValueError(f"values must be [m] with m = {points.shape[0]} (one per point); "
                             f"got shape {values.shape}")
        if not (np.all(np.isfinite(points)) and np.all(np.isfinite(values))):
            raise ValueError("observation points and values must be finite (found NaN or Inf)")
        index, weight = [], []
        for k, a in enumerate(axes):
            a = np.asarray(array(f"axes[{k}]", a))
            if a.ndim != 1 or len(a) < 2 or not np.allclose(np.diff(a), a[1] - a[0]) or \
                    a[1] <= a[0]:
                raise ValueError(f"axes[{k}] must be increasing, uniform node coordinates")
            p = points[:, k]
            if np.any(p < a[0] - 1e-12) or np.any(p > a[-1] + 1e-12):
                raise ValueError(f"observation points lie outside the grid along axis {k} "
                                 f"([{a[0]:g}, {a[-1]:g}])")
            s = np.clip((p - a[0]) / (a[1] - a[0]), 0, len(a) - 1 - 1e-12)
            i = np.floor(s).astype(int)
            index.append(i)
            weight.append(s - i)
        self.index = jnp.asarray(np.stack(index, 1))
        self.weight = jnp.asarray(np.stack(weight, 1))
        self.values = jnp.asarray(values)
        self.shape = (len(axes[0]), len(axes[1]))

    def __call__(self, u: Float[Array, "nx ny"]) -> Float[Array, " m"]:
        u = array("u", u, finite=False)
        if u.shape != self.shape:
            raise ValueError(f"the field has shape {u.shape} but the observations were built "
                             f"for a grid of {self.shape}")
        i, j = self.index[:, 0], self.index[:, 1]
        wx, wy = self.weight[:, 0], self.weight[:, 1]
        return ((1 - wx) * (1 - wy) * u[i, j] + wx * (1 - wy) * u[i + 1, j]
                + (1 - wx) * wy * u[i, j + 1] + wx * wy * u[i + 1, j + 1])

    def residuals(self, u: Float[Array, "nx ny"], noise: float = 1.0) -> Float[Array, " m"]:
        """`(u(points) - values) / noise`."""
        return (self(u) - self.values) / real("noise", noise)

    def misfit(self, u: Float[Array, "nx ny"], noise: float = 1.0) -> Float[Array, ""]:
        return 0.5 * jnp.sum(self.residuals(u, noise) ** 2)


def _spacing(spacing: Any, ndim: int) -> tuple[float, ...]:
    """The grid spacing per axis: one positive number for all, or one per axis."""
    if isinstance(spacing, numbers.Real) and not isinstance(spacing, bool):
        spacing = (spacing,) * ndim
    if not isinstance(spacing, Sequence | np.ndarray) or len(spacing) != ndim:
        raise ValueError(f"spacing must be a positive number or {ndim} of them (one per axis); "
                         f"got {spacing!r:.60}")
    return tuple(positive_float(f"spacing[{i}]", h) for i, h in enumerate(spacing))


def tikhonov(field: Float[Array, "..."], weight: float, *, order: int = 0,
             spacing: Sequence[float] | float = 1.0) -> Float[Array, ""]:
    """Tikhonov regularisation `0.5 weight |D^order field|^2` (a quadrature of the squared
    field for `order=0`, of its gradient for `order=1`, by forward differences with
    `spacing` per axis).

    Raises `ValueError` for a negative or non-finite `weight`.
    """
    weight = _nonnegative("weight", weight)
    field = array("field", field, traced=False)
    if order not in (0, 1):
        raise ValueError(f"order must be 0 or 1; got {order}")
    h = _spacing(spacing, field.ndim)
    cell = float(np.prod(h))
    if order == 0:
        return 0.5 * weight * cell * jnp.sum(field**2)
    total = 0.0
    for axis in range(field.ndim):
        total = total + jnp.sum((jnp.diff(field, axis=axis) / h[axis]) ** 2)
    return 0.5 * weight * cell * total


def total_variation(field: Float[Array, "nx ny"], weight: float, *,
                    spacing: Sequence[float] | float = 1.0, eps: float = 1e-6
                    ) -> Float[Array, ""]:
    """Smoothed isotropic total variation `weight sum sqrt(|grad field|^2 + eps^2) dA` of a
    2D nodal field (forward differences on the cells); `eps > 0` keeps it differentiable.

    Raises `ValueError` for a negative or non-finite `weight` or a non-positive `eps`.
    """
    weight = _nonnegative("weight", weight)
    eps = positive_float("eps", eps)
    field = array("field", field, traced=False)
    if field.ndim != 2:
        raise ValueError(f"total_variation takes a 2D field; got shape {field.shape}")
    hx, hy = _spacing(spacing, 2)
    gx = jnp.diff(field, axis=0)[:, :-1] / hx
    gy = jnp.diff(field, axis=1)[:-1, :] / hy
    return weight * hx * hy * jnp.sum(jnp.sqrt(gx**2 + gy**2 + eps**2))
