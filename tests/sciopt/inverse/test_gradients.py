"""Gradients through the reference solvers against central finite differences (float64),
and the optimisation drivers on problems with known minimisers."""

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from sciopt import inverse, problems
from sciopt.solvers import solve_burgers_fv, solve_elliptic_2d


def test_etdrk4_gradient_matches_finite_differences():
    # Checkpointed reverse mode through 40 ETDRK4 steps of viscous Burgers.
    p = problems.get("burgers1d_periodic", nu=0.05)
    x = np.asarray(p.grid(32).axes()[0])
    weight = jnp.asarray(np.cos(np.pi * x) + 0.3)

    def functional(u0):
        return jnp.sum(weight * p.solve(u0, np.array([0.0, 0.2]), dt=5e-3)[-1] ** 2)

    u0 = jnp.asarray(-np.sin(np.pi * x) + 0.2 * np.cos(3 * np.pi * x))
    check = inverse.finite_difference_check(functional, u0, step=1e-5)
    assert check["relative_error"] <= 1e-6, check


def test_finite_volume_gradient_matches_finite_differences():
    x = (np.arange(64) + 0.5) / 64

    def functional(u0):
        u = solve_burgers_fv(u0, length=1.0, nu=0.01, t_final=0.1, max_speed=1.5)
        return jnp.sum(jnp.asarray(np.cos(2 * np.pi * x)) * u[-1] ** 2)

    u0 = jnp.asarray(np.sin(2 * np.pi * x) + 0.3 * np.cos(6 * np.pi * x))
    check = inverse.finite_difference_check(functional, u0, step=1e-6)
    assert check["relative_error"] <= 1e-6, check
    with pytest.raises(ValueError, match="needs max_speed"):
        jax.grad(lambda u: jnp.sum(solve_burgers_fv(u, length=1.0, nu=0.01, t_final=0.1)))(u0)


def test_gradients_in_source_and_boundary_data_and_through_gmres():
    n = 11
    xs = np.linspace(0, 1, n)
    xx, yy = np.meshgrid(xs, xs, indexing="ij")
    w = jnp.asarray(np.sin(3 * xx) * np.cos(2 * yy))
    f0 = jnp.asarray(np.exp(xx) * yy)
    g0 = jnp.asarray(np.cos(xx + 2 * yy))
    for method, k2 in (("cg", 0.0), ("gmres", 30.0), ("lu", 30.0)):  # 30 > first eigenvalue
        def by_source(f, method=method, k2=k2):
            return jnp.sum(w * solve_elliptic_2d(f, lengths=(1.0, 1.0), boundary=g0, k2=k2,
                                                 method=method, rtol=1e-13))

        def by_boundary(g, method=method, k2=k2):
            return jnp.sum(w * solve_elliptic_2d(f0, lengths=(1.0, 1.0), boundary=g, k2=k2,
                                                 method=method, rtol=1e-13))

        # One data field per solver keeps the compile count down; both fields are covered.
        fn, arg = (by_source, f0) if method == "cg" else (by_boundary, g0)
        check = inverse.finite_difference_check(fn, arg, step=1e-4)
        assert check["relative_error"] <= 1e-6, (method, check)


@pytest.mark.parametrize("method", ["cg", "lu"])
def test_elliptic_adjoint_gradient_matches_finite_differences(method):
    # Implicit differentiation through lineax (CG or LU) w.r.t. the log-coefficient.
    n = 13
    xs = np.linspace(0, 1, n)
    xx, yy = np.meshgrid(xs, xs, indexing="ij")
    target = jnp.asarray(np.sin(np.pi * xx) * yy)

    def solve(log_a):
        return solve_elliptic_2d(jnp.ones((n, n)), lengths=(1.0, 1.0),
                                 coefficient=jnp.exp(log_a), method=method, rtol=1e-13)

    log_a = jnp.asarray(2 * np.cos(2 * np.pi * xx) * np.sin(np.pi * yy))
    for functional in (lambda m: jnp.sum(solve(m) * target),
                       # A point value: the adjoint's right-hand side is one nonzero entry
                       # (lineax's elementwise stopping rule once stopped CG at once here).
                       lambda m: solve(m)[4, 7]):
        check = inverse.finite_difference_check(functional, log_a, step=1e-4)
        assert check["relative_error"] <= 1e-6, check


