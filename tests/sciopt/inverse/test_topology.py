"""SIMP pieces: the Q4 element, compliance sensitivities (autodiff through the lineax solve)
against the classical adjoint formula and finite differences, the filter, and a small run."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from sciopt import inverse, solvers


def test_q4_element_is_symmetric_with_three_rigid_body_modes():
    ke = solvers.q4_stiffness(0.3)
    assert np.allclose(ke, ke.T, atol=1e-15)
    eig = np.linalg.eigvalsh(ke)
    assert np.sum(np.abs(eig) < 1e-12) == 3 and eig.min() > -1e-12
    assert ke[0, 0] == pytest.approx((12 - 4 * 0.3) / (24 * (1 - 0.3**2)), rel=1e-14)
    # Translations and the infinitesimal rotation (u, v) = (-y, x) carry no energy.
    rot = np.array([[-y, x] for x, y in ((0, 0), (1, 0), (1, 1), (0, 1))], float).ravel()
    assert np.abs(ke @ rot).max() < 1e-14


def test_compliance_sensitivity_matches_the_adjoint_formula_and_finite_differences():
    beam = solvers.MBBBeam(8, 4)
    x = jnp.asarray(np.random.default_rng(0).uniform(0.3, 1.0, (8, 4)))
    c, dc = jax.value_and_grad(inverse.compliance)(x, beam)
    # Self-adjoint compliance: dc/dx_e = -p x_e^(p-1) (1 - Emin) u_e^T KE u_e.
    ke = solvers.q4_stiffness(0.3)
    e = 1e-9 + x.reshape(-1) ** 3 * (1 - 1e-9)
    k = np.zeros((beam.num_dofs,) * 2)
    for i, dofs in enumerate(np.asarray(beam.edofs)):
        k[np.ix_(dofs, dofs)] += float(e[i]) * ke
    free = np.asarray(beam.free)
    u = np.zeros(beam.num_dofs)
    u[free] = np.linalg.solve(k[np.ix_(free, free)], np.asarray(beam.load)[free])
    ue = u[np.asarray(beam.edofs)]
    classic = -3 * np.asarray(x).reshape(-1) ** 2 * (1 - 1e-9) * np.einsum(
        "ei,ij,ej->e", ue, ke, ue)
    assert float(c) == pytest.approx(float(np.asarray(beam.load) @ u), rel=1e-12)
    np.testing.assert_allclose(np.asarray(dc).reshape(-1), classic, rtol=1e-9)
    check = inverse.finite_difference_check(lambda v: inverse.compliance(v, beam), x,
                                            step=1e-5)
    assert check["relative_error"] <= 1e-6


def test_density_filter_preserves_constants_and_small_run_meets_the_volume():
    x = jnp.full((9, 5), 0.7)
    np.testing.assert_allclose(inverse.density_filter(x, 1.5), 0.7, rtol=1e-14)
    r = inverse.simp_mbb(nelx=12, nely=4, max_iterations=30, progress="off")
    assert abs(r.volume - 0.5) < 2e-3
    assert r.history["compliance"][-1] < 0.5 * r.history["compliance"][0]
    with pytest.raises(ValueError, match="volfrac must be in"):
        inverse.simp_mbb(volfrac=1.5, progress="off")


def test_mbb_problem_reference_and_cli(tmp_path):
    from sciopt import problems
    from sciopt.cli._app import main

    p = problems.get("mbb_beam", nelx=8, nely=4)
    d = np.asarray(p.reference())[0]
    beam = solvers.MBBBeam(8, 4)
    # The work of the unit load equals the compliance of the solid design.
    assert -d[0, 0, 1] == pytest.approx(float(inverse.compliance(jnp.ones((8, 4)), beam)),
                                        rel=1e-12)
    assert d[0, :, 0].max() < 1e-14 and abs(d[-1, -1, 1]) < 1e-14  # the supports hold
    assert main(["solve", "mbb_beam", "--param", "nelx=8", "--param", "nely=4", "--method",
                 "inverse", "--max-steps", "5", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "mbb_beam_inverse.png").exists()
