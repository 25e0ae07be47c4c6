"""SVGD and mirrored SVGD: the blocked Stein direction against a dense autodiff reference
(float64 round-off), the fixed point on a Gaussian and on a Dirichlet target, the median
heuristic, and bad input."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import flows

MEAN = jnp.array([1.0, -0.5])
COV = jnp.array([[1.0, 0.6], [0.6, 0.8]])
PREC = jnp.linalg.inv(COV)
ALPHA = jnp.array([2.0, 3.0, 5.0])


def gaussian_log_prob(x):
    return -0.5 * (x - MEAN) @ PREC @ (x - MEAN)


def dirichlet_log_prob(t):
    return jnp.sum((ALPHA[:-1] - 1) * jnp.log(t)) + (ALPHA[-1] - 1) * jnp.log(1 - jnp.sum(t))


def _kernel(h):
    return lambda a, b: jnp.exp(-jnp.sum((a - b) ** 2) / (2 * h**2))


def dense_direction(log_prob, x, h):
    """(1/N) sum_j [k(x_j, x) grad log p(x_j) + grad_{x_j} k(x_j, x)], all by autodiff."""
    k, s = _kernel(h), jax.grad(log_prob)

    def phi(xi):
        terms = jax.vmap(lambda xj: k(xj, xi) * s(xj) + jax.grad(k)(xj, xi))(x)
        return jnp.mean(terms, 0)

    return jax.jit(jax.vmap(phi))(x)


def dense_mirrored_direction(log_prob, theta, h):
    """(1/N) sum_j [k M_j grad log p(theta_j) + div_{theta_j}(M(theta_j) k(theta_j, theta))]
    with M = (grad^2 psi)^-1 from the entropic mirror map, the divergence by jacfwd."""
    k, s = _kernel(h), jax.grad(log_prob)

    def psi(t):
        full = jnp.append(t, 1 - jnp.sum(t))
        return jnp.sum(full * jnp.log(full))

    def m_inv(t):
        return jnp.linalg.inv(jax.hessian(psi)(t))

    def phi(ti):
        def field(tj):  # the matrix field M(tj) k(tj, ti); divergence over its first index
            return m_inv(tj) * k(tj, ti)

        def term(tj):
            div = jnp.trace(jax.jacfwd(field)(tj), axis1=0, axis2=2)
            return k(tj, ti) * m_inv(tj) @ s(tj) + div

        return jnp.mean(jax.vmap(term)(theta), 0)

    return jax.jit(jax.vmap(phi))(theta)


def test_stein_direction_matches_dense_autodiff():
    x = jax.random.normal(jax.random.key(0), (120, 2))
    h = flows.median_bandwidth(x)
    ours = flows.SVGD(0.1, block_size=32).direction(jax.grad(gaussian_log_prob), x)
    np.testing.assert_allclose(ours, dense_direction(gaussian_log_prob, x, h), atol=1e-14)


def test_mirrored_direction_matches_dense_autodiff():
    theta = jax.random.dirichlet(jax.random.key(1), jnp.ones(3), (40,))[:, :2]
    h = flows.median_bandwidth(theta)
    ours = flows.SVGD(0.1, mirror="simplex", block_size=16).direction(
        jax.grad(dirichlet_log_prob), theta)
    np.testing.assert_allclose(ours, dense_mirrored_direction(dirichlet_log_prob, theta, h),
                               rtol=1e-11, atol=1e-12)


def test_median_heuristic_exact_and_subsampled():
    x = jax.random.normal(jax.random.key(2), (100, 3))
    d = np.sqrt(((np.asarray(x)[:, None] - np.asarray(x)[None]) ** 2).sum(-1))
    med = np.median(d[np.tril_indices(100, -1)])
    np.testing.assert_allclose(flows.median_bandwidth(x), med / np.sqrt(2 * np.log(100)),
                               rtol=1e-13)
    big = jax.random.normal(jax.random.key(3), (20_000, 3))
    # The median of |x - y| for two standard normals in 3D is about 2.188 (chi with 3
    # degrees of freedom, scaled by sqrt 2); 8192 pairs pin it to a few per cent.
    est = float(flows.median_bandwidth(big)) * np.sqrt(2 * np.log(20_000))
    assert abs(est / 2.1878 - 1) < 0.03, est


def test_svgd_reaches_a_gaussian_target():
    x0 = jax.random.normal(jax.random.key(4), (200, 2))
    out = flows.svgd(gaussian_log_prob, x0, flows.SVGD(0.4), steps=1500, save_every=500)
    assert out.x.shape == (4, 200, 2) and list(out.ts) == [0, 500, 1000, 1500]
    x = np.asarray(out.final)
    # SVGD is deterministic: the error is the N-particle fixed point's, not Monte Carlo.
    # The mean converges to ~1e-4; the covariance keeps an O(1/sqrt(N))-like bias.
    np.testing.assert_allclose(x.mean(0), MEAN, atol=2e-3)
    np.testing.assert_allclose(np.cov(x.T), COV, atol=0.06)


def test_mirrored_svgd_reaches_a_dirichlet_target():
    theta0 = jax.random.dirichlet(jax.random.key(5), jnp.ones(3), (200,))[:, :2]
    out = flows.svgd(dirichlet_log_prob, theta0, flows.SVGD(0.2, mirror="simplex"),
                     steps=1000)
    t = np.asarray(out.final)
    assert np.all(t > 0) and np.all(t.sum(1) < 1)
    a0 = float(ALPHA.sum())
    mean = np.asarray(ALPHA[:-1]) / a0
    var = mean * (1 - mean) / (a0 + 1)
    np.testing.assert_allclose(t.mean(0), mean, atol=5e-3)
    np.testing.assert_allclose(t.var(0), var, rtol=0.06)


def test_bad_input_is_rejected():
    x0 = jnp.zeros((10, 2))
    with pytest.raises(ValueError, match="not differentiable"):
        flows.svgd(lambda x: jnp.sum(x > 0).astype(jnp.int32), jnp.ones((8, 2)),
                   flows.SVGD(0.1), steps=1)
    with pytest.raises(ValueError, match="gradient of log_prob is not finite at particle 0"):
        flows.svgd(lambda x: -jnp.sum(jnp.sqrt(jnp.abs(x))), jnp.zeros((8, 2)),
                   flows.SVGD(0.1), steps=1)
    with pytest.raises(ValueError, match="NaN"):
        flows.svgd(gaussian_log_prob, x0.at[0, 0].set(jnp.inf), flows.SVGD(), steps=2)
    with pytest.raises(ValueError, match="divide"):
        flows.svgd(gaussian_log_prob, x0, flows.SVGD(), steps=5, save_every=2)
    with pytest.raises(ValueError, match="step_size"):
        flows.SVGD(-0.1)
    with pytest.raises(ValueError, match="bandwidth"):
        flows.SVGD(0.1, bandwidth=0.0)
    with pytest.raises(ValueError, match="mirror"):
        flows.SVGD(0.1, mirror="sphere")
    with pytest.raises(ValueError, match="inside the simplex"):
        flows.svgd(dirichlet_log_prob, jnp.full((10, 2), 0.6), flows.SVGD(mirror="simplex"),
                   steps=2)
    with pytest.raises(ValueError, match="scalar"):
        flows.svgd(lambda x: x, x0, flows.SVGD(), steps=2)
