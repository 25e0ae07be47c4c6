"""High-dimensional elliptic problems on the unit ball with the "two-body" exact solution used
for high-dimensional PINNs (Hu, Shukla, Karniadakis & Kawaguchi, "Tackling the curse of
dimensionality with physics-informed neural networks", 2024; Shi et al., STDE, NeurIPS 2024):

    u(x) = (1 - |x|^2) sum_{i=1}^{d-1} c_i sin(x_i + cos(x_{i+1}) + x_{i+1} cos(x_i)),

with c_i ~ N(0, 1) drawn from `seed`; u = 0 on the unit sphere. Poisson: `-Delta u = g`;
Sine-Gordon: `Delta u + sin(u) = g`. The source g uses the closed-form Laplacian of u (O(d),
checked against Taylor-mode Laplacians in the tests), so the reference is the exact
solution in any dimension.
"""

from __future__ import annotations

from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from ..derivatives import laplacian
from ..geometry import Ball
from ._pointwise import PointwiseForm, steady_form
from ._reference import ReferenceRun, slice_run
from ._registry import AbstractProblem, Param, register


class _AbstractTwoBody(AbstractProblem):
    dim: eqx.AbstractVar[int]
    seed: eqx.AbstractVar[int]

    @property
    def domain(self) -> Ball:
        return Ball([0.0] * self.dim, 1.0)

    @property
    def parameters(self) -> dict[str, Any]:
        return {"dim": self.dim, "seed": self.seed}

    def coefficients(self, dtype=None) -> Float[Array, " d_minus_1"]:
        return jax.random.normal(jax.random.key(self.seed), (self.dim - 1,),
                                 dtype or jnp.result_type(float))

    def solution(self, x: Float[Array, " d"]) -> Float[Array, ""]:
        c = self.coefficients(x.dtype)
        a, b = x[:-1], x[1:]
        return (1 - jnp.sum(x**2)) * jnp.sum(c * jnp.sin(a + jnp.cos(b) + b * jnp.cos(a)))

    def solution_laplacian(self, x: Float[Array, " d"]) -> Float[Array, ""]:
        """`Delta u(x)` in closed form, O(d): with `S = sum_i c_i sin(a_i)`,
        `a_i = x_i + cos(x_{i+1}) + x_{i+1} cos(x_i)`,
        `Delta u = (1 - |x|^2) Delta S - 4 x . grad S - 2 d S`."""
        c = self.coefficients(x.dtype)
        p, q = x[:-1], x[1:]
        cos_x, sin_x = jnp.cos(x), jnp.sin(x)  # once per coordinate (the cost at large d)
        cp, cq, sp, sq = cos_x[:-1], cos_x[1:], sin_x[:-1], sin_x[1:]
        a = p + cq + q * cp
        ap, aq = 1 - q * sp, -sq + cp  # da/dp, da/dq
        app, aqq = -q * cp, -cq  # second derivatives (no mixed term needed)
        sin_a, cos_a = jnp.sin(a), jnp.cos(a)
        # One reduction for the three sums (separate ones make XLA recompute the sines).
        r = 1 - jnp.sum(x**2)
        terms = (r * (cos_a * (app + aqq) - sin_a * (ap**2 + aq**2))
                 - 4 * cos_a * (p * ap + q * aq) - 2 * x.size * sin_a)
        return jnp.sum(c * terms)

    def pointwise_form(self) -> PointwiseForm:
        """Steady, zero on the unit sphere; the residual takes STDE's Laplacian options."""
        return steady_form(self, ball=(tuple(self.domain.center), self.domain.radius),
                           laplacian_options=True)

    def reference_run(self, resolution, t=None, *, dt=None) -> ReferenceRun:
        """The exact solution on the `(x_1, x_2)` slice, with its Laplacian checked."""
        return slice_run(self, resolution)

    def reference(self, coords: dict[str, Array], t=None) -> Float[Array, " n"]:
        """The exact solution at the points `coords["points"]` `[n, d]`."""
        points = jnp.asarray(coords["points"])
        if points.ndim != 2 or points.shape[1] != self.dim:
            raise ValueError(f"coords['points'] must be [n, {self.dim}]; got {points.shape}")
        return jax.vmap(self.solution)(points)


class PoissonTwoBody(_AbstractTwoBody):
    """`-Delta u = g` on the unit ball in R^d, `u = 0` on the sphere (two-body exact u)."""

    dim: int = eqx.field(static=True)
    seed: int = eqx.field(static=True)

    def source(self, x):
        return -self.solution_laplacian(x)

    def residual(self, u, x, *, laplacian_options: dict | None = None):
        """`-Delta u - g` at `x`; `laplacian_options` go to `sciopt.derivatives.laplacian`
        for `u` (e.g. `{"method": "stde", "key": k, "num_samples": 16}`)."""
        return -laplacian(u, x, **(laplacian_options or {})) - self.source(x)


class SineGordonTwoBody(_AbstractTwoBody):
    """`Delta u + sin(u) = g` on the unit ball in R^d, `u = 0` on the sphere."""

    dim: int = eqx.field(static=True)
    seed: int = eqx.field(static=True)

    def source(self, x):
        return self.solution_laplacian(x) + jnp.sin(self.solution(x))

    def residual(self, u, x, *, laplacian_options: dict | None = None):
        """`Delta u + sin u - g` at `x` (`laplacian_options` as for Poisson)."""
        return laplacian(u, x, **(laplacian_options or {})) + jnp.sin(u(x)) - self.source(x)


def _dim(v: int) -> str | None:
    return None if v >= 2 else "must be at least 2"


for _name, _cls, _eq in (("poisson_highdim", PoissonTwoBody, "-Delta u = g"),
                         ("sine_gordon_highdim", SineGordonTwoBody, "Delta u + sin u = g")):
    register(_name, _cls,
             (Param("dim", 100, "dimension d", int, _dim),
              Param("seed", 0, "seed of the coefficients c_i", int)),
             summary=f"{_eq} on the unit ball in R^d, two-body exact solution (any d)",
             family="high_dimensional")
