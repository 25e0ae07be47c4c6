"""Blocked kernel reductions equal the dense ones to 1e-12 (values and gradients), never
materialise n x m, and reject bad input."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from sciopt.kernels import gaussian_kernel, kernel_logsumexp, kernel_matvec

KEYS = jax.random.split(jax.random.key(0), 4)
X = jax.random.normal(KEYS[0], (37, 3))
Y = jax.random.normal(KEYS[1], (29, 3)) + 0.3
V2 = jax.random.normal(KEYS[2], (29, 2))
V1 = V2[:, 0]
KERNEL = gaussian_kernel(0.7)


def score(a, b):
    return -jnp.sum((a - b) ** 2) / 0.1


def dense_matrix(fn, x, y):
    return jax.vmap(jax.vmap(fn, (None, 0)), (0, None))(x, y)


def dense_matvec(x, y, v):
    return dense_matrix(KERNEL, x, y) @ v


def dense_lse(x, y, v):
    s = dense_matrix(score, x, y)
    return jax.nn.logsumexp(s[..., None] + v.reshape(v.shape[0], -1)[None], axis=1).reshape(
        x.shape[0], *v.shape[1:])


CASES = {
    "matvec": (kernel_matvec, KERNEL, dense_matvec),
    "logsumexp": (kernel_logsumexp, score, dense_lse),
}


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("block", [None, 5, (8, 5), (64, 64), 1])
@pytest.mark.parametrize("v", [V1, V2], ids=["v1d", "v2d"])
def test_values_and_gradients_match_dense(name, block, v):
    op, fn, dense = CASES[name]

    def blocked(x, y, v):
        return op(fn, x, y, v, block_size=block)

    np.testing.assert_allclose(blocked(X, Y, v), dense(X, Y, v), rtol=1e-12, atol=1e-13)

    def loss(f):
        return lambda x, y, v: jnp.sum(jnp.sin(f(x, y, v)))

    got = jax.grad(loss(blocked), argnums=(0, 1, 2))(X, Y, v)
    ref = jax.grad(loss(dense), argnums=(0, 1, 2))(X, Y, v)
    for g, r in zip(got, ref, strict=True):
        np.testing.assert_allclose(g, r, rtol=1e-12, atol=1e-12)


def test_logsumexp_handles_minus_infinity_weights():
    v = V1.at[::2].set(-jnp.inf)
    np.testing.assert_allclose(kernel_logsumexp(score, X, Y, v, block_size=4),
                               dense_lse(X, Y, v), rtol=1e-12)
    all_masked = kernel_logsumexp(score, X, Y, jnp.full_like(V1, -jnp.inf), block_size=4)
    assert bool(jnp.all(all_masked == -jnp.inf))


def _avals(closed):
    for eqn in closed.jaxpr.eqns:
        for var in eqn.outvars:
            yield tuple(getattr(var.aval, "shape", ()))
        for sub in jax.extend.core.subjaxprs(closed.jaxpr):
            for e in sub.eqns:
                for var in e.outvars:
                    yield tuple(getattr(var.aval, "shape", ()))


@pytest.mark.parametrize("name", CASES)
def test_no_n_by_m_array_forward_or_backward(name):
    op, fn, _ = CASES[name]
    n, m = 300, 260
    x, y, v = jnp.ones((n, 3)), jnp.ones((m, 3)), jnp.ones(m)

    def loss(x, y, v):
        return jnp.sum(op(fn, x, y, v, block_size=32))

    grad = jax.jit(jax.grad(loss, argnums=(0, 1, 2)))
    compiled = grad.lower(x, y, v).compile()
    temp = compiled.memory_analysis().temp_size_in_bytes
    assert temp < n * m * 8 / 4, temp  # a dense n x m float64 matrix would be 624 kB
    dense_temp = jax.jit(jax.grad(lambda x, y, v: jnp.sum(dense_matvec(x, y, v)),
                                  argnums=(0, 1, 2))).lower(x, y, v).compile()
    assert dense_temp.memory_analysis().temp_size_in_bytes >= n * m * 8  # the check can fail


@pytest.mark.parametrize(
    "args, match",
    [
        ((KERNEL, X[0], Y, V1), r"x must be an array of shape \[n, d\]"),
        ((KERNEL, X, Y[:, :2], V1), "same dimension d"),
        ((KERNEL, X, Y, V1[:5]), r"v must have shape \(m,\) or \(m, k\) with m = 29"),
        ((lambda a, b: a - b, X, Y, V1), "must return a scalar"),
        (("gauss", X, Y, V1), "must be a function of two points"),
        ((KERNEL, X[:0], Y, V1), "x must hold at least 1 entry"),
        ((KERNEL, X.at[2, 1].set(jnp.nan), Y, V1), "x must not contain NaN or Inf"),
        ((KERNEL, X, Y, V1.at[0].set(jnp.inf)), "v must not contain NaN or Inf"),
        ((KERNEL, X, Y, "weights"), "v must be an array"),
    ],
)
def test_bad_input(args, match):
    with pytest.raises(ValueError, match=match):
        kernel_matvec(*args)
    with pytest.raises(ValueError, match="block_size must be a positive integer"):
        kernel_matvec(KERNEL, X, Y, V1, block_size=0)
    with pytest.raises(ValueError, match="bandwidth must be finite and > 0"):
        gaussian_kernel(-1.0)


def test_kernel_parameters_are_traced_and_differentiated():
    """The Gaussian bandwidth and the score's epsilon are array leaves: one compilation for
    every value, vmap over them, and the blocked custom VJP returns their gradient (against
    the dense float64 computation)."""
    import equinox as eqx

    from sciopt.kernels import kernel_logsumexp, squared_distance_score

    def blocked(h):
        return jnp.sum(kernel_matvec(gaussian_kernel(h), X, Y, V1, block_size=7) ** 2)

    once = eqx.filter_jit(eqx.debug.assert_max_traces(blocked, max_traces=1))

    def dense(h):
        k = jnp.exp(-jnp.sum((X[:, None] - Y[None]) ** 2, -1) / (2 * h**2))
        return jnp.sum((k @ V1) ** 2)

    for h in (0.7, 1.3):  # arrays: filter_jit keeps Python floats static
        np.testing.assert_allclose(once(jnp.asarray(h)), dense(h), rtol=1e-12)
    np.testing.assert_allclose(jax.grad(blocked)(jnp.asarray(0.7)), jax.grad(dense)(0.7),
                               rtol=1e-10)
    np.testing.assert_allclose(jax.vmap(blocked)(jnp.array([0.7, 1.3])),
                               [dense(0.7), dense(1.3)], rtol=1e-12)

    def lse(eps):
        return jnp.sum(kernel_logsumexp(squared_distance_score(eps), X, Y, V1, block_size=5))

    def lse_dense(eps):
        s = -jnp.sum((X[:, None] - Y[None]) ** 2, -1) / eps + V1[None]
        return jnp.sum(jax.nn.logsumexp(s, axis=1))

    np.testing.assert_allclose(jax.grad(lse)(0.4), jax.grad(lse_dense)(0.4), rtol=1e-10)
