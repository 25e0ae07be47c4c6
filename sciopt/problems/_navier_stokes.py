"""Incompressible Navier-Stokes in two dimensions, vorticity form, on the periodic square
`[0, 2 pi)^2`:

    w_t + u . grad w = nu Delta w + f,   u = (psi_y, -psi_x),   -Delta psi = w,

with the Taylor-Green vortex (exact: `w = 2 sin x sin y exp(-2 nu t)`) or a random initial
vorticity, and optional Kolmogorov forcing `f = n cos(n y) - drag w` (Chandler & Kerswell,
2013). Reference: pseudo-spectral ETDRK4 with 2/3 dealiasing.
"""

from __future__ import annotations

import math
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Complex, Float

from ..solvers import PeriodicGrid
from ._reference import on_grid
from ._registry import Param, positive, register
from ._semilinear import AbstractPeriodic2D


class NavierStokes2D(AbstractPeriodic2D):
    """2D incompressible Navier-Stokes (vorticity form) on the periodic square.

    **Arguments:**

    - `nu`: viscosity (> 0).
    - `initial`: `"taylor_green"` (exact solution known) or `"random"` (Gaussian random
      field, seeded by `seed`).
    - `forcing`: `"none"` or `"kolmogorov"` (wavenumber `forcing_wavenumber`, linear drag
      `drag`).
    - `t_final`: final time.
    """

    nu: float  # an array leaf under a caller's jit / vmap / grad
    initial: str = eqx.field(static=True)
    forcing: str = eqx.field(static=True)
    forcing_wavenumber: int = eqx.field(static=True)
    drag: float  # an array leaf under a caller's jit / vmap / grad
    seed: int = eqx.field(static=True)
    t_final: float = eqx.field(static=True)
    default_dt = 1e-2
    square = (0.0, 2 * math.pi)

    @property
    def parameters(self) -> dict[str, Any]:
        return {"nu": self.nu, "initial": self.initial, "forcing": self.forcing,
                "forcing_wavenumber": self.forcing_wavenumber, "drag": self.drag,
                "seed": self.seed, "t_final": self.t_final}

    def solution(self, x, y, t):
        """The Taylor-Green vorticity (exact when `initial="taylor_green"`, no forcing)."""
        return 2 * jnp.sin(x) * jnp.sin(y) * jnp.exp(-2 * self.nu * t)

    def pointwise_form(self) -> None:
        """None: the residual acts on the stream function, not on the state (vorticity)."""
        return None

    def exact_solution(self, coords, t):
        if self.initial == "taylor_green" and self.forcing == "none":
            return on_grid(self.solution, coords, t)
        return None

    def initial_condition(self, x, y) -> Float[Array, "n n"]:
        if self.initial == "taylor_green":
            return self.solution(x, y, 0.0)
        from ..solvers import gaussian_random_field

        return gaussian_random_field(jax.random.key(self.seed), self.grid(x.shape[0]),
                                     length_scale=0.5)

    def symbol(self, kx, ky):
        drag = self.drag if self.forcing == "kolmogorov" else 0.0
        return (-self.nu * (kx**2 + ky**2) - drag) + 0j

    def velocity(self, grid: PeriodicGrid, v: Complex[Array, "n m"]
                 ) -> tuple[Float[Array, "n n"], Float[Array, "n n"]]:
        """The velocity `(psi_y, -psi_x)` of the spectral vorticity `v` (`-Delta psi = w`)."""
        kx, ky = grid.wavenumbers()
        k2 = kx**2 + ky**2
        psi = v * jnp.where(k2 == 0, 0.0, 1.0 / jnp.where(k2 == 0, 1.0, k2))
        return grid.to_physical(1j * ky * psi), grid.to_physical(-1j * kx * psi)

    def nonlinear(self, grid, v):
        kx, ky = grid.wavenumbers()
        u, v_ = self.velocity(grid, v)
        w_x = grid.to_physical(1j * kx * v)
        w_y = grid.to_physical(1j * ky * v)
        out = -grid.to_spectral(u * w_x + v_ * w_y)
        if self.forcing == "kolmogorov":
            n = self.forcing_wavenumber
            out = out + grid.to_spectral(n * jnp.cos(n * grid.points()[1]))
        return out

    def residual(self, psi, x, y, t):
        """The vorticity-equation residual of a stream function `psi(x, y, t)` at one point:
        `w = -Delta psi`, `(u, v) = (psi_y, -psi_x)` (divergence-free by construction) and
        `w_t + u w_x + v w_y - nu Delta w - f (+ drag w)`."""
        def d(f, i):
            return jax.grad(f, argnums=i)

        def w(x, y, t):
            return -(d(d(psi, 0), 0)(x, y, t) + d(d(psi, 1), 1)(x, y, t))

        u, v = d(psi, 1)(x, y, t), -d(psi, 0)(x, y, t)
        lap_w = d(d(w, 0), 0)(x, y, t) + d(d(w, 1), 1)(x, y, t)
        r = d(w, 2)(x, y, t) + u * d(w, 0)(x, y, t) + v * d(w, 1)(x, y, t) - self.nu * lap_w
        if self.forcing == "kolmogorov":
            n = self.forcing_wavenumber
            r = r - n * jnp.cos(n * y) + self.drag * w(x, y, t)
        return r

    def stable_dt(self, grid, w0):
        """An advective CFL limit, `0.9 dx / max(|u| + |v|)`, for the initial vorticities."""
        u, v = self.velocity(grid, grid.to_spectral(jnp.asarray(w0)))
        peak = float(jnp.max(jnp.abs(u) + jnp.abs(v)))
        return math.inf if peak == 0 else 0.9 * grid.spacing[0] / peak


register(
    "navier_stokes2d", NavierStokes2D,
    (Param("nu", 1e-2, "viscosity", float, positive),
     Param("initial", "taylor_green", "initial vorticity: taylor_green or random", str,
           choices=("taylor_green", "random")),
     Param("forcing", "none", "none or kolmogorov", str, choices=("none", "kolmogorov")),
     Param("forcing_wavenumber", 4, "Kolmogorov forcing wavenumber", int,
           lambda v: None if v >= 1 else "must be at least 1"),
     Param("drag", 0.1, "linear drag with Kolmogorov forcing", float,
           lambda v: None if v >= 0 else "must be non-negative"),
     Param("seed", 0, "seed of the random initial vorticity", int),
     Param("t_final", 1.0, "final time", float, positive)),
    summary="2D incompressible Navier-Stokes, vorticity form, periodic; Taylor-Green exact",
    family="navier_stokes",
)
