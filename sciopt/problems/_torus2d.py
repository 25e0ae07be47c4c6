"""Nonlinear problems on the periodic square `[0, 2 pi)^2` in the TENG paper's setting
(Chen et al., ICML 2024: diffusion 0.1, T = 4): Allen–Cahn and viscous Burgers, with
pseudo-spectral ETDRK4 references."""

from __future__ import annotations

import math
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp

from ._registry import Param, positive, register
from ._semilinear import AbstractPeriodic2D, _advective_dt, reaction_dt


def _u0(x, y):
    """A smooth, non-separable initial state with several modes (our choice: the paper's
    initial states are not published with its code)."""
    return (0.5 * jnp.sin(x) * jnp.sin(y) + 0.25 * jnp.sin(2 * x) * jnp.cos(y + 1.0)
            + 0.1 * jnp.cos(x + 2 * y))


def _laplacian(u, x, y, t):
    u_xx = jax.grad(jax.grad(u, argnums=0), argnums=0)(x, y, t)
    u_yy = jax.grad(jax.grad(u, argnums=1), argnums=1)(x, y, t)
    return u_xx + u_yy


class _Torus2D(AbstractPeriodic2D):
    diffusion: float  # an array leaf under a caller's jit / vmap / grad
    t_final: float = eqx.field(static=True)
    default_dt = 5e-3
    square = (0.0, 2 * math.pi)

    @property
    def parameters(self) -> dict[str, Any]:
        return {"diffusion": self.diffusion, "t_final": self.t_final}

    def initial_condition(self, x, y):
        return _u0(x, y)

    def symbol(self, kx, ky):
        return (-self.diffusion * (kx**2 + ky**2)) + 0j


class AllenCahnTorus2D(_Torus2D):
    """`u_t = D Delta u + u - u^3` on `[0, 2 pi)^2`, periodic (the TENG paper's form)."""

    def nonlinear(self, grid, v):
        u = grid.to_physical(v)
        return grid.to_spectral(u - u**3)

    def stable_dt(self, grid, u0):
        return reaction_dt(u0, 1.0)

    def residual(self, u, x, y, t):
        val = u(x, y, t)
        return (jax.grad(u, argnums=2)(x, y, t) - self.diffusion * _laplacian(u, x, y, t)
                - (val - val**3))


class Burgers2D(_Torus2D):
    """`u_t = D Delta u - u (u_x + u_y)` on `[0, 2 pi)^2`, periodic (the TENG paper's
    form); the reference uses the conservative `-(u^2 / 2)_x - (u^2 / 2)_y`."""

    def nonlinear(self, grid, v):
        kx, ky = grid.wavenumbers()
        u = grid.to_physical(v)
        return -0.5j * (kx + ky) * grid.to_spectral(u * u)

    def stable_dt(self, grid, u0):
        return _advective_dt(grid, u0, 2.0)

    def residual(self, u, x, y, t):
        val = u(x, y, t)
        u_x = jax.grad(u, argnums=0)(x, y, t)
        u_y = jax.grad(u, argnums=1)(x, y, t)
        return (jax.grad(u, argnums=2)(x, y, t) - self.diffusion * _laplacian(u, x, y, t)
                + val * (u_x + u_y))


_PARAMS = (Param("diffusion", 0.1, "diffusion coefficient D", float, positive),
           Param("t_final", 4.0, "final time", float, positive))
register("allen_cahn_torus2d", AllenCahnTorus2D, _PARAMS,
         summary="u_t = D Delta u + u - u^3 on [0, 2 pi)^2 periodic (TENG setting)",
         family="allen_cahn")
register("burgers2d", Burgers2D, _PARAMS,
         summary="u_t = D Delta u - u (u_x + u_y) on [0, 2 pi)^2 periodic (TENG setting)",
         family="burgers")
