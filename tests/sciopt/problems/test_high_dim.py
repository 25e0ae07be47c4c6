"""High-dimensional Poisson / Sine-Gordon with the two-body exact solution."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from sciopt import problems


@pytest.mark.parametrize("name", ["poisson_highdim", "sine_gordon_highdim"])
def test_exact_solution_vanishes_on_the_sphere_and_source_matches_hessian(name):
    p = problems.get(name, dim=6, seed=3)
    sphere = p.domain.sample_boundary(16, key=jax.random.key(0))
    assert float(jnp.max(jnp.abs(p.reference({"points": sphere})))) < 1e-14
    x = p.domain.sample_interior(5, key=jax.random.key(1))
    lap = jax.vmap(lambda z: jnp.trace(jax.hessian(p.solution)(z)))(x)
    u = jax.vmap(p.solution)(x)
    expected = -lap if name == "poisson_highdim" else lap + jnp.sin(u)
    np.testing.assert_allclose(jax.vmap(p.source)(x), expected, rtol=1e-12)


def test_closed_form_laplacian_matches_taylor_mode_at_d_1000():
    from sciopt.derivatives import laplacian

    p = problems.get("poisson_highdim", dim=1000)
    x = p.domain.sample_interior(4, key=jax.random.key(2))
    closed = jax.jit(jax.vmap(p.solution_laplacian))(x)
    taylor = jax.jit(jax.vmap(lambda z: laplacian(p.solution, z)))(x)
    np.testing.assert_allclose(closed, taylor, rtol=1e-11)
    np.testing.assert_allclose(jax.vmap(p.source)(x), -closed, rtol=1e-15)


def test_bad_input():
    with pytest.raises(ValueError, match="at least 2"):
        problems.get("poisson_highdim", dim=1)
    with pytest.raises(ValueError, match=r"must be \[n, 6\]"):
        problems.get("poisson_highdim", dim=6).reference({"points": jnp.zeros((3, 5))})
