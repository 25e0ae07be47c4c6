"""Pseudo-spectral ETDRK4 references against analytic solutions, and its order in time."""

import jax.numpy as jnp
import numpy as np
import pytest

from sciopt import problems
from sciopt.solvers import PeriodicGrid, etdrk4_coefficients, solve_etdrk4


def rel(a, b):
    return float(np.linalg.norm(np.asarray(a) - np.asarray(b)) / np.linalg.norm(np.asarray(b)))


def test_coefficients_match_closed_forms_and_survive_l_to_zero():
    # phi-weights for a single scalar L, compared with the closed forms away from 0.
    L, h = jnp.array([-3.0 + 0j, 2.0j, -0.5 + 1.0j]), 0.1
    c = etdrk4_coefficients(L, h)
    z = h * np.asarray(L)
    np.testing.assert_allclose(c.q, h * (np.exp(z / 2) - 1) / z, rtol=1e-13)
    np.testing.assert_allclose(c.f1, h * (-4 - z + np.exp(z) * (4 - 3 * z + z**2)) / z**3,
                               rtol=1e-10)
    # At L = 0 the weights tend to h/2, h/6, h/3, h/6 (classical RK4).
    c0 = etdrk4_coefficients(jnp.array([0.0 + 0j]), h)
    np.testing.assert_allclose([c0.q[0], c0.f1[0], c0.f2[0], c0.f3[0]],
                               [h / 2, h / 6, h / 6, h / 6], rtol=1e-14)


def test_heat_and_advection_are_exact():
    heat = problems.get("heat1d", nu=0.3, modes=6)
    x = PeriodicGrid(64, 2 * np.pi).axes()[0]
    t = jnp.linspace(0, 1, 5)
    grid = PeriodicGrid(64, 2 * np.pi)
    v = solve_etdrk4(-0.3 * grid.wavenumbers()[0] ** 2 + 0j, lambda w: 0 * w,
                     grid.to_spectral(heat.initial_condition(x)), dt=0.05, num_steps=20,
                     save_every=5)
    assert rel(grid.to_physical(v), heat.reference({"x": x}, t)[..., 0]) <= 1e-10
    adv = problems.get("advection1d", c=50.0)
    x = adv.grid(64).axes()[0]
    ref = adv.reference({"x": x}, t)[..., 0]
    assert rel(ref, adv.solution(x[None], t[:, None])) <= 1e-10


def test_kdv_soliton():
    kdv = problems.get("kdv1d")
    x = kdv.grid(768).axes()[0]
    t = jnp.array([0.0, 0.25])
    ref = kdv.reference({"x": x}, t, dt=1e-4)[..., 0]
    assert rel(ref, kdv.solution(x[None], t[:, None])) <= 1e-8


def test_burgers_against_cole_hopf():
    burgers = problems.get("burgers1d_periodic")  # nu = 0.01 / pi
    x = burgers.grid(1024).axes()[0]
    u = burgers.reference({"x": x}, jnp.array([0.0, 1.0]), dt=2e-4)[-1, :, 0]
    assert rel(u, burgers.solution(np.asarray(x), 1.0)) <= 1e-6
    # The operator benchmarks' period: nu = 0.1 on [-1/2, 1/2), u0 = -sin(2 pi x).
    unit = problems.get("burgers1d_periodic", nu=0.1, length=1.0)
    assert unit.interval == (-0.5, 0.5)
    x = unit.grid(128).axes()[0]
    u = unit.reference({"x": x}, jnp.array([0.0, 1.0]), dt=1e-3)[-1, :, 0]
    assert rel(u, unit.solution(np.asarray(x), 1.0)) <= 1e-8


@pytest.mark.parametrize("name, n, t_end, dts, dt_fine", [
    ("allen_cahn1d", 256, 1.0, [0.05, 0.025, 0.0125, 0.00625], 1e-4),
    ("ks1d", 128, 5.0, [0.2, 0.1, 0.05, 0.025], 0.002),
])
def test_fourth_order_in_time(name, n, t_end, dts, dt_fine):
    p = problems.get(name)
    x = p.grid(n).axes()[0]
    t = jnp.array([0.0, t_end])
    fine = p.reference({"x": x}, t, dt=dt_fine)[-1]
    errors = [rel(p.reference({"x": x}, t, dt=dt)[-1], fine) for dt in dts]
    order = np.polyfit(np.log(dts), np.log(errors), 1)[0]
    assert 3.8 <= order <= 4.2, (errors, order)


@pytest.mark.parametrize("call, match", [
    (lambda: PeriodicGrid(63, 1.0), "even"),
    (lambda: PeriodicGrid([8, 8], [1.0]), "one entry per axis"),
    (lambda: PeriodicGrid(8, -1.0), "period must be positive"),
    (lambda: solve_etdrk4(jnp.zeros(5, complex), lambda v: v, jnp.zeros(5, complex), dt=0.1,
                          num_steps=10, save_every=3), "multiple of save_every"),
    (lambda: solve_etdrk4(jnp.zeros(5, complex), lambda v: v, jnp.zeros(5, complex), dt=-0.1,
                          num_steps=10, save_every=5), "dt must be positive"),
    (lambda: problems.get("kdv1d").reference({"x": jnp.linspace(0, 1, 16)}, jnp.array([0, .1])),
     "uniform periodic grid"),
    (lambda: problems.get("ks1d").reference({"x": problems.get("ks1d").grid(16).axes()[0]},
                                             jnp.array([0.0, 0.1, 0.5])), "uniformly spaced"),
])
def test_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()
