"""Light Schrödinger bridge: the closed-form Gaussian bridge is learned (cBW2-UVP), the
mixture's moments, normaliser and sampler agree with direct computation, Brownian bridges
are pinned with the right variance, and bad input is rejected."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import flows

D = 2
M0, M1 = np.zeros(D), np.array([1.0, -0.5])
C0 = np.array([[1.0, 0.3], [0.3, 0.6]])
C1 = np.array([[0.5, -0.1], [-0.1, 0.9]])


def _sampler(mean, cov):
    low = np.linalg.cholesky(cov)
    return lambda key, n: mean + jax.random.normal(key, (n, D)) @ low.T


def _random_model(dim=2, components=3, eps=0.5):
    model = flows.LightSB(dim, components, eps, key=jax.random.key(0))
    k1, k2, k3 = jax.random.split(jax.random.key(1), 3)
    return eqx_replace(model, log_alpha=jax.random.normal(k1, (components,)),
                       means=jax.random.normal(k2, (components, dim)),
                       chol=jnp.eye(dim) + 0.3 * jnp.tril(jax.random.normal(
                           k3, (components, dim, dim))))


def eqx_replace(model, **fields):
    import equinox as eqx

    names = tuple(fields)
    return eqx.tree_at(lambda m: tuple(getattr(m, n) for n in names), model,
                       tuple(fields.values()))


def test_learns_the_gaussian_bridge():
    eps = 0.1
    model = flows.LightSB(D, 1, eps, key=jax.random.key(0),
                          init_means=_sampler(M1, C1)(jax.random.key(5), 1))
    result = flows.train_light_sb(model, _sampler(M0, C0), _sampler(M1, C1), steps=800,
                                  key=jax.random.key(1), batch_size=512, progress="off")
    x = np.asarray(_sampler(M0, C0)(jax.random.key(9), 400))
    uvp = flows.bw2_uvp(result.model, x, M0, C0, M1, C1)
    # The paper reports 0.03 % at d = 2 on its mixture benchmark; 2000 steps reach 0.0015 %
    # here, 800 steps stay well under the paper's figure.
    assert uvp < 0.03, uvp
    before = flows.bw2_uvp(model, x, M0, C0, M1, C1)
    assert before > 10 * uvp


def test_normaliser_moments_and_sampler_are_consistent():
    eps = 0.5
    model = _random_model(dim=1, components=3, eps=eps)
    x = jnp.array([[0.3], [-0.7]])
    # c(x) = int exp(x y / eps) v(y) dy in 1D, by the trapezoid rule on a fine grid (spectrally
    # accurate for these rapidly decaying Gaussian integrands).
    y = jnp.linspace(-30.0, 30.0, 60_001)
    log_v = model.log_potential(y[:, None])
    for xi, log_c in zip(np.asarray(x[:, 0]), np.asarray(model.log_normalizer(x)),
                         strict=True):
        quadrature = jax.nn.logsumexp(xi * y / eps + log_v) + math.log(float(y[1] - y[0]))
        np.testing.assert_allclose(log_c, float(quadrature), rtol=1e-10)
    model2 = _random_model(dim=2, components=3, eps=eps)
    x2 = jnp.array([[0.2, -0.4]])
    mean, cov = model2.conditional_moments(x2)
    samples = model2.sample(jax.random.key(3), jnp.repeat(x2, 100_000, 0))
    n = samples.shape[0]
    # Monte-Carlo tolerances: 5 standard errors of the mean and of the covariance entries.
    se = np.sqrt(np.diag(np.asarray(cov[0])) / n)
    np.testing.assert_allclose(samples.mean(0), mean[0], atol=5 * float(se.max()))
    np.testing.assert_allclose(np.cov(np.asarray(samples).T), cov[0],
                               atol=5 * float(np.asarray(cov[0]).max()) * math.sqrt(2 / n))


def test_brownian_bridge_is_pinned_with_variance_eps_t_one_minus_t():
    eps = 0.3
    model = flows.LightSB(D, 1, eps, key=jax.random.key(0))
    n = 20000
    x = jnp.zeros((n, D))
    y = jnp.ones((n, D))
    times = jnp.linspace(0.0, 1.0, 11)
    paths = model.bridge(jax.random.key(4), x, y, times)
    np.testing.assert_allclose(paths[0], x, atol=1e-12)
    np.testing.assert_allclose(paths[-1], y, atol=1e-12)
    mid = np.asarray(paths[5])
    np.testing.assert_allclose(mid.mean(0), 0.5, atol=5 * math.sqrt(eps * 0.25 / n))
    np.testing.assert_allclose(mid.var(0), eps * 0.25, rtol=5 * math.sqrt(2 / n))
    traj = model.trajectories(jax.random.key(5), x[:10], times)
    assert traj.shape == (11, 10, D) and bool(jnp.all(jnp.isfinite(traj)))


def test_bad_input_is_rejected():
    model = flows.LightSB(D, 2, 0.1, key=jax.random.key(0))
    with pytest.raises(ValueError, match="epsilon"):
        flows.LightSB(D, 2, 0.0, key=jax.random.key(0))
    with pytest.raises(ValueError, match=r"\[n, 2\]"):
        model.log_potential(jnp.ones((3, 3)))
    with pytest.raises(ValueError, match="init_means"):
        flows.LightSB(D, 2, 0.1, key=jax.random.key(0), init_means=jnp.ones((3, D)))
    with pytest.raises(ValueError, match="times"):
        model.bridge(jax.random.key(0), jnp.ones((2, D)), jnp.ones((2, D)), jnp.array([0.5]))
