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


def test_array_promotes_integers_and_names_the_argument():
    out = validate.array("v", np.arange(3))
    assert out.dtype == jnp.result_type(float) and out.tolist() == [0.0, 1.0, 2.0]
    for bad, kwargs, match in (
            ("abc", {}, "v must be an array"), (None, {}, "v must be an array"),
            (np.ones(3, complex), {}, "v must hold real numbers"),
            (np.ones((2, 3)), {"shape": ("n", 2)}, r"v must have shape \[n, 2\]; got \(2, 3\)"),
            (np.ones(3), {"ndim": 2}, "2 axes"), (np.ones((0, 2)), {"min_size": 1}, "at least 1"),
            (np.array([1.0, np.nan]), {}, "v must not contain NaN or Inf"),
            (np.array([1.0, np.inf]), {"finite": "not_positive_inf"}, r"NaN or \+Inf"),
            (np.ones(2), {"kind": "int"}, "v must hold integers")):
        with pytest.raises(ValueError, match=match):
            validate.array("v", bad, **kwargs)
    assert float(validate.array("v", np.array([-np.inf, 0.0]), finite="not_positive_inf")[0]) \
        == -np.inf
    # traced: checked by the compiled program, or (traced=False) left to the caller
    f = jax.jit(lambda x: validate.array("x", x) * 2)
    with pytest.raises(Exception, match="x must not contain NaN"):
        jax.block_until_ready(f(jnp.array([1.0, jnp.nan])))
    g = jax.jit(lambda x: validate.array("x", x, traced=False) * 2)
    assert bool(jnp.isnan(g(jnp.array([1.0, jnp.nan]))[1]))


def test_index_keys_paths_keys_and_int_tuples(tmp_path):
    assert validate.index("t", -1, 4) == 3
    with pytest.raises(ValueError, match=r"t must be in \[-4, 3\] \(there are 4 times\); got 4"):
        validate.index("t", 4, 4, of="times")
    with pytest.raises(ValueError, match="t must be an integer index"):
        validate.index("t", 1.0, 4)
    assert validate.known_keys("w", {"a": 1}, ("a", "b")) == {"a": 1}
    with pytest.raises(ValueError, match="w has unknown key\\(s\\) 'c'; the known keys are"):
        validate.known_keys("w", {"c": 1}, ("a", "b"))
    afile = tmp_path / "f"
    afile.write_text("x")
    with pytest.raises(ValueError, match="d must be a directory"):
        validate.directory("d", afile)
    with pytest.raises(ValueError, match="is a file"):
        validate.directory("d", afile / "below")
    with pytest.raises(ValueError, match="is a directory"):
        validate.output_file("p", tmp_path, overwrite=True)
    with pytest.raises(FileExistsError, match="overwrite=True"):
        validate.output_file("p", afile, overwrite=False)
    with pytest.raises(ValueError, match="p must be a path"):
        validate.path("p", 3)
    assert validate.positive_ints("modes", 4) == (4,)
    assert validate.positive_ints("modes", [4, 2], lengths=(1, 2)) == (4, 2)
    with pytest.raises(ValueError, match=r"modes\[1\] must be a positive integer"):
        validate.positive_ints("modes", [4, 0])
    with pytest.raises(ValueError, match="modes must be a positive integer or a sequence"):
        validate.positive_ints("modes", 4.0)
    validate.prng_key("key", jax.random.key(0))
    validate.prng_key("key", jax.random.PRNGKey(0))
    with pytest.raises(ValueError, match="key must be a PRNG key"):
        validate.prng_key("key", 0)


def test_sampler_is_checked_without_running_it():
    ok = lambda k, n: jax.random.normal(k, (n, 2))  # noqa: E731
    assert validate.sampler("s", ok, (8, 2)) is ok
    with pytest.raises(ValueError, match=r"s\(key, 8\) must return floating samples of shape "
                                         r"\(8, 3\)"):
        validate.sampler("s", ok, (8, 3))
    with pytest.raises(ValueError, match="must return a pair"):
        validate.sampler("s", ok, (8, 2), pairs=True)
    with pytest.raises(ValueError, match="fails when traced"):
        validate.sampler("s", lambda k, n: jnp.ones((n, 2)) @ jnp.ones(3), (8, 2))


def test_protocol_checks_the_role_not_the_class():
    class Grid:
        def wavenumbers(self):
            return ()

    grid = Grid()
    assert validate.protocol("grid", grid, ("wavenumbers",), "a grid") is grid
    with pytest.raises(ValueError, match=r"grid must be a grid, with wavenumbers; got str "
                                         r"'periodic'"):
        validate.protocol("grid", "periodic", ("wavenumbers",), "a grid")
