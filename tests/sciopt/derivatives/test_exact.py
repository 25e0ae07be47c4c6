"""Exact Taylor-mode operators agree with nested-AD (Hessian) results to float64 round-off,
and match closed forms."""

import warnings

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
    taylor,
)

D = 6
X = jax.random.normal(jax.random.key(1), (D,))
MLP = eqx.nn.MLP(D, 1, 16, 3, activation=jnp.tanh, key=jax.random.key(0))


def mlp(x):
    return MLP(x)[0]


def mixed(x):  # many primitives: products, reductions, control of sign, custom_jvp, ...
    return (jnp.sum(jnp.sin(x) ** 2 * jnp.exp(-x @ x)) + jax.nn.logsumexp(x)
            + jnp.prod(x[:3]) + jnp.linalg.norm(x) + jax.nn.softplus(x).sum() * x[0]
            + x[2] / (1.5 + x[3] ** 2) + jnp.max(x**2) + jnp.sort(x)[2] ** 3
            + jnp.arctan2(x[0], 2.0 + x[1] ** 2) + jax.nn.gelu(x[4]) * x[5])


def vector(x):  # vector-valued
    return jnp.stack([jnp.tanh(x).sum() * x[0], jnp.cos(x @ x), x[1] ** 3 * x[2]])


FUNCTIONS = {"mlp": mlp, "mixed": mixed, "vector": vector}


def test_taylor_matches_closed_form():
    t = taylor(jnp.sin, jnp.array(0.3), jnp.array(2.0), 4)
    expected = [np.sin(0.3), 2 * np.cos(0.3), -4 * np.sin(0.3), -8 * np.cos(0.3),
                16 * np.sin(0.3)]
    np.testing.assert_allclose(t, expected, rtol=1e-14)
    # D^k of exp(a.x) along v is (a.v)^k exp(a.x).
    a, v = jnp.array([0.5, -1.0, 2.0]), jnp.array([1.0, 0.5, -0.25])
    t = taylor(lambda z: jnp.exp(a @ z), X[:3], v, 5)
    np.testing.assert_allclose(t, (a @ v) ** np.arange(6) * np.exp(a @ X[:3]), rtol=1e-13)


def test_taylor_falls_back_to_nested_jvp_and_says_so():
    from sciopt.derivatives import _taylor

    _taylor._WARNED.discard("cbrt")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        t = taylor(jnp.cbrt, jnp.array(2.0), jnp.array(1.0), 3)
        taylor(jnp.cbrt, jnp.array(3.0), jnp.array(1.0), 3)
    messages = [str(w.message) for w in caught if "cbrt" in str(w.message)]
    assert len(messages) == 1  # once
    c = 2.0 ** (1 / 3)
    np.testing.assert_allclose(t, [c, c / 6, -c / 18, 5 * c / 108], rtol=1e-13)


@pytest.mark.parametrize("name", FUNCTIONS)
def test_exact_laplacian_equals_hessian_trace(name):
    f = FUNCTIONS[name]
    exact = jax.jit(lambda x: laplacian(f, x))(X)
    ref = jax.jit(lambda x: laplacian(f, x, method="hessian"))(X)
    np.testing.assert_allclose(exact, ref, rtol=1e-11, atol=1e-12)


def test_laplacian_of_matrix_input_under_jit_and_vmap():
    def f(m):  # x is a 2 x 3 matrix
        return jnp.sum(jnp.tanh(m @ m.T))

    xs = jax.random.normal(jax.random.key(2), (4, 2, 3))
    exact = jax.jit(jax.vmap(lambda m: laplacian(f, m)))(xs)
    ref = jax.vmap(lambda m: laplacian(f, m, method="hessian"))(xs)
    np.testing.assert_allclose(exact, ref, rtol=1e-11)


def test_exact_laplacian_never_forms_a_d_by_d_array():
    d = 40
    model = eqx.nn.MLP(d, 1, 16, 3, activation=jnp.tanh, key=jax.random.key(0))
    x = jnp.ones(d)
    jaxpr = jax.make_jaxpr(lambda z: laplacian(lambda y: model(y)[0], z))(x)

    def shapes(jx):
        for eqn in jx.eqns:
            for v in eqn.outvars:
                yield tuple(getattr(v.aval, "shape", ()))
            for sub in jax.extend.core.subjaxprs(jx):
                yield from shapes(sub)

    assert all(s.count(d) < 2 for s in shapes(jaxpr.jaxpr))
    hess = jax.make_jaxpr(lambda z: laplacian(lambda y: model(y)[0], z, method="hessian"))(x)
    assert any(s.count(d) >= 2 for s in shapes(hess.jaxpr))  # the check can fail


def test_biharmonic_closed_form_and_hessian():
    # Delta^2 |x|^4 = 8 d (d + 2).
    r4 = lambda x: jnp.sum(x**2) ** 2
    np.testing.assert_allclose(biharmonic(r4, X), 8 * D * (D + 2), rtol=1e-12)
    np.testing.assert_allclose(jax.jit(lambda x: biharmonic(mlp, x))(X),
                               jax.jit(lambda x: biharmonic(mlp, x, method="hessian"))(X),
                               rtol=1e-10)


def test_divergence_exact():
    def field(x):
        return jnp.tanh(x) * x[::-1] + jnp.sin(x @ x)

    np.testing.assert_allclose(divergence(field, X), divergence(field, X, method="hessian"),
                               rtol=1e-12)
    # div(x |x|^2) = (d + 2) |x|^2.
    np.testing.assert_allclose(divergence(lambda x: x * (x @ x), X), (D + 2) * (X @ X),
                               rtol=1e-13)


