"""The flows solvers inside a user's own jit / vmap / grad: settings are array leaves, value
checks work on tracers, and a new setting value does not recompile."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import flows

KEY = jax.random.key(3)
X = jax.random.normal(jax.random.key(0), (12, 2))
Y = jax.random.normal(jax.random.key(1), (10, 2)) + 1.0
PROBLEM = flows.LinearProblem(flows.PointCloud(X, Y))


def _tight(eps, **kw):
    return flows.Sinkhorn(epsilon=eps, threshold=1e-13, max_iterations=20000, momentum=1.0,
                          **kw)


def _cost(eps):
    return flows.solve_ot(PROBLEM, _tight(eps)).reg_ot_cost


def _potential_sum(eps):
    # the potentials themselves (the implicit VJP), through weights of equal sums, so the
    # value does not depend on the gauge (f + c, g - c) that the iterations happen to pick
    out = flows.solve_ot(PROBLEM, _tight(eps))
    return (jnp.dot(out.f, jnp.arange(12.0) / 66.0) + jnp.mean(out.g)
            + jnp.sin(out.f[0] + out.g[3]))


def test_solve_ot_vmap_over_epsilon_matches_a_loop():
    eps = jnp.array([0.3, 0.5, 1.0])
    batched = jax.vmap(_cost)(eps)
    looped = jnp.stack([_cost(float(e)) for e in eps])
    np.testing.assert_allclose(batched, looped, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("fn", [_cost, _potential_sum])
def test_solve_ot_grad_over_epsilon_matches_finite_differences(fn):
    # central differences at h = 1e-5 on a float64 solve converged to 1e-13: error O(h^2)
    # plus roundoff ~1e-13 / h, so 1e-6 relative is a real test of the implicit gradient
    eps, h = 0.4, 1e-5
    grad = jax.grad(fn)(eps)
    fd = (fn(eps + h) - fn(eps - h)) / (2 * h)
    np.testing.assert_allclose(grad, fd, rtol=1e-6)
    assert abs(float(grad)) > 1e-3  # not a vacuous zero


def test_solve_ot_unrolled_grad_over_epsilon_agrees_with_implicit():
    eps = 0.5

    def unrolled(e):
        solver = flows.Sinkhorn(epsilon=e, threshold=1e-13, max_iterations=3000, momentum=1.0,
                                implicit_diff=False)
        return flows.solve_ot(PROBLEM, solver).reg_ot_cost

    np.testing.assert_allclose(jax.grad(unrolled)(eps), jax.grad(_cost)(eps), rtol=1e-8)


def test_new_epsilon_does_not_recompile():
    @eqx.filter_jit
    @eqx.debug.assert_max_traces(max_traces=1)
    def cost(problem, solver):
        return flows.solve_ot(problem, solver).reg_ot_cost

    values = [float(cost(PROBLEM, flows.Sinkhorn(epsilon=e, threshold=1e-9)))
              for e in (0.3, 0.5, 0.9)]
    assert values[0] < values[1] < values[2]  # the entropic cost grows with epsilon here


def test_traced_bad_epsilon_raises_in_the_compiled_program():
    with pytest.raises(ValueError, match="epsilon must be finite and > 0; got -1.0"):
        flows.Sinkhorn(epsilon=-1.0)
    with pytest.raises(Exception, match="epsilon must be finite and > 0"):
        jax.block_until_ready(jax.jit(_cost)(-1.0))


def _log_p(x):
    return -0.5 * jnp.sum((x - 1.0) ** 2)


def test_svgd_under_jit_and_without_recompiling():
    method = flows.SVGD(0.1, bandwidth=0.5)
    eager = flows.svgd(_log_p, X, method, steps=2).final
    jitted = jax.jit(lambda x: flows.svgd(_log_p, x, method, steps=2).final)(X)
    np.testing.assert_allclose(jitted, eager, rtol=1e-13, atol=1e-14)

    @eqx.filter_jit
    @eqx.debug.assert_max_traces(max_traces=1)
    def run(method, x):
        return flows.svgd(_log_p, x, method, steps=3).final

    a = run(flows.SVGD(0.1, bandwidth=0.5), X)
    b = run(flows.SVGD(0.2, bandwidth=0.7), X)
    assert not np.allclose(a, b)
    # the step size is differentiable: d/dh of the mean after one plain step is phi's mean
    grad = jax.grad(lambda s: jnp.sum(flows.svgd(_log_p, X, flows.SVGD(s, bandwidth=0.5),
                                                 steps=1).final))(0.1)
    phi = flows.SVGD(0.1, bandwidth=0.5).direction(jax.grad(_log_p), X)
    np.testing.assert_allclose(grad, jnp.sum(phi), rtol=1e-12)


def test_svgd_traced_particles_are_checked_in_the_compiled_program():
    bad = X.at[0, 0].set(jnp.nan)
    with pytest.raises(Exception, match="x0 must not contain NaN or Inf"):
        jax.block_until_ready(
            jax.jit(lambda x: flows.svgd(_log_p, x, flows.SVGD(0.1), steps=1).final)(bad))


ENERGY = flows.MeanFieldEnergy(potential=lambda x: 0.5 * jnp.sum(x**2))


def test_langevin_under_jit_and_over_temperature():
    method = flows.MeanFieldLangevin(temperature=0.5, dt=0.05)
    eager = flows.langevin(ENERGY, method, X, t1=0.2, key=KEY).final
    jitted = jax.jit(lambda x: flows.langevin(ENERGY, method, x, t1=0.2, key=KEY).final)(X)
    np.testing.assert_allclose(jitted, eager, rtol=1e-12, atol=1e-13)

    @eqx.filter_jit
    @eqx.debug.assert_max_traces(max_traces=1)
    def run(method, x):
        return flows.langevin(ENERGY, method, x, t1=0.2, key=KEY).final

    cold = run(flows.MeanFieldLangevin(temperature=0.0, dt=0.05), X)
    warm = run(flows.MeanFieldLangevin(temperature=0.5, dt=0.05), X)
    np.testing.assert_allclose(warm, eager, rtol=1e-12, atol=1e-13)
    # at temperature 0 the flow of V = |x|^2 / 2 is deterministic: x(t) = x0 exp(-t) up to
    # ShARK's second-order error on this linear drift, t dt^2 / 6 = 8.3e-5 relative
    np.testing.assert_allclose(cold, X * np.exp(-0.2), rtol=1.2e-4)
    # vmap over the temperature: one batched run, each member equal to its own run
    temps = jnp.array([0.0, 0.5])
    batch = jax.vmap(lambda t: flows.langevin(
        ENERGY, flows.MeanFieldLangevin(temperature=t, dt=0.05), X, t1=0.2, key=KEY).final)(
        temps)
    np.testing.assert_allclose(batch[0], cold, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(batch[1], warm, rtol=1e-12, atol=1e-13)


def test_underdamped_langevin_under_jit():
    method = flows.UnderdampedMeanFieldLangevin(temperature=0.5, dt=0.05, friction=2.0)
    eager = flows.langevin(ENERGY, method, X, t1=0.2, key=KEY).final
    jitted = jax.jit(lambda x: flows.langevin(ENERGY, method, x, t1=0.2, key=KEY).final)(X)
    np.testing.assert_allclose(jitted, eager, rtol=1e-12, atol=1e-13)


def test_fictitious_play_and_minimax_under_jit():
    efp = flows.EntropicFictitiousPlay(temperature=0.5, dt=0.05, inner_steps=4, mixing=0.5)
    eager = flows.fictitious_play(ENERGY, efp, X, iterations=2, key=KEY).final
    jitted = jax.jit(lambda x: flows.fictitious_play(ENERGY, efp, x, iterations=2,
                                                     key=KEY).final)(X)
    np.testing.assert_allclose(jitted, eager, rtol=1e-12, atol=1e-13)

    game = flows.MinimaxGame(payoff=lambda x, y: jnp.sum(x * y),
                             potential_x=lambda x: 0.5 * jnp.sum(x**2),
                             potential_y=lambda y: 0.5 * jnp.sum(y**2))

    @eqx.filter_jit
    @eqx.debug.assert_max_traces(max_traces=1)
    def play(method, x, y):
        return flows.minimax_langevin(game, method, x, y, steps=3, key=KEY).x[-1]

    eager = flows.minimax_langevin(game, flows.SymmetricMFL(0.1, 0.05), X, Y, steps=3,
                                   key=KEY).x[-1]
    np.testing.assert_allclose(play(flows.SymmetricMFL(0.1, 0.05), X, Y), eager, rtol=1e-12,
                               atol=1e-13)
    assert not np.allclose(play(flows.SymmetricMFL(0.2, 0.05), X, Y), eager)


def test_sinkhorn_divergence_under_jit_and_grad_over_epsilon():
    def div(eps):
        return flows.sinkhorn_divergence(flows.PointCloud(X, Y), solver=_tight(eps))

    np.testing.assert_allclose(jax.jit(div)(0.5), div(0.5), rtol=1e-12)
    eps, h = 0.5, 1e-5
    fd = (div(eps + h) - div(eps - h)) / (2 * h)
    np.testing.assert_allclose(jax.grad(div)(eps), fd, rtol=1e-6)


def test_jko_and_variational_settings_do_not_recompile(monkeypatch):
    """JKO's and the variational scheme's step size and temperature are array leaves: a
    second run with new values traces nothing new; the entropy switch stays static."""
    import flows._jko as jko_module
    import flows._variational as var_module

    x0 = jax.random.normal(jax.random.key(2), (32, 2))
    log_rho = -0.5 * jnp.sum(x0**2, axis=1) - jnp.log(2 * jnp.pi)
    net = flows.ICNN(2, 8, 2, key=jax.random.key(0))
    traces = {"jko": 0, "variational": 0}
    for module, name, fn in ((jko_module, "jko", "_objective"),
                             (var_module, "variational", "_saddle")):
        original = getattr(module, fn)

        def counted(*args, _original=original, _name=name, **kw):
            traces[_name] += 1
            return _original(*args, **kw)

        monkeypatch.setattr(module, fn, counted)

    def run_jko(tau, lam):
        method = flows.JKO(tau, temperature=lam, iterations=2, batch_size=8)
        return flows.jko(ENERGY, method, net, x0, log_rho, steps=1, key=KEY).x[-1]

    def run_var(tau, lam):
        method = flows.VariationalWGF(tau, temperature=lam, iterations=2, critic_steps=1,
                                      batch_size=8)
        return flows.variational_wgf(ENERGY, method, net, x0, steps=1, key=KEY).x[-1]

    for name, run in (("jko", run_jko), ("variational", run_var)):
        first = run(0.1, 1.0)
        before = traces[name]
        second = run(0.2, 0.5)
        assert before > 0 and traces[name] == before, name  # no new trace
        assert not np.allclose(first, second)
    assert flows.JKO(0.1).entropy is False and flows.JKO(0.1, temperature=0.5).entropy
    with pytest.raises(ValueError, match="temperature"):
        flows.JKO(0.1, temperature=-1.0)
    with pytest.raises(ValueError, match="step_size"):
        flows.VariationalWGF(0.0)


def test_light_sb_epsilon_is_a_leaf_that_training_keeps():
    model = flows.LightSB(2, 3, 0.1, key=jax.random.key(0))
    y = jax.random.normal(jax.random.key(1), (5, 2))

    def value(eps):
        return jnp.sum(eqx.tree_at(lambda m: m.epsilon, model, eps).log_potential(y))

    grad = jax.grad(value)(0.1)
    fd = (value(0.1 + 1e-6) - value(0.1 - 1e-6)) / 2e-6
    np.testing.assert_allclose(grad, fd, rtol=1e-6)
    batch = jax.vmap(value)(jnp.array([0.1, 0.2]))
    np.testing.assert_allclose(batch, [value(0.1), value(0.2)], rtol=1e-13)
    trained = flows.train_light_sb(
        model, lambda k, n: jax.random.normal(k, (n, 2)),
        lambda k, n: jax.random.normal(k, (n, 2)) + 1.0, steps=5, batch_size=16,
        key=KEY, progress="off").model
    assert float(trained.epsilon) == 0.1
    assert not np.allclose(trained.means, model.means)
