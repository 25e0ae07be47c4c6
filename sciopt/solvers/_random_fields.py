"""Periodic Gaussian random fields on a `PeriodicGrid`, drawn by filtering white noise in
Fourier space: the random initial conditions and coefficients of the data generators, the
problems and the inverse problems (here, below all three, so none imports another)."""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, PRNGKeyArray

from ..validate import positive_float, prng_key
from ._spectral import PeriodicGrid


def _filtered_noise(key: PRNGKeyArray, grid: PeriodicGrid,
                    amplitude: Float[Array, "..."]) -> tuple[Float[Array, "..."], Array]:
    """White noise on `grid` filtered by `amplitude` (on the `rfftn` modes) and scaled to unit
    pointwise variance; also the `rfftn` modes' multiplicities (the half spectrum's
    interior modes stand for two modes of the full one)."""
    noise = jax.random.normal(key, grid.sizes, jnp.result_type(float))
    field = grid.to_physical(grid.to_spectral(noise) * amplitude)
    full = np.ones(grid.sizes[-1] // 2 + 1) * 2
    full[0] = 1
    if grid.sizes[-1] % 2 == 0:
        full[-1] = 1
    weight = jnp.asarray(full.reshape((1,) * (grid.ndim - 1) + (-1,)))
    # Pointwise variance of the filtered white noise: mean of |amplitude|^2 over all modes.
    shape = jnp.broadcast_shapes(amplitude.shape, weight.shape)
    variance = jnp.sum(weight * jnp.broadcast_to(amplitude**2, shape)) / math.prod(grid.sizes)
    return field / jnp.sqrt(variance), weight


def _check_grid(grid: Any) -> None:
    if not callable(getattr(grid, "wavenumbers", None)):  # the grid protocol, not a class
        raise ValueError(f"grid must be a sciopt.solvers.PeriodicGrid; got {type(grid).__name__}")


def gaussian_random_field(key: PRNGKeyArray, grid: PeriodicGrid, *, length_scale: float,
                          std: float = 1.0) -> Float[Array, "..."]:
    """A periodic, zero-mean Gaussian random field on `grid` with squared-exponential
    covariance `std^2 exp(-|x - y|^2 / (2 length_scale^2))` (periodised), drawn by filtering
    white noise in Fourier space and normalised to pointwise standard deviation `std`."""
    prng_key("key", key)
    _check_grid(grid)
    length_scale = positive_float("length_scale", length_scale)
    std = positive_float("std", std)
    k2 = sum(k**2 for k in grid.wavenumbers())
    # The covariance's spectrum is proportional to exp(-k^2 l^2 / 2); filter by its root.
    field, _ = _filtered_noise(key, grid, jnp.exp(-k2 * length_scale**2 / 4))
    return std * field


def matern_random_field(key: PRNGKeyArray, grid: PeriodicGrid, *, alpha: float, tau: float,
                        sigma: float) -> Float[Array, "..."]:
    """A periodic Gaussian random field with covariance operator
    `sigma^2 (-Laplacian + tau^2)^(-alpha)` on the grid's torus and zero mean mode: the
    initial conditions of the FNO paper's Burgers set (`alpha = 2, tau = 5, sigma = 25` on
    the unit period); its Darcy coefficients threshold such a field with other parameters.

    The covariance's eigenvalues are `sigma^2 (|k|^2 + tau^2)^(-alpha)` at the angular
    wavenumbers `k` of the torus of volume `V`, so the pointwise variance is their sum over
    the grid's modes (bar `k = 0`) divided by `V`; on the unit period each Fourier
    coefficient `a_k cos(2 pi k x) + b_k sin(2 pi k x)` has standard deviation
    `sqrt(2) sigma ((2 pi k)^2 + tau^2)^(-alpha / 2)`, as in the FNO authors' generator.
    Drawn by filtering white noise in Fourier space (exact for the modes the grid holds).

    Reference: Li et al., "Fourier Neural Operator for Parametric Partial Differential
    Equations", ICLR 2021 (data generation).
    """
    prng_key("key", key)
    alpha = positive_float("alpha", alpha)
    tau = positive_float("tau", tau)
    sigma = positive_float("sigma", sigma)
    _check_grid(grid)
    k2 = sum(k**2 for k in grid.wavenumbers())
    eigenvalues = sigma**2 * (k2 + tau**2) ** (-alpha)
    eigenvalues = jnp.where(k2 == 0, 0.0, eigenvalues)  # no mean mode
    field, weight = _filtered_noise(key, grid, jnp.sqrt(eigenvalues))
    shape = jnp.broadcast_shapes(eigenvalues.shape, weight.shape)
    variance = jnp.sum(weight * jnp.broadcast_to(eigenvalues, shape)) / math.prod(grid.lengths)
    return jnp.sqrt(variance) * field
