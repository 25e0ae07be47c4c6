"""JKO with input-convex networks: the networks are gradients of strongly convex
potentials, the scheme follows the Ornstein–Uhlenbeck and heat flows, and the tracked
density agrees with the density recovered by inverting the maps."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from jax.scipy.stats import multivariate_normal as mvn

import flows


def _perturbed(net, key):
    """Random parameters away from the identity initialisation."""
    params, static = eqx.partition(net, eqx.is_inexact_array)
    leaves, tree = jax.tree.flatten(params)
    keys = jax.random.split(key, len(leaves))
    leaves = [p + 0.5 * jax.random.normal(k, p.shape, p.dtype) for p, k in zip(leaves, keys,
                                                                                strict=True)]
    return eqx.combine(jax.tree.unflatten(tree, leaves), static)


@pytest.mark.parametrize("kind", ["icnn", "gradient"])
def test_networks_are_gradients_of_strongly_convex_potentials(kind):
    d, key = 3, jax.random.key(0)
    if kind == "icnn":
        net = flows.ICNN(d, 16, 3, min_curvature=0.05, key=key)
    else:
        net = flows.ConvexGradientNet(d, 16, min_curvature=0.05, key=key)
    x = jax.random.normal(jax.random.key(1), (5, d))
    # At initialisation the map is (nearly) the identity.
    identity = eqx.filter_jit(lambda n, x: jax.vmap(n.transport)(x))(net, x)
    np.testing.assert_allclose(identity, x, atol=0.05)
    net = _perturbed(net, jax.random.key(2))

    @eqx.filter_jit
    def evaluate(net, x):
        return (jax.vmap(net.transport)(x), jax.vmap(jax.grad(net.potential))(x),
                jax.vmap(net.jacobian)(x), jax.vmap(jax.jacfwd(net.transport))(x))

    t, grad, jac, jac_ad = evaluate(net, x)
    np.testing.assert_allclose(t, grad, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(jac, jac_ad, rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(jac, jnp.swapaxes(jac, 1, 2), atol=1e-12)
    assert float(jnp.min(jnp.linalg.eigvalsh(jac))) >= 0.05 * (1 - 1e-9)
    with pytest.raises(ValueError, match="min_curvature"):
        flows.ICNN(d, min_curvature=1.5, key=key)


def _ou(d, seed):
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    cov_inf = q @ np.diag(rng.uniform(1.0, 2.0, d)) @ q.T  # as in the JKO-ICNN experiments
    return np.linalg.inv(cov_inf), rng.standard_normal(d)


def _standard_normal_logpdf(x):
    return mvn.logpdf(x, jnp.zeros(x.shape[-1]), jnp.eye(x.shape[-1]))


def test_jko_follows_the_ornstein_uhlenbeck_law_and_its_density_inverts():
    """Fokker–Planck of dX = -A (X - b) dt + sqrt(2) dW from N(0, I): after 6 steps of 0.05
    the pushed samples have the closed-form mean and covariance (within Monte-Carlo bounds),
    the symmetric KL is small, and the density tracked along the pushes equals the density
    obtained by inverting the maps."""
    d, pool, n = 2, 4096, 4096
    a, b = _ou(d, 0)
    energy = flows.MeanFieldEnergy(potential=lambda x: 0.5 * (x - b) @ a @ (x - b))
    method = flows.JKO(0.05, temperature=1.0, iterations=150, batch_size=256)
    net = flows.ConvexGradientNet(d, 32, key=jax.random.key(0))
    x0 = jax.random.normal(jax.random.key(1), (pool, d))
    traj = flows.jko(energy, method, net, x0, _standard_normal_logpdf(x0), steps=6,
                     key=jax.random.key(2), save_every=3)
    assert traj.x.shape == (3, pool, d) and traj.losses.shape == (6, 150)
    np.testing.assert_allclose(traj.ts, [0.0, 0.15, 0.3], rtol=1e-12)
    mean, cov = flows.ornstein_uhlenbeck_law(jnp.asarray(a), b, jnp.zeros(d), jnp.eye(d), 0.3)
    xe = jax.random.normal(jax.random.key(3), (n, d))
    y, log_q = traj.push(xe, _standard_normal_logpdf(xe))
    # Monte-Carlo bounds: 4 standard errors of the sample mean and covariance.
    assert float(jnp.max(jnp.abs(y.mean(0) - mean))) < 4 * float(jnp.sqrt(cov.max() / n))
    assert float(jnp.max(jnp.abs(jnp.cov(y.T) - cov))) < 4 * float(cov.max()) * np.sqrt(2 / n)
    kl_model = float(jnp.mean(log_q - mvn.logpdf(y, mean, cov)))
    yt = jax.random.multivariate_normal(jax.random.key(4), mean, cov, (n,))
    kl_true = float(jnp.mean(mvn.logpdf(yt, mean, cov) - traj.log_prob(yt,
                                                                      _standard_normal_logpdf)))
    assert abs(kl_model + kl_true) < 5e-3, (kl_model, kl_true)
    # The density at pushed points, recovered by inverting every map, is the tracked one.
    np.testing.assert_allclose(traj.log_prob(y[:64], _standard_normal_logpdf), log_q[:64],
                               rtol=1e-9, atol=1e-9)
    # The pool carries the same tracked density as fresh pushes do.
    np.testing.assert_allclose(traj.push(x0[:8], _standard_normal_logpdf(x0[:8]))[1],
                               traj.log_density[-1, :8], rtol=1e-10)


def test_jko_icnn_solves_the_heat_equation_with_entropy_alone():
    """The heat flow (entropy only, no energy) from N(0, I): N(0, (1 + 2t) I) at t."""
    d, pool = 2, 4096
    net = flows.ICNN(d, 16, 2, key=jax.random.key(0))
    method = flows.JKO(0.1, temperature=1.0, iterations=100, batch_size=256,
                       optimizer=optax.adam(5e-3))
    x0 = jax.random.normal(jax.random.key(1), (pool, d))
    traj = flows.jko(None, method, net, x0, _standard_normal_logpdf(x0), steps=3,
                     key=jax.random.key(2))
    var = jnp.var(traj.final, axis=0)
    np.testing.assert_allclose(var, 1.6, rtol=4 * np.sqrt(2 / pool) + 0.01)
    # The tracked density is that of N(0, 1.6 I) up to the fit.
    exact = mvn.logpdf(traj.final, jnp.zeros(d), 1.6 * jnp.eye(d))
    assert float(jnp.mean(jnp.abs(traj.log_density[-1] - exact))) < 0.03


def test_jko_internal_energy_follows_the_barenblatt_solution():
    """The porous-medium equation rho_t = (rho^2)_xx is the gradient flow of ∫ rho^2 dx
    (`internal=U`, U(r) = r^2): from the Barenblatt profile at t = 1, the second moment
    grows as t^(2/3); measured on the same particles before and after (paired)."""
    m, t0, tau, steps, pool = 2.0, 1.0, 0.1, 4, 4096
    # 1D Barenblatt at t = 1: rho = (C - k x^2)_+ with k = 1/12 and unit mass
    # (4 C^(3/2) / (3 sqrt(k)) = 1); stratified inverse-CDF samples on a fine grid.
    k_coef = 1.0 / 12.0
    c = (0.75 * np.sqrt(k_coef)) ** (2.0 / 3.0)
    edge = np.sqrt(c / k_coef)
    grid = np.linspace(-edge, edge, 200_001)
    cdf = np.cumsum(np.maximum(c - k_coef * grid**2, 0.0))
    cdf /= cdf[-1]
    u = (np.arange(pool) + 0.5) / pool
    x0 = jnp.asarray(np.interp(u, cdf, grid))[:, None]
    np.testing.assert_allclose(flows.barenblatt(x0, t0, m), c - k_coef * x0[:, 0] ** 2,
                               rtol=1e-9)
    log_rho0 = jnp.log(flows.barenblatt(x0, t0, m))
    net = flows.ConvexGradientNet(1, 32, key=jax.random.key(0))
    method = flows.JKO(tau, internal=lambda r: r**2, iterations=150, batch_size=512)
    traj = flows.jko(None, method, net, x0, log_rho0, steps=steps, key=jax.random.key(1))
    t1 = t0 + tau * steps
    ratio = float(jnp.mean(traj.final**2) / jnp.mean(x0**2))
    exact = flows.barenblatt_second_moment(t1, m, 1) / flows.barenblatt_second_moment(t0, m, 1)
    assert abs(ratio / exact - 1) < 0.02, (ratio, exact)  # measured: 0.6 %
    # The tracked density is the Barenblatt profile at t1 inside the support (measured: 0.25 %).
    inner = jnp.abs(traj.final[:, 0]) < 0.8 * float(jnp.max(jnp.abs(traj.final)))
    rel = jnp.abs(jnp.exp(traj.log_density[-1]) / flows.barenblatt(traj.final, t1, m) - 1)
    assert float(jnp.median(rel[inner])) < 0.03


def test_bad_input_is_rejected():
    d = 2
    net = flows.ConvexGradientNet(d, 8, key=jax.random.key(0))
    x0 = jnp.zeros((16, d))
    lp = jnp.zeros(16)
    method = flows.JKO(0.1, temperature=1.0, iterations=2, batch_size=4)
    energy = flows.MeanFieldEnergy(potential=lambda x: x @ x)
    with pytest.raises(ValueError, match="step_size"):
        flows.JKO(0.0)
    with pytest.raises(ValueError, match="temperature"):
        flows.JKO(0.1, temperature=-1.0)
    with pytest.raises(ValueError, match="internal"):
        flows.JKO(0.1, internal=2.0)
    with pytest.raises(ValueError, match="free energy is empty"):
        flows.jko(None, flows.JKO(0.1), net, x0, lp, steps=1, key=jax.random.key(0))
    with pytest.raises(ValueError, match="NaN or Inf"):
        flows.jko(energy, method, net, x0.at[0, 0].set(jnp.nan), lp, steps=1,
                  key=jax.random.key(0))
    with pytest.raises(ValueError, match="log_density0"):
        flows.jko(energy, method, net, x0, lp[:3], steps=1, key=jax.random.key(0))
    with pytest.raises(ValueError, match="dimension 2"):
        flows.jko(energy, method, net, jnp.zeros((16, 3)), lp, steps=1, key=jax.random.key(0))
    with pytest.raises(ValueError, match="network"):
        flows.jko(energy, method, lambda x: x, x0, lp, steps=1, key=jax.random.key(0))
    with pytest.raises(ValueError, match="scalar"):
        flows.jko(flows.MeanFieldEnergy(potential=lambda x: x), method, net, x0, lp, steps=1,
                  key=jax.random.key(0))
    with pytest.raises(ValueError, match="save_every"):
        flows.jko(energy, method, net, x0, lp, steps=3, save_every=2, key=jax.random.key(0))


def test_jko_checkpoints_and_resumes_bit_for_bit(tmp_path, monkeypatch, capsys):
    """The steps run through `sciopt.train.iterate`: a run stopped after 2 of 4 steps and
    restarted from its checkpoint ends where the uninterrupted run ends, bit for bit."""
    import flows._jko as jko_module

    d, pool = 2, 512
    net = flows.ICNN(d, 8, 2, key=jax.random.key(0))
    method = flows.JKO(0.1, temperature=1.0, iterations=20, batch_size=64,
                       optimizer=optax.adam(5e-3))
    x0 = jax.random.normal(jax.random.key(1), (pool, d))
    lp = _standard_normal_logpdf(x0)

    def run(**kw):
        return flows.jko(None, method, net, x0, lp, steps=4, save_every=2,
                         key=jax.random.key(2), **kw)

    whole = run()
    real = jko_module.iterate
    monkeypatch.setattr(jko_module, "iterate",  # the first run stops after 2 steps
                        lambda solver, steps, **kw: real(solver, 2, **kw))
    run(checkpoint_dir=tmp_path)
    assert sorted(p.name for p in tmp_path.glob("*.ckpt"))[-1] == "step_0000000002.ckpt"
    monkeypatch.setattr(jko_module, "iterate", real)
    capsys.readouterr()
    resumed = run(checkpoint_dir=tmp_path, progress=True)
    out = capsys.readouterr()
    assert "resuming from checkpoint at step 2" in out.out + out.err
    np.testing.assert_array_equal(resumed.x, whole.x)
    np.testing.assert_array_equal(resumed.log_density, whole.log_density)
    np.testing.assert_array_equal(resumed.losses, whole.losses)
    for a, b in zip(jax.tree.leaves(resumed.maps), jax.tree.leaves(whole.maps), strict=True):
        np.testing.assert_array_equal(a, b)
    assert whole.x.shape == (3, pool, d) and len(whole.maps) == 4
    assert np.all(np.isfinite(whole.losses)) and not np.allclose(whole.x[0], whole.x[-1])
