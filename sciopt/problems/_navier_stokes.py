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
from jaxtyping import Array, Float

from ..geometry import Torus
from ..solvers import PeriodicGrid, solve_on_grid
from ._registry import AbstractProblem, Param, positive, register, save_schedule


class NavierStokes2D(AbstractProblem):
    """2D incompressible Navier-Stokes (vorticity form) on the periodic square.

    **Arguments:**

    - `nu`: viscosity (> 0).
    - `initial`: `"taylor_green"` (exact solution known) or `"random"` (Gaussian random
      field, seeded by `seed`).
    - `forcing`: `"none"` or `"kolmogorov"` (wavenumber `forcing_wavenumber`, linear drag
      `drag`).
    - `t_final`: final time.
    """

    nu: float = eqx.field(static=True)
    initial: str = eqx.field(static=True)
    forcing: str = eqx.field(static=True)
    forcing_wavenumber: int = eqx.field(static=True)
    drag: float = eqx.field(static=True)
    seed: int = eqx.field(static=True)
    t_final: float = eqx.field(static=True)
    default_dt = 1e-2

    @property
    def domain(self) -> Torus:
        return Torus([0.0, 0.0], [2 * math.pi, 2 * math.pi])

    @property
    def parameters(self) -> dict[str, Any]:
        return {"nu": self.nu, "initial": self.initial, "forcing": self.forcing,
                "forcing_wavenumber": self.forcing_wavenumber, "drag": self.drag,
                "seed": self.seed, "t_final": self.t_final}

    def grid(self, n: int) -> PeriodicGrid:
        return PeriodicGrid([n, n], [2 * math.pi, 2 * math.pi])

    def solution(self, x, y, t):
        """The Taylor-Green vorticity (exact when `initial="taylor_green"`, no forcing)."""
        return 2 * jnp.sin(x) * jnp.sin(y) * jnp.exp(-2 * self.nu * t)

    def initial_condition(self, grid: PeriodicGrid) -> Float[Array, "n n"]:
        x, y = grid.points()
        if self.initial == "taylor_green":
            return self.solution(x, y, 0.0)
        from ..data import gaussian_random_field

        return gaussian_random_field(jax.random.key(self.seed), grid, length_scale=0.5)

    def _forcing(self, grid: PeriodicGrid) -> Array:
        if self.forcing == "none":
            return jnp.zeros(grid.sizes)
        n = self.forcing_wavenumber
        return n * jnp.cos(n * grid.points()[1])

    def solve(self, w0: Float[Array, "... n n"], t: Float[Array, " t"], *,
              dt: float | None = None) -> Float[Array, "... t n n"]:
        """Vorticity trajectories from `w0` saved at uniformly spaced times `t` from 0."""
        w0 = jnp.asarray(w0)
        grid = self.grid(w0.shape[-1])
        t, per_save, step = save_schedule(t, dt, self.default_dt)
        kx, ky = grid.wavenumbers()
        k2 = kx**2 + ky**2
        inv_k2 = jnp.where(k2 == 0, 0.0, 1.0 / jnp.where(k2 == 0, 1.0, k2))
        mask = grid.dealias_mask()
        drag = self.drag if self.forcing == "kolmogorov" else 0.0
        symbol = (-self.nu * k2 - drag) + 0j
        forcing = grid.to_spectral(self._forcing(grid))

        def nonlinear(v):
            psi = v * inv_k2  # -Delta psi = w
            u = grid.to_physical(1j * ky * psi)  # u = psi_y
            w_y = grid.to_physical(1j * ky * v)
            v_ = grid.to_physical(-1j * kx * psi)  # v = -psi_x
            w_x = grid.to_physical(1j * kx * v)
            return mask * (-grid.to_spectral(u * w_x + v_ * w_y)) + forcing

        def one(w):
            return solve_on_grid(grid, symbol, nonlinear, w, dt=step,
                                 num_steps=per_save * (len(t) - 1), save_every=per_save)

        flat = w0.reshape(-1, *w0.shape[-2:])
        return jax.vmap(one)(flat).reshape(*w0.shape[:-2], len(t), *w0.shape[-2:])

    def reference(self, coords, t, *, dt: float | None = None) -> Float[Array, "t n n 1"]:
        """ETDRK4 from the problem's initial vorticity on the `n x n` periodic grid given by
        `coords["x"]` (and `coords["y"]`, the same)."""
        n = len(coords["x"])
        grid = self.grid(n)
        grid.check_axis(coords["x"], "NavierStokes2D.reference")
        return self.solve(self.initial_condition(grid), t, dt=dt)[..., None]


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