def test_drivers_find_known_minimisers():
    def rosenbrock(p, _):
        return (1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2

    r = inverse.minimise(rosenbrock, jnp.array([-1.2, 1.0]), progress="off", max_steps=200)
    assert r.converged is True and np.allclose(r.params, 1.0, atol=1e-8)
    h = r.history
    assert len(h["objective"]) == len(h["grad_norm"]) >= 10
    assert h["objective"][0] == pytest.approx(24.2, rel=1e-14)
    assert h["objective"][-1] < 1e-16 and h["grad_norm"][-1] < 1e-6

    r = inverse.least_squares(lambda p, _: jnp.array([1 - p[0], 10 * (p[1] - p[0] ** 2)]),
                              jnp.array([-1.2, 1.0]), progress="off")
    assert r.converged and np.allclose(r.params, 1.0, atol=1e-10)
    # Reparametrisations: the constrained optimum sits where the bound is hit.
    r = inverse.minimise(lambda p, _: jnp.sum((p - jnp.array([3.0, -1.0])) ** 2),
                         jnp.array([1.0, 2.0]), reparam=inverse.Reparam.positive(),
                         progress="off", max_steps=300)
    assert r.params[0] == pytest.approx(3.0, rel=1e-6) and 0 < r.params[1] < 1e-3
    # Too few steps: reported, not hidden.
    r = inverse.minimise(rosenbrock, jnp.array([-1.2, 1.0]), progress="off", max_steps=3)
    assert not r.converged and "max_steps" in r.message


def test_bad_input_is_rejected():
    axes = (np.linspace(0, 1, 5), np.linspace(0, 1, 5))
    with pytest.raises(ValueError, match="values must be \\[m\\] with m = 3"):
        inverse.PointObservations(np.full((3, 2), 0.5), np.zeros(4), axes)
    with pytest.raises(ValueError, match="NaN or Inf"):
        inverse.PointObservations(np.full((2, 2), 0.5), np.array([1.0, np.nan]), axes)
    with pytest.raises(ValueError, match="outside the grid"):
        inverse.PointObservations(np.array([[0.5, 1.5]]), np.zeros(1), axes)
    obs = inverse.PointObservations(np.array([[0.3, 0.6]]), np.zeros(1), axes)
    with pytest.raises(ValueError, match="built for a grid of \\(5, 5\\)"):
        obs(jnp.zeros((6, 5)))
    with pytest.raises(ValueError, match="weight must be a finite, non-negative"):
        inverse.tikhonov(jnp.zeros(3), -1.0)
    with pytest.raises(ValueError, match="weight must be a finite, non-negative"):
        inverse.total_variation(jnp.zeros((3, 3)), float("nan"))
    with pytest.raises(ValueError, match="init contains NaN"):
        inverse.minimise(lambda p, _: jnp.sum(p**2), jnp.array([jnp.nan]), progress="off")
    with pytest.raises(ValueError, match="must return a scalar"):
        inverse.minimise(lambda p, _: p**2, jnp.ones(2), progress="off")


def test_observation_operator_and_regularisers_are_exact_on_simple_fields():
    xs, ys = np.linspace(0, 2, 9), np.linspace(-1, 1, 5)
    u = jnp.asarray(2 * xs[:, None] - 3 * ys[None, :] + 1)  # bilinear: interpolated exactly
    pts = np.array([[0.1, -0.95], [1.37, 0.2], [2.0, 1.0]])
    obs = inverse.PointObservations(pts, 2 * pts[:, 0] - 3 * pts[:, 1] + 1, (xs, ys))
    np.testing.assert_allclose(obs(u), obs.values, atol=1e-14)
    assert float(obs.misfit(u)) < 1e-24
    h = (xs[1] - xs[0], ys[1] - ys[0])
    # |grad u|^2 = 13 on every cell: order-1 Tikhonov = 0.5 * w * 13 * area of the cells.
    cells = (len(xs) - 1) * (len(ys) - 1)
    got = float(inverse.tikhonov(u, 2.0, order=1, spacing=h))
    rows = (len(xs) - 1) * len(ys) * 4 + len(xs) * (len(ys) - 1) * 9
    assert got == pytest.approx(0.5 * 2.0 * h[0] * h[1] * rows, rel=1e-12)
    tv = float(inverse.total_variation(u, 1.0, spacing=h, eps=1e-12))
    assert tv == pytest.approx(np.sqrt(13) * cells * h[0] * h[1], rel=1e-10)


def test_darcy_inverse_recovers_the_permeability_and_cli(tmp_path, capsys):
    r = inverse.darcy_inverse(resolution=17, observations=40, max_steps=60, progress="off")
    # The zero initial guess has relative error 1; the recovery fits the data to the noise.
    assert r.relative_error < 0.6 and r.data_misfit < 2.0
    h = r.optimisation.history["objective"]
    assert h[0] == pytest.approx(1.0) and h[-1] < 0.2 and all(np.diff(h) <= 1e-12)
    from sciopt.cli._app import main

    code = main(["solve", "heat1d", "--method", "inverse", "--out", str(tmp_path)])
    assert code == 2 and "available: darcy2d, advection1d, mbb_beam" in capsys.readouterr().err
    assert main(["solve", "advection1d", "--method", "inverse", "--resolution", "64",
                 "--out", str(tmp_path)]) == 0
    rec = json.loads((tmp_path / "advection1d_inverse.json").read_text())
    assert rec["relative_l2_error_initial_condition"] < 0.05


def test_minimisers_and_simp_resume_bit_for_bit(tmp_path):
    """The inverse drivers and SIMP's OC loop run on `sciopt.train.iterate`: with
    `checkpoint_dir`, a run stopped part-way (its newest checkpoint removed) resumes to
    the uninterrupted result exactly."""
    def rosen(p, _):
        return (1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2

    def run_min(**kw):
        return inverse.minimise(rosen, jnp.array([-1.2, 1.0]), progress="off",
                                max_steps=30, **kw)

    def run_simp(**kw):
        return inverse.simp_mbb(nelx=12, nely=4, max_iterations=12, chunk_size=4,
                                progress="off", **kw)

    for run, name in ((run_min, "min"), (run_simp, "simp")):
        plain = run()
        ckpt = tmp_path / name
        first = run(checkpoint_dir=ckpt)
        newest = sorted(ckpt.glob("step_*.ckpt"))[-1]
        newest.unlink()
        again = run(checkpoint_dir=ckpt)
        finished = run(checkpoint_dir=ckpt)  # resumed at its end: takes no further step
        for out in (first, again, finished):
            if name == "min":
                np.testing.assert_array_equal(out.params, plain.params)
                assert out.value == plain.value == plain.history["objective"][-1]
                assert out.steps == plain.steps
            else:
                np.testing.assert_array_equal(out.density, plain.density)
                assert out.iterations == plain.iterations
        assert len((ckpt / "metrics.jsonl").read_text().splitlines()) == (
            plain.steps if name == "min" else plain.iterations)


def test_reparam_bounds_are_array_leaves():
    """`Reparam.bounded`'s bounds are checked (finite, lo < hi) and traceable: one compiled
    map serves every pair of bounds, and the gradient with respect to them is exact."""
    for lo, hi in ((1.0, 0.0), (0.0, float("inf")), (float("nan"), 1.0)):
        with pytest.raises(ValueError, match="lo|hi"):
            inverse.Reparam.bounded(lo, hi)

    def forward(lo, hi):
        return inverse.Reparam.bounded(lo, hi).forward(jnp.asarray(0.0))

    f = jax.jit(forward)
    assert float(f(0.0, 2.0)) == 1.0 and float(f(-4.0, 0.0)) == -2.0
    np.testing.assert_allclose(jax.grad(forward, argnums=(0, 1))(0.0, 2.0), (0.5, 0.5))
