"""STDE estimators are unbiased: the mean over many keys matches the exact value within a
bound from the sample variance (5 standard errors: a false failure has probability ~6e-7)."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from sciopt.derivatives import (
    DifferentialOperator,
    apply_operator,
    biharmonic,
    divergence,
    laplacian,
)

D = 6
X = jax.random.normal(jax.random.key(1), (D,))
MLP = eqx.nn.MLP(D, 1, 16, 3, activation=jnp.tanh, key=jax.random.key(0))
KEYS = jax.random.split(jax.random.key(42), 4000)


def mlp(x):
    return MLP(x)[0]


def assert_unbiased(samples, exact):
    samples = np.asarray(samples)
    se = samples.std(ddof=1) / np.sqrt(len(samples))
    assert se > 0  # a random estimator
    assert abs(samples.mean() - float(exact)) < 5 * se, (samples.mean(), exact, se)


@pytest.mark.parametrize("distribution", ["rademacher", "gaussian", "sparse"])
def test_laplacian_stde_is_unbiased(distribution):
    est = jax.jit(jax.vmap(lambda k: laplacian(mlp, X, method="stde", key=k, num_samples=4,
                                               distribution=distribution)))(KEYS)
    assert_unbiased(est, laplacian(mlp, X))


def test_stde_same_key_same_answer_and_sample_count_shrinks_variance():
    key = jax.random.key(3)
    a = laplacian(mlp, X, method="stde", key=key)
    assert float(a) == float(laplacian(mlp, X, method="stde", key=key))
    few = jax.vmap(lambda k: laplacian(mlp, X, method="stde", key=k, num_samples=2))(KEYS[:500])
    many = jax.vmap(lambda k: laplacian(mlp, X, method="stde", key=k, num_samples=32))(
        KEYS[:500])
    assert np.var(many) < np.var(few) / 4  # variance ~ 1/S: 16x in theory


def test_biharmonic_stde_is_unbiased():
    est = jax.jit(jax.vmap(lambda k: biharmonic(mlp, X, method="stde", key=k,
                                                num_samples=4)))(KEYS)
    assert_unbiased(est, biharmonic(mlp, X))


def test_divergence_stde_is_unbiased():
    def field(x):
        return jnp.tanh(x) * x[::-1] + jnp.sin(x @ x)

    est = jax.vmap(lambda k: divergence(field, X, method="stde", key=k, num_samples=2))(KEYS)
    assert_unbiased(est, divergence(field, X))


def test_operator_stde_is_unbiased():
    op = DifferentialOperator([(1.0, {0: 2}), (-2.0, {1: 1, 2: 1}), (0.5, {0: 2, 3: 2}),
                               (3.0, {})])
    est = jax.jit(jax.vmap(lambda k: apply_operator(op, mlp, X, method="stde", key=k,
                                                    num_samples=2)))(KEYS)
    assert_unbiased(est, apply_operator(op, mlp, X))
