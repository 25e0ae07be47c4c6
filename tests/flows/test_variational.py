"""Variational WGF (particles only, dual form of the internal energy): the Ornstein–Uhlenbeck
law, the exact variational identity of the entropy, and bad input."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import flows


def test_variational_wgf_follows_the_ornstein_uhlenbeck_law():
    """dX = -A (X - b) dt + sqrt(2) dW from N(0, I), 6 steps of 0.05: mean and covariance of
    pushed fresh samples within Monte-Carlo bounds plus the variational bias (the dual
    estimate of the entropy is a lower bound, which slightly shrinks the spread)."""
    d, n = 2, 4096
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    a = np.linalg.inv(q @ np.diag(rng.uniform(1, 2, d)) @ q.T)
    b = rng.standard_normal(d)
    energy = flows.MeanFieldEnergy(potential=lambda x: 0.5 * (x - b) @ a @ (x - b))
    method = flows.VariationalWGF(0.05, temperature=1.0, iterations=120, batch_size=256)
    net = flows.ConvexGradientNet(d, 16, key=jax.random.key(0))
    x0 = jax.random.normal(jax.random.key(1), (n, d))
    traj = flows.variational_wgf(energy, method, net, x0, steps=6, key=jax.random.key(2),
                                 save_every=2)
    assert traj.x.shape == (4, n, d) and len(traj.maps) == len(traj.critics) == 6
    np.testing.assert_allclose(traj.push(x0), traj.final, rtol=1e-12, atol=1e-12)
    mean, cov = flows.ornstein_uhlenbeck_law(jnp.asarray(a), b, jnp.zeros(d), jnp.eye(d), 0.3)
    y = traj.push(jax.random.normal(jax.random.key(3), (n, d)))
    mc = 4 * np.sqrt(2 / n)
    assert float(jnp.max(jnp.abs(y.mean(0) - mean))) < 4 * float(jnp.sqrt(cov.max() / n)) + 0.01
    np.testing.assert_allclose(jnp.cov(y.T), cov, atol=(mc + 0.06) * float(cov.max()))
    # (Without the entropy the covariance would shrink to below 60 % of the law's at
    # t = 0.3, far outside the tolerance above.)


def test_the_dual_form_is_exact_at_the_optimal_critic():
    """sup_h E_rho[h] - E_Gamma[U*(h) / gamma] = ∫ U(rho): at h = U'(rho) the Monte-Carlo
    value matches the closed-form entropy of a Gaussian and the porous-medium energy."""
    from flows._variational import _reference_log_density

    key, n, var = jax.random.key(0), 200_000, 0.7
    mean, chol = jnp.zeros(1), jnp.sqrt(2.0 * var) * jnp.ones((1, 1))  # Gamma = N(0, 2 var)

    def log_rho(x):
        return -0.5 * x[..., 0] ** 2 / var - 0.5 * jnp.log(2 * jnp.pi * var)

    x = jnp.sqrt(var) * jax.random.normal(key, (n, 1))
    y = chol[0, 0] * jax.random.normal(jax.random.key(1), (n, 1))
    log_gamma = _reference_log_density(y, mean, chol)
    entropy = flows.VariationalWGF(0.1, temperature=1.0)
    def h(z):  # U'(rho) for U = rho log rho
        return 1.0 + log_rho(z)

    value = jnp.mean(h(x)) - jnp.mean(entropy.conjugate(h(y)) * jnp.exp(-log_gamma))
    exact = -0.5 * np.log(2 * np.pi * np.e * var)
    assert abs(float(value) - exact) < 0.01
    porous = flows.VariationalWGF(0.1, internal_conjugate=flows.porous_medium_conjugate(2.0))
    h2 = 2.0 * jnp.exp(log_rho(y))  # U'(rho) = 2 rho for U = rho^2
    value2 = (jnp.mean(2.0 * jnp.exp(log_rho(x)))
              - jnp.mean(porous.conjugate(h2) * jnp.exp(-log_gamma)))
    exact2 = 1.0 / (2.0 * np.sqrt(np.pi * var))  # ∫ rho^2 for N(0, var)
    assert abs(float(value2) - exact2) < 0.01 * exact2


def test_bad_input_is_rejected():
    net = flows.ConvexGradientNet(2, 8, key=jax.random.key(0))
    x0 = jnp.zeros((16, 2))
    method = flows.VariationalWGF(0.1, temperature=1.0, iterations=2, batch_size=4)
    with pytest.raises(ValueError, match="not both"):
        flows.VariationalWGF(0.1, temperature=1.0,
                             internal_conjugate=flows.porous_medium_conjugate(2.0))
    with pytest.raises(ValueError, match="m must be > 1"):
        flows.porous_medium_conjugate(1.0)
    with pytest.raises(ValueError, match="free energy is empty"):
        flows.variational_wgf(None, flows.VariationalWGF(0.1), net, x0, steps=1,
                              key=jax.random.key(0))
    with pytest.raises(ValueError, match="NaN or Inf"):
        flows.variational_wgf(None, method, net, x0.at[1, 1].set(jnp.inf), steps=1,
                              key=jax.random.key(0))
    with pytest.raises(ValueError, match="at least 2"):
        flows.variational_wgf(None, method, net, x0[:1], steps=1, key=jax.random.key(0))
    with pytest.raises(ValueError, match="method"):
        flows.variational_wgf(None, flows.JKO(0.1), net, x0, steps=1, key=jax.random.key(0))


def test_variational_wgf_checkpoints_and_resumes_bit_for_bit(tmp_path, monkeypatch):
    """The steps run through `sciopt.train.iterate` (the scheme shared with JKO): a run
    stopped after 1 of 3 steps and restarted from its checkpoint ends where the uninterrupted
    run ends, bit for bit, maps and critics included."""
    import flows._variational as module

    d, pool = 2, 256
    net = flows.ICNN(d, 8, 2, key=jax.random.key(0))
    method = flows.VariationalWGF(0.1, temperature=1.0, iterations=10, batch_size=32)
    x0 = jax.random.normal(jax.random.key(1), (pool, d))

    def run(**kw):
        return flows.variational_wgf(None, method, net, x0, steps=3, key=jax.random.key(2),
                                     **kw)

    whole = run()
    real = module.iterate
    monkeypatch.setattr(module, "iterate", lambda solver, steps, **kw: real(solver, 1, **kw))
    run(checkpoint_dir=tmp_path)
    monkeypatch.setattr(module, "iterate", real)
    resumed = run(checkpoint_dir=tmp_path)
    assert (tmp_path / "step_0000000003.ckpt").exists()
    np.testing.assert_array_equal(resumed.x, whole.x)
    for a, b in zip(jax.tree.leaves((resumed.maps, resumed.critics)),
                    jax.tree.leaves((whole.maps, whole.critics)), strict=True):
        np.testing.assert_array_equal(a, b)
    assert len(whole.maps) == len(whole.critics) == 3 and np.all(np.isfinite(whole.losses))
