"""Gauss–Newton / Levenberg–Marquardt: the least-squares step against NumPy in every shape
and solver, quadratic convergence on a nonlinear fit through `fit`, L-BFGS through `fit`,
and clear errors."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from sciopt.optim import Residuals, SumOfSquares, gauss_newton, least_squares_step
from sciopt.train import fit


@pytest.mark.parametrize("shape", [(12, 5), (5, 12)])
@pytest.mark.parametrize("solver", ["cholesky", "qr", "svd"])
def test_least_squares_step_matches_numpy(shape, solver):
    rng = np.random.default_rng(0)
    jac, res = rng.standard_normal(shape), rng.standard_normal(shape[0])
    lam = 0.3
    # Damped: the unique minimiser of |J d + r|^2 + lam |d|^2.
    want = -np.linalg.solve(jac.T @ jac + lam * np.eye(shape[1]), jac.T @ res)
    got = least_squares_step(jnp.asarray(jac), jnp.asarray(res), damping=lam, solver=solver)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    if solver != "cholesky" or shape[0] > shape[1]:
        # Undamped: the (minimum-norm) least-squares solution.
        got = least_squares_step(jnp.asarray(jac), jnp.asarray(res), solver=solver)
        np.testing.assert_allclose(got, -np.linalg.lstsq(jac, res, rcond=None)[0],
                                   rtol=1e-9, atol=1e-11)


_T = jnp.linspace(0.0, 2.0, 40)
_TRUE = jnp.array([1.5, -0.7, 0.4])


def _model(p, t):
    return p[0] * jnp.exp(p[1] * t) + p[2] * jnp.sin(3 * t)


_FIT_LOSS = SumOfSquares(lambda p, batch, key: {
    "data": Residuals(lambda q, t: _model(q, t) - _model(_TRUE, t), _T,
                      jnp.full(_T.shape, 1.0 / _T.size)),
    "prior": Residuals(lambda q, i: q[i] - _TRUE[i], jnp.arange(3), jnp.full(3, 1e-3))},
    weights={"prior": 2.0})


def test_levenberg_marquardt_fits_a_nonlinear_model_to_round_off():
    result = fit(_FIT_LOSS, jnp.array([1.0, 0.0, 0.0]), gauss_newton(1e-2), {}, 25,
                 key=jax.random.key(0), progress="off")
    np.testing.assert_allclose(result.model, _TRUE, atol=1e-12)
    assert result.losses[-1] < 1e-24
    # The residual vector is the loss's square root: |r|^2 = total.
    total, _ = _FIT_LOSS(result.model * 1.1, None, None)
    r = _FIT_LOSS.residuals(result.model * 1.1, None, None)
    assert float(jnp.sum(r**2)) == pytest.approx(float(total), rel=1e-13)
    # Per-point Jacobian = jax.jacrev of the whole residual vector.
    r2, jac = _FIT_LOSS.jacobian(result.model * 1.1, None, None)
    np.testing.assert_allclose(r2, r, rtol=1e-14)
    np.testing.assert_allclose(jac, jax.jacrev(lambda p: _FIT_LOSS.residuals(p, None, None))(
        result.model * 1.1), rtol=1e-13, atol=1e-15)


def test_lbfgs_through_fit_uses_the_line_search():
    result = fit(lambda p, b, k: _FIT_LOSS(p, b, k)[0], jnp.array([1.0, 0.0, 0.0]),
                 optax.lbfgs(), {}, 150, key=jax.random.key(0), progress="off")
    np.testing.assert_allclose(result.model, _TRUE, atol=1e-6)


def test_bad_input_is_rejected():
    with pytest.raises(ValueError, match="solver must be one of"):
        least_squares_step(jnp.ones((3, 2)), jnp.ones(3), solver="lu")
    with pytest.raises(ValueError, match="jac must be \\[n, p\\] and res \\[n\\]"):
        least_squares_step(jnp.ones((3, 2)), jnp.ones(2))
    with pytest.raises(ValueError, match="0 < min_damping <= max_damping"):
        gauss_newton(min_damping=0.0)
    with pytest.raises(ValueError, match="needs a sum-of-squares loss with residuals"):
        fit(lambda p, b, k: jnp.sum(p**2), jnp.ones(2), gauss_newton(), {}, 2,
            key=jax.random.key(0), progress="off")