def test_general_operator_exact_matches_nested_grads():
    op = DifferentialOperator([(1.0, {0: 2}), (2.0, {1: 1, 2: 1}), (0.5, {0: 2, 3: 2}),
                               (3.0, {}), (-1.0, {4: 1, 0: 1, 1: 1}), (0.25, {5: 4}),
                               (1.5, {1: 3, 2: 1})])
    assert op.order == 4
    def smooth(x):
        return jnp.sin(x[0] * x[1]) * jnp.exp(x[2]) + x[3] ** 2 * x[4] * x[5] + jnp.tanh(x @ x)

    for f in (mlp, smooth):
        np.testing.assert_allclose(jax.jit(lambda x, f=f: apply_operator(op, f, x))(X),
                                   jax.jit(lambda x, f=f: apply_operator(op, f, x,
                                                                         method="nested"))(X),
                                   rtol=1e-10)
    # d^2/dx0 dx1 of x0^2 x1^3 = 6 x0 x1^2.
    mono = DifferentialOperator([(1.0, {0: 1, 1: 1})])
    np.testing.assert_allclose(apply_operator(mono, lambda x: x[0] ** 2 * x[1] ** 3, X),
                               6 * X[0] * X[1] ** 2, rtol=1e-13)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: laplacian(mlp, X, method="fd"), "method must be one of"),
        (lambda: laplacian(mlp, X, method="stde"), "pass key="),
        (lambda: laplacian(mlp, X, method="stde", key=jax.random.key(0), num_samples=0),
         "num_samples must be a positive integer"),
        (lambda: laplacian(mlp, X, method="stde", key=jax.random.key(0),
                           distribution="uniform"), "distribution must be one of"),
        (lambda: divergence(mlp, X), "F\\(x\\) of the shape of x"),
        (lambda: taylor(mlp, X, X[:2], 2), "direction v must have the shape"),
        (lambda: taylor(mlp, X, X, 0), "order must be a positive integer"),
        (lambda: apply_operator(DifferentialOperator([(1.0, {9: 2})]), mlp, X),
         "axis 9, but x has only 6"),
        (lambda: DifferentialOperator([]), "at least one term"),
        (lambda: DifferentialOperator([(1.0, {0: -1})]), "non-negative"),
        (lambda: DifferentialOperator([("a", {0: 1})]), "term 0 must be"),
        (lambda: apply_operator(DifferentialOperator([(1.0, {0: 1})]), vector, X,
                                method="nested"), "scalar f"),
    ],
)
def test_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_control_flow_scan_cond_while():
    def f_scan(x):
        return jnp.sum(jax.lax.scan(lambda c, _: (jnp.tanh(1.1 * c + 0.1), None), x, None,
                                    length=3)[0] ** 2)

    def f_cond(x):
        return jax.lax.cond(x[0] > 0, lambda z: jnp.sum(jnp.sin(z) ** 2),
                            lambda z: jnp.sum(z**3), x)

    for f in (f_scan, f_cond):
        np.testing.assert_allclose(laplacian(f, X), laplacian(f, X, method="hessian"),
                                   rtol=1e-12)

    # A while loop with a traced trip count: reverse mode (jax.hessian) cannot do this one,
    # forward Taylor mode can. Reference: the same loop unrolled.
    def f_while(x):
        return jnp.sum(jax.lax.while_loop(lambda s: s[1] < 3, lambda s: (jnp.sin(s[0]) + s[0] ** 2,
                                                                          s[1] + 1), (x, 0))[0])

    def f_unrolled(x):
        for _ in range(3):
            x = jnp.sin(x) + x**2
        return jnp.sum(x)

    np.testing.assert_allclose(laplacian(f_while, X), laplacian(f_unrolled, X, method="hessian"),
                               rtol=1e-12)


@pytest.mark.parametrize("name", ["mlp", "mixed"])
def test_chunked_directions_give_the_same_laplacian(name):
    f = FUNCTIONS[name]
    np.testing.assert_allclose(laplacian(f, X, directions_per_pass=4), laplacian(f, X),
                               rtol=1e-13, atol=1e-14)  # 6 = 4 + 2 padded: round-off only


def enveloped(x):  # elementwise maps of the input: shifts, signs, squares, products, dots
    c, w = jnp.linspace(-0.3, 0.4, D), jnp.linspace(0.5, 1.5, D)
    z = x - c
    return ((1.0 - jnp.sum(z**2)) * mlp(-z * w) + (c - x) @ (x * w) + jnp.sum(jnp.sin(x) * x)
            + x @ x)


def test_symbolic_rows_through_elementwise_maps_are_exact():
    """The scaled-rows fast paths (shift, sign, square, scale, dot of two rows) give the
    exact Laplacian and, for sparse STDE, the same sum as dense one-hot directions."""
    from sciopt.derivatives._collapsed import Rows, collapsed_taylor

    want = jnp.trace(jax.hessian(enveloped)(X))
    np.testing.assert_allclose(laplacian(enveloped, X), want, rtol=1e-12)
    np.testing.assert_allclose(laplacian(enveloped, X, directions_per_pass=4), want,
                               rtol=1e-12)
    index = jnp.array([0, 3, 3, 5])  # a repeated coordinate exercises the [i == k] terms
    symbolic = collapsed_taylor(enveloped, X, Rows(index, D))
    dense = collapsed_taylor(enveloped, X, jax.nn.one_hot(index, D, dtype=X.dtype))
    for s, d in zip(symbolic, dense, strict=True):
        np.testing.assert_allclose(s, d, rtol=1e-12, atol=1e-14)
