"""sciopt.validate: the same checks outside and inside a caller's jit / vmap / grad."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from sciopt import validate


def test_real_returns_an_array_leaf_and_rejects_bad_values_at_once():
    eps = validate.real("epsilon", 0.25)
    assert isinstance(eps, jax.Array) and eps.shape == () and float(eps) == 0.25
    assert validate.real("m", 3).dtype == jnp.result_type(float)  # ints become floats
    assert float(validate.real("t", 0.0, low_inclusive=True)) == 0.0
    for bad, match in ((-1.0, r"epsilon must be finite and > 0; got -1.0"),
                       (0.0, r"> 0; got 0.0"), (float("nan"), "got nan"),
                       ("0.1", "must be a real number"), (True, "must be a real number"),
                       (jnp.ones(2), "must be a scalar")):
        with pytest.raises(ValueError, match=match):
            validate.real("epsilon", bad)
    with pytest.raises(ValueError, match=r"decay must be finite and > 0 and < 1; got 1.5"):
        validate.real("decay", 1.5, high=1.0)


def test_a_concrete_bad_value_inside_a_jit_still_raises_at_once():
    # the setting is a Python number closed over by the traced function: no need to wait
    # for the compiled program
    with pytest.raises(ValueError, match="epsilon must be finite and > 0; got -2.0"):
        jax.jit(lambda x: x * validate.real("epsilon", -2.0))(1.0)


def test_traced_values_are_checked_by_the_compiled_program():
    f = jax.jit(lambda e: validate.real("epsilon", e) * 2)
    assert float(f(0.5)) == 1.0
    with pytest.raises(Exception, match="epsilon must be finite and > 0"):
        jax.block_until_ready(f(-0.5))
    # vmap: every member checked, good batches pass
    np.testing.assert_allclose(jax.vmap(lambda e: validate.real("epsilon", e))(
        jnp.array([0.1, 0.2])), [0.1, 0.2])
    with pytest.raises(Exception, match="epsilon must be"):
        jax.block_until_ready(jax.vmap(lambda e: validate.real("epsilon", e))(
            jnp.array([0.1, -0.2])))
    # grad flows through the check unchanged
    assert float(jax.grad(lambda e: validate.real("epsilon", e) ** 2)(3.0)) == 6.0


def test_require_on_concrete_and_traced_conditions():
    x = jnp.arange(3.0)
    assert validate.require(x, x >= 0, "negative") is x
    with pytest.raises(ValueError, match="negative entries"):
        validate.require(x, x > 0, "negative entries")
    g = eqx.filter_jit(lambda y: validate.require(y, y > 0, "y must be positive") + 1)
    np.testing.assert_allclose(g(x + 1), x + 2)
    with pytest.raises(Exception, match="y must be positive"):
        jax.block_until_ready(g(x))
    assert validate.is_concrete(x, {"a": 1.0})
    assert jax.jit(lambda y: jnp.asarray(validate.is_concrete(y)))(x).item() is False


def test_a_callable_condition_on_closed_over_values_raises_at_once_inside_a_jit():
    x = jnp.arange(3.0)  # concrete, closed over: the check needs no compiled program
    with pytest.raises(ValueError, match="x must be positive"):
        jax.jit(lambda y: validate.require(y, lambda: x > 0, "x must be positive"))(1.0)
    assert float(jax.jit(lambda y: validate.require(y, lambda: x >= 0, "never"))(2.0)) == 2.0
