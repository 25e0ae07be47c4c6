"""Finite-difference elliptic solves: second order in space (manufactured solutions),
physical sanity on random Darcy media, and bad input."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from sciopt import problems
from sciopt.solvers import solve_elliptic_2d

SIZES = [17, 33, 65]


def order(errors):
    return np.polyfit(np.log([1 / (n - 1) for n in SIZES]), np.log(errors), 1)[0]


def grid(n):
    x = jnp.linspace(0, 1, n)
    return {"x": x, "y": x}, jnp.stack(jnp.meshgrid(x, x, indexing="ij"), -1)


@pytest.mark.parametrize("name", ["poisson2d", "helmholtz2d"])
def test_second_order_on_manufactured_solutions(name):
    p = problems.get(name)
    errors = []
    for n in SIZES:
        coords, pts = grid(n)
        errors.append(float(jnp.max(jnp.abs(p.reference(coords)[0, ..., 0]
                                            - p.solution(pts)))))
    assert 1.9 <= order(errors) <= 2.1, errors


def test_variable_coefficient_second_order_all_methods():
    def u_star(q):
        return jnp.sin(jnp.pi * q[0]) * jnp.sin(2 * jnp.pi * q[1]) + jnp.exp(q[0]) * q[1]

    def a_star(q):
        return 1 + 0.5 * jnp.sin(2 * q[0] + q[1])

    def source(q):  # -div(a grad u)
        return -jnp.trace(jax.jacfwd(lambda r: a_star(r) * jax.grad(u_star)(r))(q))

    for method, sizes in (("cg", SIZES), ("lu", [9, 17, 33])):
        errors = []
        for n in sizes:
            _, pts = grid(n)
            f = jax.vmap(jax.vmap(source))(pts)
            a = jax.vmap(jax.vmap(a_star))(pts)
            u = jax.vmap(jax.vmap(u_star))(pts)
            sol = solve_elliptic_2d(f, lengths=(1.0, 1.0), coefficient=a, boundary=u,
                                    method=method)
            errors.append(float(jnp.max(jnp.abs(sol - u))))
        slope = np.polyfit(np.log([1 / (n - 1) for n in sizes]), np.log(errors), 1)[0]
        assert 1.9 <= slope <= 2.1, (method, errors)


@pytest.mark.parametrize("kind", ["piecewise", "lognormal"])
def test_darcy_random_media(kind):
    p = problems.get("darcy2d", coefficient=kind)
    a = p.sample_coefficient(jax.random.key(1), 33)
    if kind == "piecewise":
        assert set(np.unique(np.asarray(a)).tolist()) == {3.0, 12.0}
    else:
        assert bool(jnp.all(a > 0))
    u = p.solve(a)
    # Maximum principle: f = 1 >= 0 and u = 0 on the boundary give u >= 0 inside.
    assert float(u.min()) >= -1e-12 and float(u[1:-1, 1:-1].min()) > 0
    np.testing.assert_array_equal(u[0], 0.0)
    # A stiffer medium (a -> 2a) halves the pressure exactly (linearity).
    np.testing.assert_allclose(p.solve(2 * a), u / 2, rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize("call, match", [
    (lambda: solve_elliptic_2d(jnp.ones((5,)), lengths=(1.0, 1.0)), "nodal field"),
    (lambda: solve_elliptic_2d(jnp.ones((5, 5)), lengths=(1.0, 1.0),
                               coefficient=jnp.ones((4, 4))), "shape of source"),
    (lambda: solve_elliptic_2d(jnp.ones((5, 5)), lengths=(1.0, 1.0),
                               coefficient=-jnp.ones((5, 5))), "positive everywhere"),
    (lambda: solve_elliptic_2d(jnp.ones((5, 5)), lengths=(1.0, 1.0), k2=100.0, method="cg"),
     "indefinite"),
    (lambda: solve_elliptic_2d(jnp.ones((5, 5)), lengths=(1.0, -1.0)), "must be positive"),
    (lambda: problems.get("poisson2d").reference({"x": jnp.linspace(0, 2, 9),
                                                  "y": jnp.linspace(0, 1, 9)}), "from 0 to 1"),
    (lambda: problems.get("darcy2d", coefficient="uniform"), "must be one of"),
])
def test_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()
