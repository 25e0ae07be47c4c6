"""The problem registry and the periodic heat problem."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from sciopt import problems


def test_registry_lists_and_describes():
    assert "heat1d" in problems.names()
    d = problems.describe("heat1d")
    assert [p["name"] for p in d["parameters"]] == ["nu", "modes", "t_final"]
    p = problems.get("heat1d", nu="0.25", modes=3)  # strings are parsed, as from a CLI
    assert p.parameters == {"nu": 0.25, "modes": 3, "t_final": 1.0}


@pytest.mark.parametrize(
    "name, params, match",
    [
        ("heat", {}, "unknown problem 'heat'; known problems: .*heat1d"),
        ("heat1d", {"viscosity": 1.0}, "unknown parameter.*'viscosity'.*allowed: nu, modes"),
        ("heat1d", {"nu": -1.0}, "'nu' of problem 'heat1d' must be positive"),
        ("heat1d", {"nu": 0.0}, "must be positive"),
        ("heat1d", {"nu": "abc"}, "must be of type float; got 'abc'"),
        ("heat1d", {"nu": float("nan")}, "must be finite"),
        ("heat1d", {"modes": 2.5}, "'modes' .* must be of type int"),
        ("heat1d", {"modes": 0}, "at least 1"),
    ],
)
def test_bad_problem_input(name, params, match):
    with pytest.raises(ValueError, match=match):
        problems.get(name, **params)


def test_heat_exact_solution_satisfies_the_equation():
    p = problems.get("heat1d", nu=0.3, modes=5)
    x = jnp.linspace(0.1, 6.0, 7)
    t = jnp.linspace(0.0, 1.0, 7)
    r = jax.vmap(lambda a, b: p.residual(p.solution, a, b))(x, t)
    assert float(jnp.max(jnp.abs(r))) < 1e-13
    grid = {"x": jnp.linspace(0, 2 * jnp.pi, 32, endpoint=False)}
    ref = p.reference(grid, jnp.array([0.0, 0.5]))
    assert ref.shape == (2, 32, 1)
    np.testing.assert_allclose(ref[0, :, 0], p.initial_condition(grid["x"]), rtol=1e-15)
    # Mode k decays as exp(-nu k^2 t): check the Fourier coefficients at t = 0.5.
    coef = -np.fft.rfft(np.asarray(ref[1, :, 0])).imag / 16
    k = np.arange(1, 6)
    np.testing.assert_allclose(coef[1:6], np.exp(-0.3 * k**2 * 0.5) / k, rtol=1e-12)


@pytest.mark.parametrize("name, params", [("advection1d", {"c": 50.0}), ("kdv1d", {})])
def test_residual_vanishes_on_exact_solutions(name, params):
    p = problems.get(name, **params)
    xs = jnp.linspace(-3.0, 3.0, 7)
    ts = jnp.linspace(0.0, 0.4, 7)
    r = jax.vmap(lambda x, t: p.residual(p.solution, x, t))(xs, ts)
    scale = jax.vmap(lambda x, t: jax.grad(p.solution, argnums=1)(x, t))(xs, ts)
    assert float(jnp.max(jnp.abs(r))) <= 1e-12 * max(1.0, float(jnp.max(jnp.abs(scale))))


def test_every_problem_describes_and_builds():
    for name in problems.names():
        d = problems.describe(name)
        p = problems.get(name)
        assert d["summary"] and p.parameters.keys() == {q["name"] for q in d["parameters"]}
        assert p.domain.dim >= 1


@pytest.mark.parametrize("name", ["heat2d", "navier_stokes2d"])
def test_2d_residual_vanishes_on_exact_solutions(name):
    p = problems.get(name)
    if name == "navier_stokes2d":
        # Taylor-Green: the stream function psi with -Delta psi = w.
        def u(x, y, t):
            return p.solution(x, y, t) / 2
    else:
        u = p.solution
    pts = jnp.linspace(0.1, 3.0, 5)
    r = jax.vmap(lambda x, y, t: p.residual(u, x, y, t))(pts, pts[::-1], pts / 10)
    assert float(jnp.max(jnp.abs(r))) <= 1e-12
    # A wrong function leaves a residual: the check can fail.
    bad = jax.vmap(lambda x, y, t: p.residual(lambda a, b, s: u(a, b, 2 * s), x, y, t))(
        pts, pts[::-1], pts / 10)
    assert float(jnp.max(jnp.abs(bad))) > 1e-4


@pytest.mark.parametrize("name", ["allen_cahn_torus2d", "burgers2d", "allen_cahn2d"])
def test_2d_residual_agrees_with_the_spectral_right_hand_side(name):
    """`residual` (autodiff) and `symbol` + `nonlinear` (what the reference integrates)
    describe the same equation: for a time-independent u, -residual = L u + N(u)."""
    p = problems.get(name)
    grid = p.grid(32)
    xx, yy = grid.points()
    v = grid.to_spectral(p.initial_condition(xx, yy))
    spectral = grid.to_physical(p.symbol(*grid.wavenumbers()) * v + p.nonlinear(grid, v))
    frozen = lambda x, y, t: p.initial_condition(x, y)  # noqa: E731
    pts = [(3, 5), (17, 2), (30, 29)]
    got = jnp.stack([-p.residual(frozen, xx[i, j], yy[i, j], 0.0) for i, j in pts])
    want = jnp.stack([spectral[i, j] for i, j in pts])
    np.testing.assert_allclose(got, want, atol=1e-10)
    assert float(jnp.max(jnp.abs(want))) > 1e-2


def test_a_problem_class_built_directly_checks_its_fields_like_get():
    """`Heat1DPeriodic(nu=-1, ...)` is refused with `get`'s message; a traced field (the
    problem built inside a caller's vmap) is left to the caller."""
    with pytest.raises(ValueError, match="parameter 'nu' of problem 'heat1d' must be positive"):
        problems.Heat1DPeriodic(nu=-1.0, modes=3, t_final=1.0)
    with pytest.raises(ValueError, match="parameter 'initial' of problem 'advection1d'"):
        problems.Advection1D(t_final=1.0, c=1.0, initial="square")
    with pytest.raises(ValueError, match="parameter 'a' of problem 'poisson2d'"):
        problems.Poisson2D(a=0, b=1)
    ok = problems.Heat1DPeriodic(nu=jnp.asarray(0.1), modes=3, t_final=1.0)
    assert ok.parameters == problems.get("heat1d", nu=0.1, modes=3, t_final=1.0).parameters
    nus = jax.vmap(lambda nu: problems.Heat1DPeriodic(nu=nu, modes=3, t_final=1.0).nu)(
        jnp.array([0.1, 0.2]))
    np.testing.assert_allclose(nus, [0.1, 0.2])
