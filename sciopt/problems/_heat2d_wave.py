"""Heat in two dimensions (periodic or Dirichlet) and the 1D wave equation, with exact
solutions; plus Fisher-KPP (diffusion-reaction) in 1D."""

from __future__ import annotations

import math
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from ..geometry import Box, Torus
from ..solvers import PeriodicGrid
from ._pointwise import PointwiseForm
from ._reference import DataPlan, ReferenceRun, on_grid, time_1d_run, time_2d_run
from ._registry import AbstractProblem, Param, positive, register
from ._semilinear import AbstractPeriodic1D, AbstractPeriodic2D, reaction_dt


class Heat2D(AbstractPeriodic2D):
    """`u_t = nu Delta u` with `u0 = sum_{m,n <= modes} sin(m x) sin(n y) / (m n)`:
    on `[0, 2 pi)^2` with `boundary="periodic"`, or on `[0, pi]^2` with `u = 0` on the
    boundary (`"dirichlet"`); the exact solution is the same series with factors
    `exp(-nu (m^2 + n^2) t)`. The reference is a spectral ETDRK4 solve (Dirichlet data by odd
    extension to the periodic square)."""

    nu: float  # an array leaf under a caller's jit / vmap / grad
    modes: int = eqx.field(static=True)
    boundary: str = eqx.field(static=True)
    t_final: float = eqx.field(static=True)
    default_dt = 0.05
    square = (0.0, 2 * math.pi)

    @property
    def domain(self):
        if self.boundary == "periodic":
            return super().domain
        return Box([0.0, 0.0], [math.pi, math.pi])

    @property
    def parameters(self) -> dict[str, Any]:
        return {"nu": self.nu, "modes": self.modes, "boundary": self.boundary,
                "t_final": self.t_final}

    def solution(self, x, y, t):
        x, y = jnp.asarray(x), jnp.asarray(y)
        m = jnp.arange(1, self.modes + 1, dtype=jnp.result_type(float))
        sx = jnp.sin(m * x[..., None]) / m
        sy = jnp.sin(m * y[..., None]) / m
        t = jnp.asarray(t)[..., None, None]
        decay = jnp.exp(-self.nu * (m[:, None] ** 2 + m[None, :] ** 2) * t)
        return jnp.sum(sx[..., :, None] * sy[..., None, :] * decay, axis=(-2, -1))

    def initial_condition(self, x, y):
        return self.solution(x, y, 0.0)

    def symbol(self, kx, ky):
        return (-self.nu * (kx**2 + ky**2)) + 0j

    def residual(self, u, x, y, t):
        u_t = jax.grad(u, argnums=2)(x, y, t)
        u_xx = jax.grad(jax.grad(u, argnums=0), argnums=0)(x, y, t)
        u_yy = jax.grad(jax.grad(u, argnums=1), argnums=1)(x, y, t)
        return u_t - self.nu * (u_xx + u_yy)

    def reference(self, coords, t, *, dt: float | None = None) -> Float[Array, "t nx ny 1"]:
        """Periodic: `coords["x"]` are the n grid points of `[0, 2 pi)`. Dirichlet: the
        n + 1 nodes of `[0, pi]`, boundary included (the same for y)."""
        if self.boundary == "periodic":
            return super().reference(coords, t, dt=dt)
        x = np.asarray(coords["x"])
        if not np.allclose(x, np.pi * np.arange(len(x)) / max(1, len(x) - 1), atol=1e-12):
            raise ValueError("Heat2D(dirichlet).reference needs the uniform nodes of [0, pi] "
                             "(endpoints included)")
        n = 2 * (len(x) - 1)
        # The sine series is odd about 0 and pi: solve on the periodic extension.
        u = super().reference({"x": 2 * np.pi * np.arange(n) / n}, t, dt=dt)
        return u[:, : n // 2 + 1, : n // 2 + 1]

    def exact_solution(self, coords, t):
        return on_grid(self.solution, coords, t)

    def pointwise_form(self) -> PointwiseForm | None:
        # (a PINN's inputs are periodic here; the Dirichlet box has no such form yet)
        return super().pointwise_form() if self.boundary == "periodic" else None

    def data_plan(self, resolution, **options) -> DataPlan:
        """As every periodic problem; the Dirichlet box has no random-field sampler."""
        if self.boundary != "periodic":
            raise ValueError(f"dataset generation draws periodic random fields; build the "
                             f"problem with boundary=periodic (got {self.boundary!r})")
        return super().data_plan(resolution, **options)

    def reference_run(self, resolution, t, *, dt=None) -> ReferenceRun:
        """Periodic: the grid of `[0, 2 pi)`; Dirichlet: `resolution` intervals of
        `[0, pi]`, boundary nodes included."""
        if self.boundary == "periodic":
            return super().reference_run(resolution, t, dt=dt)
        return time_2d_run(self, np.pi * np.arange(resolution + 1) / resolution, t, dt=dt)


class Wave1D(AbstractProblem):
    """`u_tt = c^2 u_xx` on `[0, 2 pi)` periodic, `u0 = sin(x) + 0.5 sin(3 x)`, `u_t(0) = 0`;
    exact `sin(x) cos(c t) + 0.5 sin(3x) cos(3 c t)` (d'Alembert)."""

    c: float  # an array leaf under a caller's jit / vmap / grad
    t_final: float = eqx.field(static=True)

    @property
    def domain(self) -> Torus:
        return Torus([0.0], [2 * math.pi])

    @property
    def parameters(self) -> dict[str, Any]:
        return {"c": self.c, "t_final": self.t_final}

    def solution(self, x, t):
        return jnp.sin(x) * jnp.cos(self.c * t) + 0.5 * jnp.sin(3 * x) * jnp.cos(3 * self.c * t)

    def residual(self, u, x, t):
        u_tt = jax.grad(jax.grad(u, argnums=1), argnums=1)(x, t)
        u_xx = jax.grad(jax.grad(u, argnums=0), argnums=0)(x, t)
        return u_tt - self.c**2 * u_xx

    def reference(self, coords, t) -> Float[Array, "t n 1"]:
        """Spectral in space, exact in time: each Fourier mode evolves as `cos(c k t)`."""
        x = jnp.asarray(coords["x"])
        grid = PeriodicGrid(len(x), 2 * math.pi)
        k = grid.wavenumbers()[0]
        v0 = grid.to_spectral(self.solution(x, 0.0))
        t = jnp.asarray(t)
        return grid.to_physical(v0[None] * jnp.cos(self.c * k[None] * t[:, None]))[..., None]

    def exact_solution(self, coords, t):
        return on_grid(self.solution, coords, t)

    def reference_run(self, resolution, t, *, dt=None) -> ReferenceRun:
        """Spectral on `resolution` points of `[0, 2 pi)`, against d'Alembert."""
        return time_1d_run(self, 2 * np.pi * np.arange(resolution) / resolution, t)


class FisherKPP1D(AbstractPeriodic1D):
    """`u_t = D u_xx + r u (1 - u)` (Fisher-KPP diffusion-reaction) on `[-L/2, L/2)`
    periodic, `u0 = exp(-x^2)`: a pair of fronts at speed about `2 sqrt(D r)`."""

    diffusion: float  # an array leaf under a caller's jit / vmap / grad
    rate: float  # an array leaf under a caller's jit / vmap / grad
    length: float = eqx.field(static=True)
    t_final: float = eqx.field(static=True)
    default_dt = 1e-2

    @property
    def interval(self) -> tuple[float, float]:
        return (-self.length / 2, self.length / 2)

    def initial_condition(self, x):
        return jnp.exp(-(x**2))

    def symbol(self, k):
        return -self.diffusion * k**2 + 0j

    def nonlinear(self, grid, v):
        u = grid.to_physical(v)
        return grid.to_spectral(self.rate * u * (1 - u))

    def stable_dt(self, grid, u0):
        # The reaction's Jacobian r (1 - 2u); RK4-like stability |lambda dt| <= 2.78.
        peak = float(jnp.max(jnp.abs(1 - 2 * u0)))
        return 2.5 / (self.rate * max(1.0, peak))

    def residual(self, u, x, t):
        u_t = jax.grad(u, argnums=1)(x, t)
        u_xx = jax.grad(jax.grad(u, argnums=0), argnums=0)(x, t)
        val = u(x, t)
        return u_t - self.diffusion * u_xx - self.rate * val * (1 - val)

    @property
    def parameters(self) -> dict[str, Any]:
        return {"diffusion": self.diffusion, "rate": self.rate, "length": self.length,
                "t_final": self.t_final}


register("heat2d", Heat2D,
         (Param("nu", 0.1, "diffusivity", float, positive),
          Param("modes", 3, "Fourier modes per axis in u0", int,
                lambda v: None if v >= 1 else "must be at least 1"),
          Param("boundary", "periodic", "periodic ([0, 2 pi)^2) or dirichlet ([0, pi]^2)", str,
                choices=("periodic", "dirichlet")),
          Param("t_final", 1.0, "final time", float, positive)),
         summary="u_t = nu Delta u in 2D, periodic or Dirichlet; exact series", family="heat")
register("wave1d", Wave1D,
         (Param("c", 1.0, "wave speed", float, positive),
          Param("t_final", 2.0, "final time", float, positive)),
         summary="u_tt = c^2 u_xx on [0, 2 pi) periodic; exact d'Alembert", family="wave")
register("fisher_kpp1d", FisherKPP1D,
         (Param("diffusion", 1.0, "diffusion coefficient D", float, positive),
          Param("rate", 1.0, "growth rate r", float, positive),
          Param("length", 80.0, "period of the domain", float, positive),
          Param("t_final", 10.0, "final time", float, positive)),
         summary="u_t = D u_xx + r u (1 - u) periodic (diffusion-reaction)",
         family="diffusion_reaction")


class AllenCahn2D(AbstractPeriodic2D):
    """`u_t = eps Delta u + a (u - u^3)` on the periodic square `[-1, 1)^2`,
    `u0 = 0.5 sin(pi x) sin(pi y) + 0.1 cos(2 pi x)` (phase separation into +-1 domains).
    Reference: pseudo-spectral ETDRK4 with 2/3 dealiasing."""

    epsilon: float  # an array leaf under a caller's jit / vmap / grad
    a: float  # an array leaf under a caller's jit / vmap / grad
    t_final: float = eqx.field(static=True)
    default_dt = 1e-2
    square = (-1.0, 1.0)

    @property
    def parameters(self) -> dict[str, Any]:
        return {"epsilon": self.epsilon, "a": self.a, "t_final": self.t_final}

    def initial_condition(self, x, y):
        return (0.5 * jnp.sin(jnp.pi * x) * jnp.sin(jnp.pi * y)
                + 0.1 * jnp.cos(2 * jnp.pi * x))

    def symbol(self, kx, ky):
        return (-self.epsilon * (kx**2 + ky**2)) + 0j

    def nonlinear(self, grid, v):
        u = grid.to_physical(v)
        return grid.to_spectral(self.a * (u - u**3))

    def stable_dt(self, grid, u0):
        return reaction_dt(u0, self.a)

    def residual(self, u, x, y, t):
        u_t = jax.grad(u, argnums=2)(x, y, t)
        u_xx = jax.grad(jax.grad(u, argnums=0), argnums=0)(x, y, t)
        u_yy = jax.grad(jax.grad(u, argnums=1), argnums=1)(x, y, t)
        val = u(x, y, t)
        return u_t - self.epsilon * (u_xx + u_yy) - self.a * (val - val**3)


register("allen_cahn2d", AllenCahn2D,
         (Param("epsilon", 1e-3, "diffusion coefficient", float, positive),
          Param("a", 1.0, "reaction strength", float, positive),
          Param("t_final", 1.0, "final time", float, positive)),
         summary="u_t = eps Delta u + a (u - u^3) on [-1, 1)^2 periodic", family="allen_cahn")
