"""The heat equation on a periodic interval, with its exact Fourier-series solution.

    u_t = nu u_xx,  x in [0, 2 pi) periodic,  u(x, 0) = sum_k a_k sin(k x)

so that u(x, t) = sum_k a_k exp(-nu k^2 t) sin(k x).
"""

from __future__ import annotations

from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from ..geometry import Torus
from ._pointwise import PointwiseForm, evolution_form_1d
from ._reference import ReferenceRun, on_grid, time_1d_run
from ._registry import AbstractProblem, Param, positive, register


class Heat1DPeriodic(AbstractProblem):
    """`u_t = nu u_xx` on the periodic interval `[0, 2 pi)`, initial condition
    `sum_{k=1..modes} k^-decay sin(k x)`; the reference is the exact solution.

    **Arguments:**

    - `nu`: diffusivity (> 0).
    - `modes`: number of Fourier modes in the initial condition (>= 1).
    - `t_final`: final time (> 0).
    """

    nu: float  # an array leaf under a caller's jit / vmap / grad
    modes: int = eqx.field(static=True)
    t_final: float = eqx.field(static=True)

    @property
    def domain(self) -> Torus:
        return Torus([0.0], [2 * jnp.pi])

    @property
    def parameters(self) -> dict[str, Any]:
        return {"nu": self.nu, "modes": self.modes, "t_final": self.t_final}

    def _coefficients(self, dtype) -> tuple[Array, Array]:
        k = jnp.arange(1, self.modes + 1, dtype=dtype)
        return k, 1.0 / k

    def solution(self, x: Float[Array, "..."], t: Float[Array, "..."]) -> Float[Array, "..."]:
        """The exact solution `u(x, t)` (broadcasting)."""
        x, t = jnp.asarray(x), jnp.asarray(t)
        dtype = jnp.result_type(x, t, float)
        k, a = self._coefficients(dtype)
        return jnp.sum(a * jnp.exp(-self.nu * k**2 * t[..., None]) * jnp.sin(k * x[..., None]),
                       axis=-1)

    def initial_condition(self, x: Float[Array, "..."]) -> Float[Array, "..."]:
        return self.solution(x, jnp.zeros_like(x))

    def residual(self, u, x: Float[Array, ""], t: Float[Array, ""]) -> Float[Array, ""]:
        """`u_t - nu u_xx` for a scalar function `u(x, t)` at one point."""
        u_t = jax.grad(u, argnums=1)(x, t)
        u_xx = jax.grad(jax.grad(u, argnums=0), argnums=0)(x, t)
        return u_t - self.nu * u_xx

    def reference(self, coords: dict[str, Float[Array, " n"]], t: Float[Array, " t"]
                  ) -> Float[Array, "t n 1"]:
        x = jnp.asarray(coords["x"])
        t = jnp.asarray(t)
        return self.solution(x[None, :], t[:, None])[..., None]

    def pointwise_form(self) -> PointwiseForm:
        return evolution_form_1d(self)

    def exact_solution(self, coords, t):
        return on_grid(self.solution, coords, t)

    def reference_run(self, resolution, t, *, dt=None) -> ReferenceRun:
        """The series on `resolution` points of `[0, 2 pi)`, against itself (a check of
        the pipeline)."""
        return time_1d_run(self, 2 * np.pi * np.arange(resolution) / resolution, t)


register(
    "heat1d",
    Heat1DPeriodic,
    (
        Param("nu", 0.1, "diffusivity", float, positive),
        Param("modes", 4, "Fourier modes in the initial condition", int,
              lambda v: None if v >= 1 else "must be at least 1"),
        Param("t_final", 1.0, "final time", float, positive),
    ),
    summary="u_t = nu u_xx on the periodic interval [0, 2 pi); exact Fourier solution",
    family="heat",
)
