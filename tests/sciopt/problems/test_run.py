"""`run_reference` on every kind of problem, and `sciopt solve` beyond 1D."""

import json

import pytest

from sciopt import problems
from sciopt.cli._app import main


@pytest.mark.parametrize("name, params, n, tol", [
    ("heat2d", {"boundary": "dirichlet"}, 8, 1e-12),
    ("heat2d", {}, 16, 1e-12),
    ("navier_stokes2d", {"nu": 0.1, "t_final": 0.5}, 16, 1e-12),
    ("wave1d", {}, 32, 1e-12),
    ("advection1d", {"c": 50.0, "initial": "gaussian"}, 256, 1e-10),
    ("poisson2d", {}, 17, 1e-2),  # second-order finite differences, h = 1/16
])
def test_reference_against_analytic(name, params, n, tol):
    run = problems.run_reference(problems.get(name, **params), n, num_times=3)
    assert run.exact is not None and run.u.shape == run.exact.shape
    assert run.relative_l2_error <= tol


def test_cli_solve_2d_and_high_dimensional(capsys, tmp_path):
    assert main(["solve", "darcy2d", "--resolution", "17", "--out", str(tmp_path)]) == 0
    record = json.loads((tmp_path / "darcy2d_reference.json").read_text())
    assert record["kind"] == "steady_2d" and (tmp_path / "darcy2d_reference.png").exists()
    assert main(["solve", "poisson_highdim", "--param", "dim=50", "--resolution", "9",
                 "--out", str(tmp_path)]) == 0
    record = json.loads((tmp_path / "poisson_highdim_reference.json").read_text())
    assert record["laplacian_check"] <= 1e-12
    assert main(["solve", "allen_cahn2d", "--resolution", "8", "--times", "2", "--param",
                 "t_final=0.1", "--out", str(tmp_path)]) == 0
    assert "no analytic solution" in capsys.readouterr().out
    code = main(["solve", "navier_stokes2d", "--resolution", "15", "--out", str(tmp_path)])
    assert code == 2 and "even" in capsys.readouterr().err
