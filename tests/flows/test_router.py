"""The sparse mixture-of-experts router (Liu, Puigcerver & Blondel 2023): at most k experts
per token, expert loads within capacity and balanced where plain top-k overflows, the
capacity limit dropping the weakest slots, gradients through the gates, and clear errors."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import flows

KEY = jax.random.key(0)
T, DIM, E = 48, 6, 6


def _skewed(router):
    """Tokens that mostly prefer expert 0."""
    w = router.weight[:, 0]
    return jax.random.normal(jax.random.key(1), (T, DIM)) + 2.0 * w / jnp.sum(w**2)


ROUTE = eqx.filter_jit(lambda router, tokens: router(tokens))


@pytest.mark.parametrize("k", [1, 2])
def test_routes_within_k_and_capacity_and_balances(k):
    router = flows.SparseRouter(DIM, E, k, key=KEY)
    tokens = _skewed(router)
    out = ROUTE(router, tokens)
    assert out.experts.shape == out.gates.shape == (T, k)
    assert out.capacity == int(np.ceil(1.25 * k * T / E))
    loads = np.asarray(out.loads)
    assert loads.max() <= out.capacity and loads.sum() >= T  # every token routed
    kept = np.asarray(out.kept)
    np.testing.assert_array_equal(np.bincount(np.asarray(out.experts)[kept], minlength=E),
                                  loads)
    assert np.all(kept.sum(1) >= 1) and np.all(kept.sum(1) <= k)
    for row, keep in zip(np.asarray(out.experts), kept, strict=True):
        assert len(set(row[keep])) == keep.sum()  # distinct experts per token
    gates = np.asarray(out.gates)
    assert np.all(gates[~kept] == 0) and np.all(gates[kept] > 0)
    # plain top-k sends most tokens to expert 0, far over capacity
    top = np.asarray(jax.lax.top_k(router.logits(tokens), k)[1])
    assert np.bincount(top.ravel(), minlength=E).max() > 2 * loads.max()


def test_capacity_limit_holds_and_counts_what_it_drops():
    router = flows.SparseRouter(DIM, E, 1, capacity_factor=1.0, gamma=50.0, key=KEY)
    out = ROUTE(router, _skewed(router))
    plan = router.balance(router.logits(_skewed(router)))
    used = np.asarray(plan.values) > 0
    assert int(out.dropped) == used.sum() - np.asarray(out.kept).sum()
    assert np.asarray(out.loads).max() <= out.capacity == T // E


def test_moe_layer_trains_through_the_gates():
    moe = flows.SparseMoE(DIM, 8, E, 2, key=KEY)
    tokens = jax.random.normal(jax.random.key(2), (T, DIM))
    y, routing = eqx.filter_jit(lambda m, t: m(t))(moe, tokens)
    assert y.shape == (T, DIM) and bool(jnp.all(jnp.isfinite(y)))
    grads = eqx.filter_grad(lambda m: jnp.sum(m(tokens)[0] ** 2))(moe)
    norm = float(jnp.linalg.norm(grads.router.weight))
    assert np.isfinite(norm) and norm > 0


@pytest.mark.parametrize("kwargs, match", [
    ({"k": 0}, "k must be a positive integer"),
    ({"k": E + 1}, "k must be at most the number of experts"),
    ({"capacity_factor": 0.5}, "capacity_factor must be"),
    ({"gamma": -1.0}, "gamma must be"),
])
def test_bad_settings_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        flows.SparseRouter(DIM, E, **{"k": 2, **kwargs}, key=KEY)


def test_bad_tokens_raise():
    router = flows.SparseRouter(DIM, E, 2, key=KEY)
    with pytest.raises(ValueError, match="tokens"):
        router(jnp.ones((4, DIM + 1)))
    with pytest.raises(ValueError, match="tokens"):
        router(jnp.full((4, DIM), jnp.nan))
