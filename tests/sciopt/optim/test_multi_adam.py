"""MultiAdam: agreement with a hand-written float64 reference of the update rule, scale
invariance per loss group (which Adam lacks), and training through `fit`."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from sciopt.optim import group_gradients, multi_adam
from sciopt.train import fit


def _reference(grads_seq, lr, b1, b2, eps, w):
    """The update rule written out in NumPy: per-group Adam moments, weighted sum."""
    m = np.zeros_like(grads_seq[0])
    v = np.zeros_like(grads_seq[0])
    out = []
    for t, g in enumerate(grads_seq, start=1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g**2
        mhat, vhat = m / (1 - b1**t), v / (1 - b2**t)
        out.append(-lr * np.einsum("k,k...->...", w, mhat / (np.sqrt(vhat) + eps)))
    return out


def test_matches_the_reference_update_rule():
    rng = np.random.default_rng(0)
    grads_seq = [rng.standard_normal((3, 4, 2)) for _ in range(6)]
    w = np.array([0.2, 0.5, 0.3])
    opt = multi_adam(1e-2, b1=0.9, b2=0.95, eps=1e-8, weights=w)
    state = opt.init(jnp.zeros((4, 2)))
    expected = _reference(grads_seq, 1e-2, 0.9, 0.95, 1e-8, w)
    for g, want in zip(grads_seq, expected, strict=True):
        u, state = opt.update(jnp.asarray(g), state)
        np.testing.assert_allclose(u, want, rtol=1e-13, atol=1e-16)


def test_scaling_one_group_leaves_multiadam_unchanged_but_changes_adam():
    params = {"a": jnp.array([0.3, -1.2, 2.0]), "b": jnp.array(0.7)}

    def losses(p, scale):
        r = jnp.sum((p["a"] - 1.0) ** 2) + p["b"] ** 2
        bc = (p["a"][0] * p["b"] - 0.5) ** 2
        return jnp.stack([r, scale * bc])

    def run(opt, scale, grouped):
        p, state = params, opt.init(params)
        for _ in range(25):
            if grouped:
                g = group_gradients(losses, p, scale)
            else:
                g = jax.grad(lambda q: jnp.sum(losses(q, scale)))(p)
            u, state = opt.update(g, state, p)
            p = optax.apply_updates(p, u)
        return p

    ma = multi_adam(1e-2, num_groups=2, eps=1e-12)
    base, scaled = run(ma, 1.0, True), run(ma, 1e4, True)
    for k in params:
        np.testing.assert_allclose(scaled[k], base[k], rtol=1e-9, atol=1e-12)
    adam = optax.adam(1e-2)
    base, scaled = run(adam, 1.0, False), run(adam, 1e4, False)
    assert max(float(jnp.max(jnp.abs(scaled[k] - base[k]))) for k in params) > 1e-2


def test_bad_input():
    with pytest.raises(ValueError, match="pass weights or num_groups"):
        multi_adam(1e-3)
    with pytest.raises(ValueError, match="non-negative numbers"):
        multi_adam(1e-3, weights=[1.0, -1.0])
    opt = multi_adam(1e-3, num_groups=3)
    with pytest.raises(ValueError, match="leading loss-group axis of 3"):
        opt.update(jnp.ones((2, 5)), opt.init(jnp.ones(5)))


def test_fit_with_grouped_gradients_trains():
    target = jnp.array([1.0, -2.0])

    def loss(p, batch, key):
        fit_term = jnp.sum((p - target) ** 2)
        reg = 1e3 * (p[0] + p[1] + 1.0) ** 2  # consistent with the target: min at target
        return fit_term + reg, {"data": fit_term, "constraint": reg}

    schedule = optax.cosine_decay_schedule(5e-2, 400)  # schedules are accepted
    out = fit(loss, jnp.zeros(2), multi_adam(schedule, b1=0.9, b2=0.999, num_groups=2), {}, 400,
              key=jax.random.key(0), progress="off", grouped_gradients=True, chunk_size=100)
    np.testing.assert_allclose(out.model, target, atol=2e-2)
    with pytest.raises(ValueError, match="needs a loss that returns"):
        fit(lambda p, b, k: jnp.sum(p**2), jnp.zeros(2), multi_adam(1e-2, num_groups=1), {},
            10, key=jax.random.key(0), progress="off", grouped_gradients=True)
