"""Reference solves inside a user's jit / vmap / grad over a problem's coefficients."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from sciopt import problems

BURGERS = type(problems.get("burgers1d_periodic"))
X = np.linspace(-1, 1, 64, endpoint=False)
T = jnp.linspace(0.0, 0.2, 3)
U0 = -jnp.sin(jnp.pi * jnp.asarray(X))


def _solve(nu):
    return BURGERS(nu=nu, t_final=0.2, length=2.0).solve(U0, T, dt=1e-3)


def test_vmap_of_a_reference_solve_over_viscosity():
    nus = jnp.array([0.05, 0.1])
    batched = jax.vmap(_solve)(nus)
    for i, nu in enumerate((0.05, 0.1)):
        looped = _solve(nu)
        np.testing.assert_allclose(batched[i], looped, rtol=0, atol=1e-13)
        # and each member is the Cole-Hopf solution (ETDRK4 at dt = 1e-3 on 64 modes of a
        # smooth solution: 1e-6 leaves room for the time error, 1e-4 would hide a wrong nu)
        exact = BURGERS(nu=nu, t_final=0.2).solution(X, 0.2)
        np.testing.assert_allclose(batched[i, -1], exact, atol=1e-6)


def test_jit_over_viscosity_compiles_once_and_grad_matches_finite_differences():
    @jax.jit
    @eqx.debug.assert_max_traces(max_traces=1)
    def energy(nu):
        return jnp.sum(_solve(nu)[-1] ** 2)

    e1, e2 = energy(0.05), energy(0.1)
    assert float(e2) < float(e1)  # more viscosity, more decay
    # d/dnu of the final energy: the grad of the ETDRK4 solve against central differences
    # (h = 1e-6 in float64: truncation ~h^2, roundoff ~1e-16 / h relative)
    nu, h = 0.05, 1e-6
    grad = jax.grad(energy)(nu)
    fd = (energy(nu + h) - energy(nu - h)) / (2 * h)
    np.testing.assert_allclose(grad, fd, rtol=1e-7)
    assert float(grad) < 0
