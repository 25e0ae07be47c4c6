"""A problem's pointwise (strong) form, as the methods that evaluate a residual at points
need it (PINNs, causal PINNs, time marching, STDE): `PointwiseForm`, built by the problem's
`pointwise_form()`; and the characteristics of a transport problem (`Characteristics`, for
Lagrangian PINNs). Nothing here imports a concrete problem."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import jax.numpy as jnp
from jaxtyping import Array

from ..validate import protocol


@dataclasses.dataclass(frozen=True)
class PointwiseForm:
    """How a problem's residual is evaluated at one input point.

    **Fields:**

    - `kind`: `"evolution"` (inputs `(x, t)`, `x` of `in_size - 1` coordinates, time last)
      or `"steady"` (inputs `p` in the domain).
    - `in_size`: the input size; `periodic`: `{axis: period}` of the periodic inputs.
    - `residual(u, z, options=None)`: the residual of a scalar function `u(z)` at one input
      `z`; steady forms that accept `options` pass them to their Laplacian (the STDE
      estimator, `laplacian_options=` of `sciopt.derivatives`).
    - `initial(x)`: `u(x, 0)` at one point of space (evolution), or `None`.
    - `boundary(p)`: the Dirichlet data at one boundary point (steady), or `None`.
    - `ball`: `(center, radius)` when the domain is a ball with zero boundary data (a
      network can then vanish on the sphere by construction), else `None`.
    - `laplacian_options`: whether `residual` takes `options` (randomized Laplacians).
    """

    kind: str
    in_size: int
    periodic: dict[int, float]
    residual: Callable[..., Array]
    initial: Callable[[Array], Array] | None = None
    boundary: Callable[[Array], Array] | None = None
    ball: tuple[tuple[float, ...], float] | None = None
    laplacian_options: bool = False


@dataclasses.dataclass(frozen=True)
class Characteristics:
    """The characteristics `x_t = v` of a (viscous) transport problem `u_t + v u_x = nu u_xx`.

    **Fields:**

    - `velocity`: a constant speed `c`, or `None` for `v = u` (Burgers).
    - `nu`: the viscosity (0 for pure transport).
    - `speed_scale`: a typical `|v|`, to non-dimensionalise the flow residual.
    """

    velocity: float | None
    nu: float
    speed_scale: float


def evolution_form_1d(problem) -> PointwiseForm:
    """The form of `u_t = N[u]` on a periodic interval, from the problem's
    `residual(u, x, t)`, `initial_condition(x)` and one-dimensional domain."""
    protocol("problem", problem, ("residual", "initial_condition", "domain"),
             "a 1D evolution problem")
    lo, hi = (float(v[0]) for v in problem.domain.bounds)

    def residual(u, z, options=None):
        return problem.residual(lambda x, t: u(jnp.stack([x, t])), z[0], z[1])

    return PointwiseForm("evolution", 2, {0: hi - lo}, residual,
                         initial=lambda x: problem.initial_condition(x[0]))


def evolution_form_2d(problem) -> PointwiseForm:
    """The form of `u_t = N[u]` on a periodic square, from the problem's
    `residual(u, x, y, t)`, `initial_condition(x, y)` and `square`."""
    protocol("problem", problem, ("residual", "initial_condition", "square"),
             "a 2D evolution problem on a periodic square")
    lo, hi = problem.square

    def residual(u, z, options=None):
        return problem.residual(lambda x, y, t: u(jnp.stack([x, y, t])), z[0], z[1], z[2])

    return PointwiseForm("evolution", 3, {0: hi - lo, 1: hi - lo}, residual,
                         initial=lambda x: problem.initial_condition(x[0], x[1]))


def steady_form(problem, *, ball: tuple[tuple[float, ...], float] | None = None,
                laplacian_options: bool = False) -> PointwiseForm:
    """The form of a steady problem with Dirichlet data from its `solution(p)`, from its
    `residual(u, p)` (`residual(u, p, laplacian_options=...)` with `laplacian_options`)."""
    protocol("problem", problem, ("residual", "solution", "domain"), "a steady problem")

    def residual(u, p, options=None):
        if options is None:
            return problem.residual(u, p)
        return problem.residual(u, p, laplacian_options=options)

    return PointwiseForm("steady", problem.domain.dim, {}, residual,
                         boundary=lambda p: problem.solution(p), ball=ball,
                         laplacian_options=laplacian_options)
