"""Rectified flow between Gaussians: the learned transport matches the target's moments and
the closed-form W2 cost, reflow straightens the paths, the potential (c-rectified) variant
is a gradient field, and bad input is rejected."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import flows

D = 2
M1, S1 = np.array([2.0, 1.0]), 0.5
W2_SQUARED = float(np.sum(M1**2) + D * (1 - S1) ** 2)  # N(0, I) -> N(M1, S1^2 I)


def _pairs(key, n):
    k0, k1 = jax.random.split(key)
    return jax.random.normal(k0, (n, D)), M1 + S1 * jax.random.normal(k1, (n, D))


@pytest.fixture(scope="module")
def trained():
    flow = flows.RectifiedFlow(D, width=32, depth=2, key=jax.random.key(0))
    return flows.train_rectified_flow(flow, _pairs, steps=800, key=jax.random.key(1),
                                      batch_size=256, learning_rate=3e-3,
                                      progress="off").model


def test_transport_matches_target_and_w2(trained):
    x0 = jax.random.normal(jax.random.key(7), (2000, D))
    x1 = trained.transport(x0, steps=50)
    # Sampling error of 2000 points: 0.5 / sqrt(2000) ~ 0.011 on the mean; training error
    # dominates (measured here: means within 0.03, stds within 0.03).
    np.testing.assert_allclose(x1.mean(0), M1, atol=0.08)
    np.testing.assert_allclose(x1.std(0), S1, atol=0.08)
    cost = float(jnp.mean(jnp.sum((x1 - x0) ** 2, 1)))
    # The rectified coupling never costs more than the independent one (W2^2 + 2 D = 9.5
    # here) and approaches W2^2 for Gaussians (5.516 after 1500 steps).
    assert abs(cost - W2_SQUARED) / W2_SQUARED < 0.03, cost


def test_reflow_straightens_paths(trained):
    x0 = jax.random.normal(jax.random.key(8), (300, D))
    before = float(trained.straightness(x0, steps=40))
    pool = jax.random.normal(jax.random.key(9), (3000, D))
    second = flows.train_rectified_flow(trained, flows.reflow_sampler(trained, pool, steps=40),
                                        steps=400, key=jax.random.key(2), batch_size=256,
                                        learning_rate=1e-3, progress="off").model
    after = float(second.straightness(x0, steps=40))
    assert after < 0.1 * before, (before, after)


def test_potential_flow_is_a_gradient_field():
    flow = flows.RectifiedFlow(D, width=16, depth=2, potential=True, key=jax.random.key(3))
    x, t = jnp.array([0.3, -0.2]), jnp.asarray(0.4)
    jac = jax.jacfwd(lambda z: flow.velocity(z, t))(x)
    np.testing.assert_allclose(jac, jac.T, atol=1e-12)  # the Hessian of phi is symmetric


def test_bad_input_is_rejected(trained):
    with pytest.raises(ValueError, match=r"\[n, 2\]"):
        trained.transport(jnp.ones((4, 3)))
    with pytest.raises(ValueError, match="NaN"):
        trained.transport(jnp.array([[0.0, jnp.nan]]))
    with pytest.raises(ValueError, match="steps"):
        trained.transport(jnp.ones((4, D)), steps=0)
