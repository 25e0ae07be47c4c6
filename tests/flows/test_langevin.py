"""Mean-field Langevin dynamics against closed forms: the Ornstein–Uhlenbeck law at a finite
time, and the N-particle Gibbs law of a quadratic confinement plus quadratic interaction
(overdamped and underdamped). Blocked forces against dense ones; bad input.

Monte-Carlo bounds: a sample mean of N draws with variance s has standard deviation
sqrt(s / N); a sample variance has relative standard deviation sqrt(2 / N) (Gaussian law).
The tolerances are 4.5 of those standard deviations plus the discretisation error, which
is far smaller at these steps (ShARK and QUICSORT are high-order for additive noise)."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.linalg as sl

import flows

A = np.array([[2.0, 0.5], [0.5, 1.0]])
B = np.array([1.0, -1.0])
M0 = np.array([2.0, 0.0])
S0 = 0.25 * np.eye(2)


def test_overdamped_matches_the_ornstein_uhlenbeck_law():
    n, t = 4000, 1.0
    x0 = jnp.asarray(M0) + 0.5 * jax.random.normal(jax.random.key(0), (n, 2))
    energy = flows.MeanFieldEnergy(potential=lambda x: 0.5 * (x - B) @ A @ (x - B))
    out = flows.langevin(energy, flows.MeanFieldLangevin(1.0, 0.02), x0, t1=t,
                         key=jax.random.key(1))
    e = sl.expm(-A * t)
    # mean e^{-At} m0 + (I - e^{-At}) b; covariance e^{-At} S0 e^{-At} + A^-1 (I - e^{-2At}),
    # with the initial sample's own mean and covariance in place of m0 and S0 (exact for
    # the linear dynamics), so only the Brownian part is Monte Carlo.
    m0, s0 = np.mean(np.asarray(x0), 0), np.cov(np.asarray(x0).T)
    mean = e @ m0 + (np.eye(2) - e) @ B
    noise = np.linalg.solve(A, np.eye(2) - sl.expm(-2 * A * t))
    cov = e @ s0 @ e + noise
    x = np.asarray(out.final)
    assert out.x.shape == (2, n, 2) and np.allclose(out.ts, [0.0, t])
    sd = np.sqrt(np.diag(noise) / n)
    assert np.all(np.abs(x.mean(0) - mean) < 4.5 * sd), (x.mean(0), mean)
    emp = np.cov(x.T)
    tol = 4.5 * np.sqrt((np.outer(np.diag(cov), np.diag(cov)) + cov**2) / n)
    assert np.all(np.abs(emp - cov) < tol), (emp, cov)


def test_zero_temperature_is_the_deterministic_gradient_flow():
    x0 = jax.random.normal(jax.random.key(2), (50, 2))
    energy = flows.MeanFieldEnergy(potential=lambda x: 0.5 * (x - B) @ A @ (x - B))
    out = flows.langevin(energy, flows.MeanFieldLangevin(0.0, 0.01), x0, t1=0.5,
                         key=jax.random.key(3))
    exact = (np.asarray(x0) - B) @ sl.expm(-A * 0.5).T + B
    # ShARK is order 2 on an ODE: error ~ dt^2 = 1e-4 times the derivatives.
    np.testing.assert_allclose(out.final, exact, atol=1e-4)


A_CONF, C_INT, LAM, N_GIBBS = 1.0, 2.0, 0.5, 1000


def _gibbs_energy(**kw):
    return flows.MeanFieldEnergy(potential=lambda x: 0.5 * A_CONF * x @ x,
                                 interaction=lambda x, y: 0.5 * C_INT * jnp.sum((x - y) ** 2),
                                 block_size=256, **kw)


def _check_gibbs(snapshots):
    """The N-particle Gibbs law exp(-E_N / lambda): in each coordinate the particle mean has
    variance lambda / (a N) and the N - 1 deviations from it are independent with variance
    lambda / (a + c). Snapshots are one time unit apart, which decorrelates them."""
    x = np.asarray(snapshots)
    s, n, d = x.shape
    dev = np.mean(np.var(x, axis=1))  # (1/N) sum (x_i - mean)^2, averaged over coords, snaps
    expect = (n - 1) / n * LAM / (A_CONF + C_INT)
    rel_sd = math.sqrt(2 / ((n - 1) * d * s))
    assert abs(dev / expect - 1) < 4.5 * rel_sd + 0.01, (dev, expect)
    means = x.mean(axis=1)
    assert np.all(np.abs(means) < 4.5 * math.sqrt(LAM / (A_CONF * n))), means


def test_overdamped_reaches_the_gibbs_law_of_a_quadratic_interaction():
    x0 = 2.0 + jax.random.normal(jax.random.key(4), (N_GIBBS, 2))
    out = flows.langevin(_gibbs_energy(), flows.MeanFieldLangevin(LAM, 0.05), x0, t1=14.0,
                         key=jax.random.key(5), saveat=jnp.arange(6.0, 14.5, 1.0))
    _check_gibbs(out.x)


def test_underdamped_reaches_the_gibbs_law_with_maxwellian_velocities():
    x0 = 2.0 + jax.random.normal(jax.random.key(6), (N_GIBBS, 2))
    out = flows.langevin(_gibbs_energy(), flows.UnderdampedMeanFieldLangevin(LAM, 0.1, 1.0),
                         x0, t1=30.0, key=jax.random.key(7), saveat=jnp.arange(20.0, 30.5, 1.0))
    _check_gibbs(out.x)
    v = np.asarray(out.v)
    rel = np.mean(v**2) / LAM - 1
    assert abs(rel) < 4.5 * math.sqrt(2 / v.size) + 0.01, rel


def test_entropic_fictitious_play_reaches_the_mean_field_gibbs_law():
    """The fixed point of fictitious play is the mean-field law N(0, lambda / (a + c)); the
    mean contracts by 1 - alpha a / (a + c) per outer iteration."""
    n = 400
    x0 = 2.0 + jax.random.normal(jax.random.key(10), (n, 2))
    method = flows.EntropicFictitiousPlay(LAM, 0.1, inner_steps=20, mixing=0.5)
    out = flows.fictitious_play(_gibbs_energy(), method, x0, iterations=30,
                                key=jax.random.key(11), save_every=10)
    assert out.x.shape == (4, n, 2)
    np.testing.assert_array_equal(out.ts, [0, 10, 20, 30])
    x = np.asarray(out.x[-2:])  # ten outer iterations apart
    var = np.var(x, axis=1).mean()
    expect = LAM / (A_CONF + C_INT)
    assert abs(var / expect - 1) < 4.5 * math.sqrt(2 / x[0].size / 2) + 0.01, (var, expect)
    assert np.all(np.abs(x.mean(axis=1)) < 4.5 * math.sqrt(expect / n) + 2 * (5 / 6) ** 20)
    with pytest.raises(ValueError, match="mixing"):
        flows.EntropicFictitiousPlay(LAM, 0.1, mixing=1.5)
    with pytest.raises(ValueError, match="first variation"):
        flows.fictitious_play(flows.MeanFieldEnergy(functional=lambda x: jnp.sum(x**2)),
                              method, x0, iterations=1, key=jax.random.key(0))
    with pytest.raises(ValueError, match="NaN or Inf"):
        flows.fictitious_play(_gibbs_energy(), method, x0.at[0, 0].set(jnp.nan), iterations=1,
                              key=jax.random.key(0))


def test_blocked_forces_and_value_match_dense_sums():
    x = jax.random.normal(jax.random.key(8), (300, 3))

    def w(a, b):
        return jnp.exp(-jnp.sum((a - b) ** 2)) + 0.1 * jnp.sum((a - b) ** 2) ** 2

    def v(a):
        return jnp.sum(jnp.cos(a))

    energy = flows.MeanFieldEnergy(potential=v, interaction=w, block_size=64)
    @jax.jit
    def dense(x):
        dense_w = jax.vmap(lambda a: jax.vmap(lambda b: w(a, b))(x))(x)
        value = jnp.mean(jax.vmap(v)(x)) + 0.5 * jnp.mean(dense_w)
        grad_w = jax.vmap(lambda a: jnp.mean(jax.vmap(lambda b: jax.grad(w)(a, b))(x), 0))(x)
        return value, -jax.vmap(jax.grad(v))(x) - grad_w

    value, force = dense(x)
    np.testing.assert_allclose(energy.value(x), value, rtol=1e-13)
    np.testing.assert_allclose(energy.force(x), force, rtol=1e-12, atol=1e-13)
    # The same energy written as a functional of the empirical measure gives the same force.
    as_functional = flows.MeanFieldEnergy(
        functional=lambda z: jnp.mean(jax.vmap(v)(z)) + 0.5 * jnp.mean(
            jax.vmap(lambda a: jax.vmap(lambda b: w(a, b))(z))(z)))
    np.testing.assert_allclose(as_functional.force(x), force, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(as_functional.value(x), value, rtol=1e-13)


def test_bad_input_is_rejected():
    x0 = jnp.zeros((10, 2))
    energy = flows.MeanFieldEnergy(potential=lambda x: x @ x)
    method = flows.MeanFieldLangevin(1.0, 0.1)
    key = jax.random.key(0)
    with pytest.raises(ValueError, match="at least one"):
        flows.MeanFieldEnergy()
    with pytest.raises(ValueError, match="NaN"):
        flows.langevin(energy, method, x0.at[3, 1].set(jnp.nan), t1=1.0, key=key)
    # A stiff confinement (curvature 100 + an interaction of curvature 20): dt = 0.05 has
    # dt * L = 6 > 2, the explicit scheme's bound; dt = 0.015 passes.
    stiff = flows.MeanFieldEnergy(potential=lambda x: 50.0 * x @ x,
                                  interaction=lambda x, y: 10.0 * jnp.sum((x - y) ** 2))
    x1 = jax.random.normal(key, (10, 2))
    with pytest.raises(ValueError, match=r"stability bound.*must be below 0\.01"):
        flows.langevin(stiff, flows.MeanFieldLangevin(1.0, 0.05), x1, t1=0.1, key=key)
    flows.langevin(stiff, flows.MeanFieldLangevin(1.0, 0.015), x1, t1=0.03, key=key)
    with pytest.raises(ValueError, match="stability bound"):
        flows.fictitious_play(stiff, flows.EntropicFictitiousPlay(1.0, 0.05), x1, iterations=1,
                              key=key)
    with pytest.raises(ValueError, match=r"\[N, d\]"):
        flows.langevin(energy, method, jnp.zeros(10), t1=1.0, key=key)
    with pytest.raises(ValueError, match="scalar"):
        flows.langevin(flows.MeanFieldEnergy(potential=lambda x: x), method, x0, t1=1.0,
                       key=key)
    with pytest.raises(ValueError, match="temperature"):
        flows.MeanFieldLangevin(-1.0, 0.1)
    with pytest.raises(ValueError, match="temperature"):
        flows.UnderdampedMeanFieldLangevin(0.0, 0.1)
    with pytest.raises(ValueError, match="dt"):
        flows.MeanFieldLangevin(1.0, 0.0)
    with pytest.raises(ValueError, match="t1"):
        flows.langevin(energy, method, x0, t1=-1.0, key=key)
    with pytest.raises(ValueError, match="saveat"):
        flows.langevin(energy, method, x0, t1=1.0, key=key, saveat=jnp.array([0.5, 2.0]))
    with pytest.raises(ValueError, match="v0"):
        flows.langevin(energy, method, x0, t1=1.0, key=key, v0=x0)
    with pytest.raises(ValueError, match="MeanFieldEnergy"):
        flows.langevin(lambda x: x, method, x0, t1=1.0, key=key)


def _barenblatt_quantiles(n, t, m):
    """n particles at the mid-quantiles of the 1D Barenblatt profile (a deterministic
    sample; its second moment is within ~1e-4 of the profile's)."""
    grid = np.linspace(-4.0, 4.0, 100_001)
    cdf = np.cumsum(np.asarray(flows.barenblatt(grid[:, None], t, m)))
    return np.interp((np.arange(n) + 0.5) / n, cdf / cdf[-1], grid)[:, None]


def test_blob_particles_follow_the_barenblatt_solution():
    """Porous medium m = 2 by the blob method (temperature 0): from the Barenblatt profile
    at t = 1 to t = 2, the second moment grows as t^(2/3) and the mollified density matches
    the profile. Errors: O(epsilon^2) from the blob and O(1/n^2) from the quantiles."""
    m, n, eps = 2.0, 300, 0.05
    x0 = jnp.asarray(_barenblatt_quantiles(n, 1.0, m))
    blob = flows.BlobInternalEnergy(m, eps, block_size=128)
    out = flows.langevin(flows.MeanFieldEnergy(functional=blob),
                         flows.MeanFieldLangevin(0.0, 0.004), x0, t1=1.0, key=jax.random.key(0))
    x = out.final
    exact = flows.barenblatt_second_moment(2.0, m, 1)
    assert abs(float(jnp.mean(x**2)) / exact - 1) < 2e-3
    grid = jnp.linspace(-3.0, 3.0, 601)[:, None]
    mollified = jnp.mean(jnp.exp(-(grid - x.T) ** 2 / (2 * eps**2)), 1) / math.sqrt(
        2 * math.pi * eps**2)
    l1 = float(jnp.sum(jnp.abs(mollified - flows.barenblatt(grid, 2.0, m))) * 0.01)
    assert l1 < 0.03, l1


def test_blob_entropy_is_the_heat_equation():
    """m = 1: the blob entropy's particle flow spreads N(0, s^2) to N(0, s^2 + 2 t)."""
    n, s2, t = 400, 0.5, 0.5
    x0 = jnp.sqrt(s2) * jax.scipy.special.ndtri((jnp.arange(n) + 0.5) / n)[:, None]
    energy = flows.MeanFieldEnergy(functional=flows.BlobInternalEnergy(1.0, 0.05))
    x = flows.langevin(energy, flows.MeanFieldLangevin(0.0, 0.005), x0, t1=t,
                       key=jax.random.key(0)).final
    # the quantile sample's own variance differs from s^2 by ~1/n; compare the increase
    assert abs(float(jnp.var(x) - jnp.var(x0)) / (2 * t) - 1) < 0.01


def test_barenblatt_mass_and_moment_by_quadrature():
    g = np.linspace(-5.0, 5.0, 801)
    xx, yy = np.meshgrid(g, g)
    pts = np.stack([xx.ravel(), yy.ravel()], 1)
    rho = np.asarray(flows.barenblatt(pts, 1.5, 3.0, mass=2.0))
    w = (g[1] - g[0]) ** 2
    np.testing.assert_allclose(rho.sum() * w, 2.0, rtol=1e-4)
    np.testing.assert_allclose((rho * (pts**2).sum(1)).sum() * w,
                               flows.barenblatt_second_moment(1.5, 3.0, 2, mass=2.0), rtol=1e-4)
    with pytest.raises(ValueError, match="m > 1"):
        flows.barenblatt(pts, 1.0, 1.0)
    with pytest.raises(ValueError, match="m must be >= 1"):
        flows.BlobInternalEnergy(0.5, 0.1)
