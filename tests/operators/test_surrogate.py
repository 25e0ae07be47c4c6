"""`operators.surrogate_solve`: a grid operator as the right-hand side of a diffrax solve,
integrated to the solver's tolerance; bad input is rejected."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import operators

GRID = np.linspace(0.0, 1.0, 16, endpoint=False)
COORDS = GRID[:, None]


def _fno():
    return operators.FNO(1, 1, modes=4, width=4, layers=1, projection=8, key=jax.random.key(0))


def test_surrogate_solve_integrates_the_models_vector_field():
    """The adaptive solve equals an independent fixed-step RK4 integration of the model's
    field. (Gradients through it drive the inversion in examples/operator_surrogate.py.)"""
    fno = _fno()
    u0 = jnp.sin(2 * jnp.pi * GRID)[None]
    vf = operators.OperatorVectorField(fno, jnp.asarray(COORDS))
    np.testing.assert_array_equal(vf(0.0, u0, None), fno(u0))
    ys = operators.surrogate_solve(fno, u0, COORDS, t1=0.5, saveat=jnp.array([0.25, 0.5]),
                                   rtol=1e-10, atol=1e-12)
    assert ys.shape == (2, 1, 16)

    def rk4(u, _, h=0.5 / 1000):
        k1 = fno(u)
        k2 = fno(u + h / 2 * k1)
        k3 = fno(u + h / 2 * k2)
        k4 = fno(u + h * k3)
        return u + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4), None

    fixed = jax.lax.scan(rk4, u0, None, length=1000)[0]
    np.testing.assert_allclose(ys[-1], fixed, rtol=1e-8, atol=1e-10)


def test_surrogate_solve_rejects_bad_input():
    fno = _fno()
    with pytest.raises(ValueError, match=r"u0 must be \[1, \*1 grid axes\]"):
        operators.surrogate_solve(fno, jnp.ones(16), COORDS, t1=1.0)
    with pytest.raises(ValueError, match="t1 - t0"):
        operators.surrogate_solve(fno, jnp.ones((1, 16)), COORDS, t1=0.0)
    two = operators.FNO(1, 2, modes=4, width=4, layers=1, projection=8, key=jax.random.key(0))
    with pytest.raises(ValueError, match="the same number"):
        operators.surrogate_solve(two, jnp.ones((1, 16)), COORDS, t1=1.0)
    net = operators.DeepONet(16, 1, key=jax.random.key(0))
    with pytest.raises(ValueError, match="got DeepONet"):
        operators.surrogate_solve(net, jnp.ones((1, 16)), COORDS, t1=1.0)
