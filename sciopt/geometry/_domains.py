"""Domains with interior and boundary samplers."""

from __future__ import annotations

import abc
import math
from collections.abc import Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Float, PRNGKeyArray

from ..validate import positive_float, positive_int
from ._samplers import Method, unit_cube


class AbstractDomain(eqx.Module):
    """A bounded domain in R^d.

    Subclasses define `dim`, `bounds`, `volume`, `contains`, and the maps from the unit cube
    to the interior and the boundary, so that every sampling method works on every domain.
    """

    @property
    @abc.abstractmethod
    def dim(self) -> int: ...

    @property
    @abc.abstractmethod
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper corners of the bounding box."""

    @property
    @abc.abstractmethod
    def volume(self) -> float: ...

    @abc.abstractmethod
    def contains(self, x: Float[Array, "... d"]) -> Bool[Array, "..."]: ...

    @abc.abstractmethod
    def _interior_from_unit(self, u: Float[Array, "n d"]) -> Float[Array, "n d"]: ...

    def _boundary_from_unit(self, u: Float[Array, "n d"]) -> Float[Array, "n d"]:
        raise ValueError(f"{type(self).__name__} is periodic and has no boundary; sample its "
                         f"interior, or use a Box for Dirichlet/Neumann conditions")

    def sample_interior(self, n: int, *, key: PRNGKeyArray, method: Method = "uniform",
                        dtype=None) -> Float[Array, "n d"]:
        """`n` points in the domain drawn by `method` (`"uniform"`, `"lhs"`, `"sobol"`)."""
        n = positive_int("n", n)
        return self._interior_from_unit(unit_cube(key, n, self.dim, method, dtype))

    def sample_boundary(self, n: int, *, key: PRNGKeyArray, method: Method = "uniform",
                        dtype=None) -> Float[Array, "n d"]:
        """`n` points on the boundary, uniformly with respect to its surface measure."""
        n = positive_int("n", n)
        return self._boundary_from_unit(unit_cube(key, n, self.dim, method, dtype))


def _as_bounds(lower: Sequence[float] | float, upper: Sequence[float] | float):
    lo = np.atleast_1d(np.asarray(lower, dtype=float))
    hi = np.atleast_1d(np.asarray(upper, dtype=float))
    if lo.shape != hi.shape or lo.ndim != 1:
        raise ValueError(f"lower and upper must have the same length; got {lo.shape} and "
                         f"{hi.shape}")
    if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi))):
        raise ValueError("domain bounds must be finite")
    if np.any(hi <= lo):
        raise ValueError(f"every upper bound must exceed its lower bound; got lower={lo.tolist()}"
                         f", upper={hi.tolist()}")
    return tuple(lo.tolist()), tuple(hi.tolist())


class _AbstractBoxLike(AbstractDomain):
    """A product of intervals (shared by `Box` and `Torus`)."""

    lower: tuple[float, ...] = eqx.field(static=True)
    upper: tuple[float, ...] = eqx.field(static=True)

    def __init__(self, lower: Sequence[float] | float, upper: Sequence[float] | float):
        self.lower, self.upper = _as_bounds(lower, upper)

    @property
    def dim(self) -> int:
        return len(self.lower)

    @property
    def bounds(self):
        return np.array(self.lower), np.array(self.upper)

    @property
    def volume(self) -> float:
        return float(np.prod(np.subtract(self.upper, self.lower)))

    def contains(self, x):
        lo, hi = self.bounds
        return jnp.all((x >= lo) & (x <= hi), axis=-1)

    def _interior_from_unit(self, u):
        lo, hi = self.bounds
        return lo + u * (hi - lo)


class Box(_AbstractBoxLike):
    """The box `[lower_1, upper_1] x ... x [lower_d, upper_d]`.

    **Arguments:**

    - `lower`, `upper`: the corners (sequences of length d, or floats for d = 1).
    """

    def _boundary_from_unit(self, u):
        lo, hi = self.bounds
        d = self.dim
        if d == 1:
            return jnp.where(u[:, :1] < 0.5, lo, hi).astype(u.dtype)
        width = hi - lo
        # Face areas: faces normal to axis k (two of them) have area prod(width) / width[k].
        area = np.prod(width) / width
        cum = np.cumsum(np.repeat(area, 2)) / (2 * area.sum())
        face = jnp.clip(jnp.searchsorted(jnp.asarray(cum), u[:, 0], side="right"), 0, 2 * d - 1)
        axis, side = face // 2, face % 2
        # Position on the face from u[:, 1:], skipping the face's own (fixed) axis.
        k = jnp.arange(d)[None, :]
        shifted = jnp.concatenate([u[:, 1:], u[:, -1:]], axis=1)
        x = lo + jnp.where(k < axis[:, None], shifted, u) * width
        onehot = jax.nn.one_hot(axis, d, dtype=bool)
        wall = jnp.where(side[:, None] == 0, lo, hi)
        return jnp.where(onehot, wall, x).astype(u.dtype)

    def normal(self, x: Float[Array, "n d"]) -> Float[Array, "n d"]:
        """Outward unit normals at boundary points (the nearest face's)."""
        lo, hi = self.bounds
        dist = jnp.concatenate([x - lo, hi - x], axis=-1)
        face = jnp.argmin(jnp.abs(dist), axis=-1)
        axis, sign = face % self.dim, jnp.where(face < self.dim, -1.0, 1.0)
        return jax.nn.one_hot(axis, self.dim, dtype=x.dtype) * sign[..., None]


def Interval(lower: float, upper: float) -> Box:  # noqa: N802 - a constructor
    """The interval `[lower, upper]` (a one-dimensional `Box`)."""
    return Box([lower], [upper])


class Torus(_AbstractBoxLike):
    """A periodic box: points wrap around each axis, and there is no boundary.

    **Arguments:**

    - `lower`, `upper`: the corners of the fundamental cell.
    """

    def wrap(self, x: Float[Array, "... d"]) -> Float[Array, "... d"]:
        """Map points back into the fundamental cell."""
        lo, hi = self.bounds
        return lo + jnp.mod(x - lo, hi - lo)


class _AbstractRound(AbstractDomain):
    """A ball `|x - center| <= radius` (shared by `Disk` and `Ball`)."""

    center: tuple[float, ...] = eqx.field(static=True)
    radius: float = eqx.field(static=True)

    @property
    def dim(self) -> int:
        return len(self.center)

    @property
    def bounds(self):
        c = np.array(self.center)
        return c - self.radius, c + self.radius

    def contains(self, x):
        return jnp.sum((x - jnp.asarray(self.center)) ** 2, axis=-1) <= self.radius**2 * (
            1 + 1e-12)

    def normal(self, x: Float[Array, "n d"]) -> Float[Array, "n d"]:
        """Outward unit normals at boundary points."""
        v = x - jnp.asarray(self.center, x.dtype)
        return v / jnp.linalg.norm(v, axis=-1, keepdims=True)


class Disk(_AbstractRound):
    """The disk of `radius` about `center` in R^2.

    Interior points use the area-preserving map `r = R sqrt(u)`, `theta = 2 pi v`.
    """

    def __init__(self, center: Sequence[float] = (0.0, 0.0), radius: float = 1.0):
        c = tuple(float(v) for v in center)
        if len(c) != 2:
            raise ValueError(f"Disk center must have 2 coordinates; got {len(c)}")
        self.center = c
        self.radius = positive_float("radius", radius)

    @property
    def volume(self) -> float:
        return math.pi * self.radius**2

    def _interior_from_unit(self, u):
        r = self.radius * jnp.sqrt(u[:, 0])
        theta = 2 * jnp.pi * u[:, 1]
        return jnp.asarray(self.center, u.dtype) + jnp.stack(
            [r * jnp.cos(theta), r * jnp.sin(theta)], -1)

    def _boundary_from_unit(self, u):
        theta = 2 * jnp.pi * u[:, 0]
        return jnp.asarray(self.center, u.dtype) + self.radius * jnp.stack(
            [jnp.cos(theta), jnp.sin(theta)], -1)


class Ball(_AbstractRound):
    """The ball of `radius` about `center` in R^d (any d).

    Interior points: a Gaussian direction (inverse normal CDF of d unit-cube coordinates)
    scaled to radius `R u^(1/d)` with one more coordinate, which is uniform in volume for
    every sampling method; boundary points: the direction alone.
    """

    def __init__(self, center: Sequence[float], radius: float = 1.0):
        self.center = tuple(float(v) for v in center)
        if not self.center:
            raise ValueError("Ball center must have at least one coordinate")
        self.radius = positive_float("radius", radius)

    @property
    def volume(self) -> float:
        d = self.dim
        return math.pi ** (d / 2) / math.gamma(d / 2 + 1) * self.radius**d

    def _direction(self, u):
        eps = jnp.finfo(u.dtype).eps
        g = jax.scipy.special.ndtri(jnp.clip(u, eps, 1 - eps))
        return g / jnp.linalg.norm(g, axis=-1, keepdims=True)

    def _interior_from_unit(self, u):
        r = self.radius * u[:, -1:] ** (1.0 / self.dim)
        return jnp.asarray(self.center, u.dtype) + r * self._direction(u[:, :-1])

    def _boundary_from_unit(self, u):
        return jnp.asarray(self.center, u.dtype) + self.radius * self._direction(u)

    def sample_interior(self, n: int, *, key: PRNGKeyArray, method: Method = "uniform",
                        dtype=None) -> Float[Array, "n d"]:
        """`n` points uniform in volume (d + 1 unit-cube coordinates per point)."""
        n = positive_int("n", n)
        return self._interior_from_unit(unit_cube(key, n, self.dim + 1, method, dtype))
