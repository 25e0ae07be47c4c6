"""Closed-form laws the particle methods are checked against: the Barenblatt solution of
the porous-medium equation and its second moment (Vázquez 2007), and the Gaussian law of an
Ornstein-Uhlenbeck process."""

from __future__ import annotations

import math

import jax.numpy as jnp
from jaxtyping import Array, Float

from sciopt.validate import array, positive_float, positive_int, real


def _barenblatt_constants(m: float, d: int, mass: float):
    """(alpha, beta, k, C, p) of the Barenblatt solution of d rho / dt = Laplacian(rho^m)."""
    m, mass = positive_float("m", m), positive_float("mass", mass)
    if m <= 1:
        raise ValueError(f"the Barenblatt solution needs m > 1; got {m}")
    alpha = d / (d * (m - 1) + 2)
    beta = alpha / d
    k = alpha * (m - 1) / (2 * m * d)
    p = 1 / (m - 1)
    # mass = C^(p + d/2) k^(-d/2) pi^(d/2) Gamma(p + 1) / Gamma(p + 1 + d/2)
    log_c = (math.log(mass) + d / 2 * math.log(k) + math.lgamma(p + 1 + d / 2)
             - d / 2 * math.log(math.pi) - math.lgamma(p + 1)) / (p + d / 2)
    return alpha, beta, k, math.exp(log_c), p


def barenblatt(x: Float[Array, "N d"], t: float, m: float, mass: float = 1.0
               ) -> Float[Array, " N"]:
    """The Barenblatt (source-type) solution of the porous-medium equation
    `d rho / dt = Laplacian(rho^m)`, m > 1, of total mass `mass`, at points `x` and time t:
    `rho = t^-alpha (C - k |x|^2 t^(-2 beta))_+^(1 / (m - 1))`, `alpha = d / (d (m - 1) + 2)`,
    `beta = alpha / d`, `k = alpha (m - 1) / (2 m d)`.

    Reference: Vázquez, "The porous medium equation: mathematical theory" (2007), ch. 4.
    """
    x = array("x", x, shape=("N", "d"))
    t = real("t", t)
    alpha, beta, k, c, p = _barenblatt_constants(m, x.shape[-1], mass)
    core = c - k * jnp.sum(x**2, axis=-1) * t ** (-2 * beta)
    return t ** (-alpha) * jnp.maximum(core, 0.0) ** p


def barenblatt_second_moment(t: float, m: float, d: int, mass: float = 1.0) -> float:
    """`∫ |x|^2 rho dx` of `barenblatt` at time t: `mass t^(2 beta) (C / k) d / (2p + 2 + d)`
    with p = 1 / (m - 1)."""
    t = positive_float("t", t)
    d = positive_int("d", d)
    _, beta, k, c, p = _barenblatt_constants(m, d, mass)
    return mass * t ** (2 * beta) * (c / k) * d / (2 * p + 2 + d)


def ornstein_uhlenbeck_law(
    a: Float[Array, "d d"],
    b: Float[Array, " d"],
    mean0: Float[Array, " d"],
    cov0: Float[Array, "d d"],
    t: float,
    temperature: float = 1.0,
) -> tuple[Float[Array, " d"], Float[Array, "d d"]]:
    """The Gaussian law at time t of `dX = -A (X - b) dt + sqrt(2 lambda) dW` (A symmetric
    positive definite) started from `N(mean0, cov0)`: mean `e^{-At} m0 + (I - e^{-At}) b`,
    covariance `e^{-At} S0 e^{-At} + lambda A^{-1} (I - e^{-2At})`. Its stationary law is
    `N(b, lambda A^{-1})`; the Fokker–Planck equation is the Wasserstein gradient flow of
    `∫ 1/2 (x - b)^T A (x - b) drho + lambda ∫ rho log rho`.

    **Returns:** `(mean [d], cov [d, d])`.
    """
    a = array("a", a, ndim=2)
    d = a.shape[0]
    a = array("a", a, shape=(d, d))
    b = array("b", b, shape=(d,))
    mean0 = array("mean0", mean0, shape=(d,))
    cov0 = array("cov0", cov0, shape=(d, d))
    t = real("t", t, low_inclusive=True)
    temperature = real("temperature", temperature, low_inclusive=True)
    evals, evecs = jnp.linalg.eigh(0.5 * (a + a.T))
    decay = (evecs * jnp.exp(-evals * t)) @ evecs.T
    noise = (evecs * (temperature * -jnp.expm1(-2 * evals * t) / evals)) @ evecs.T
    b, mean0 = jnp.asarray(b, a.dtype), jnp.asarray(mean0, a.dtype)
    mean = decay @ mean0 + b - decay @ b
    return mean, decay @ jnp.asarray(cov0, a.dtype) @ decay + noise
