"""Symmetric mean-field Langevin (MFL-AG, MFL-DA) on a quadratic–Gaussian game with a known
mixed Nash equilibrium, exactness of the averaged force for both payoff forms, bad input.

Game: L(mu, nu) = ∫∫ x^T B y dmu dnu + ∫ a/2 |x - p|^2 dmu - ∫ c/2 |y - q|^2 dnu, entropy
lambda for both players. The equilibrium is mu = N(m_mu, lambda/a I), nu = N(m_nu, lambda/c I)
with m_mu = p - B m_nu / a and m_nu = q + B^T m_mu / c."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import flows

A, C, LAM = 1.0, 2.0, 0.5
BMAT = jnp.array([[1.0, 0.5], [-0.3, 1.0]])
P, Q = jnp.array([1.0, 0.0]), jnp.array([0.0, -1.0])


def _potentials():
    return dict(potential_x=lambda x: 0.5 * A * jnp.sum((x - P) ** 2),
                potential_y=lambda y: 0.5 * C * jnp.sum((y - Q) ** 2))


FEATURES = flows.MinimaxGame(features=(lambda x: x, lambda y: BMAT @ y), **_potentials())
PAYOFF = flows.MinimaxGame(payoff=lambda x, y: x @ BMAT @ y, block_size=64, **_potentials())


def _equilibrium():
    b = np.asarray(BMAT)
    m_mu = np.linalg.solve(np.eye(2) + b @ b.T / (A * C), np.asarray(P) - b @ np.asarray(Q) / A)
    return m_mu, np.asarray(Q) + b.T @ m_mu / C


@pytest.mark.parametrize("averaged", [True, False])
def test_reaches_the_mixed_nash_equilibrium(averaged):
    n = 2000
    x0 = jax.random.normal(jax.random.key(0), (n, 2))
    y0 = jax.random.normal(jax.random.key(1), (n, 2))
    out = flows.minimax_langevin(FEATURES, flows.SymmetricMFL(LAM, 0.02, averaged=averaged),
                                 x0, y0, steps=3000, save_every=1000, key=jax.random.key(2))
    m_mu, m_nu = _equilibrium()
    x, y = np.asarray(out.x[-1]), np.asarray(out.y[-1])
    # Monte Carlo: sd of a mean is sqrt(var / n); the coupled means fluctuate a little more
    # than independent ones, so the bound is 6 sd. Euler–Maruyama's stationary variance is
    # lambda / (a (1 - a dt / 2)): 1-2 % high at dt = 0.02.
    assert np.all(np.abs(x.mean(0) - m_mu) < 6 * math.sqrt(LAM / A / n)), (x.mean(0), m_mu)
    assert np.all(np.abs(y.mean(0) - m_nu) < 6 * math.sqrt(LAM / C / n)), (y.mean(0), m_nu)
    tol = 4.5 * math.sqrt(2 / n) + 0.03
    assert np.all(np.abs(x.var(0) * A / LAM - 1) < tol), x.var(0)
    assert np.all(np.abs(y.var(0) * C / LAM - 1) < tol), y.var(0)


def test_buffered_payoff_equals_exact_feature_averaging():
    """With a buffer that holds every step, the general-payoff path (blocked kernel sums over
    all past particles) must give the feature path's exact running averages: same noise,
    same trajectory to round-off."""
    x0 = jax.random.normal(jax.random.key(3), (64, 2))
    y0 = jax.random.normal(jax.random.key(4), (48, 2))
    kw = dict(steps=40, save_every=20, key=jax.random.key(5))
    method = flows.SymmetricMFL(LAM, 0.05, weight_exponent=1.5, history=40)
    exact = flows.minimax_langevin(FEATURES, method, x0, y0, **kw)
    buffered = flows.minimax_langevin(PAYOFF, method, x0, y0, **kw)
    np.testing.assert_allclose(buffered.x, exact.x, atol=1e-12)
    np.testing.assert_allclose(buffered.y, exact.y, atol=1e-12)
    # Descent-ascent: the same with the current iterate only.
    da = flows.SymmetricMFL(LAM, 0.05, averaged=False)
    np.testing.assert_allclose(flows.minimax_langevin(PAYOFF, da, x0, y0, **kw).x,
                               flows.minimax_langevin(FEATURES, da, x0, y0, **kw).x,
                               atol=1e-12)


def test_payoff_with_different_dimensions_and_value():
    game = flows.MinimaxGame(payoff=lambda x, y: jnp.sum(x) * y[0],
                             potential_y=lambda y: y @ y)
    x = jax.random.normal(jax.random.key(6), (30, 3))
    y = jax.random.normal(jax.random.key(7), (20, 1))
    expect = np.mean(np.asarray(x).sum(1)) * np.mean(np.asarray(y)[:, 0]) - np.mean(
        np.asarray(y)[:, 0] ** 2)
    np.testing.assert_allclose(game.value(x, y), expect, rtol=1e-13)
    out = flows.minimax_langevin(game, flows.SymmetricMFL(0.1, 0.01), x, y, steps=5,
                                 key=jax.random.key(8))
    assert out.x.shape == (2, 30, 3) and out.y.shape == (2, 20, 1)
    assert bool(jnp.all(jnp.isfinite(out.x))) and bool(jnp.all(jnp.isfinite(out.y)))


def test_bad_input_is_rejected():
    x0 = jnp.zeros((10, 2))
    method = flows.SymmetricMFL(LAM, 0.1)
    key = jax.random.key(0)
    with pytest.raises(ValueError, match="exactly one"):
        flows.MinimaxGame()
    stiff = flows.MinimaxGame(payoff=lambda x, y: x @ y, potential_y=lambda y: 40.0 * y @ y)
    with pytest.raises(ValueError, match="stability bound"):
        flows.minimax_langevin(stiff, method, x0, x0, steps=1, key=key)
    with pytest.raises(ValueError, match="exactly one"):
        flows.MinimaxGame(payoff=lambda x, y: x @ y, features=(jnp.sin, jnp.cos))
    with pytest.raises(ValueError, match="temperature"):
        flows.SymmetricMFL(0.0, 0.1)
    with pytest.raises(ValueError, match="history"):
        flows.SymmetricMFL(LAM, 0.1, history=0)
    with pytest.raises(ValueError, match="NaN"):
        flows.minimax_langevin(PAYOFF, method, x0, x0.at[1, 1].set(jnp.nan), steps=2, key=key)
    with pytest.raises(ValueError, match="one length"):
        flows.minimax_langevin(flows.MinimaxGame(features=(lambda x: x, lambda y: y[:1])),
                               method, x0, x0, steps=2, key=key)
    with pytest.raises(ValueError, match="divide"):
        flows.minimax_langevin(PAYOFF, method, x0, x0, steps=3, save_every=2, key=key)
