"""Time-marching PINN: per-window loss options, the piecewise model, convergence on a tiny
problem, and clear errors on bad input."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import pinns
from sciopt import problems

HEAT = problems.get("heat1d", modes=1)  # u = exp(-0.1 t) sin x on the periodic interval


def _small(key=0):
    return pinns.pinn_for(HEAT, width=12, depth=2, periodic_modes=1, key=jax.random.key(key))


def test_window_loss_samples_inside_the_window_and_uses_the_given_initial_data():
    model = _small()
    shifted = lambda x: model(jnp.append(x, 0.25))  # noqa: E731
    loss = pinns.pinn_loss(HEAT, residual_points=64, initial_points=32, time_window=(0.25, 0.5),
                           initial=shifted)
    groups = loss.groups(model, None, jax.random.key(3))
    t = groups["residual"].points[0][:, -1]
    assert float(t.min()) >= 0.25 and float(t.max()) <= 0.5
    # The model meets its own values at t0 exactly: the initial term vanishes.
    _, terms = loss(model, None, jax.random.key(3))
    assert float(terms["initial"]) < 1e-28


def test_marching_converges_and_evaluates_the_right_window():
    result = pinns.train_pinn_marching(HEAT, _small(), windows=2, steps=400,
                                       learning_rate=1e-2, refine_steps=15,
                                       key=jax.random.key(1), progress="off",
                                       residual_points=128, initial_points=64)
    m = result.model
    assert m.num_windows == 2 and m.edges == (0.0, 0.5, 1.0)
    for t, k in ((0.1, 0), (0.49, 0), (0.5, 1), (0.9, 1), (1.0, 1)):
        z = jnp.array([0.7, t])
        assert float(m(z)) == float(m.window(k)(z))
    # Continuity across the window edge to the fit's accuracy, and the error overall.
    z = jnp.array([1.3, 0.5])
    assert abs(float(m.window(0)(z)) - float(m.window(1)(z))) < 1e-4
    err = pinns.relative_error(HEAT, m, resolution=64)
    assert err < 5e-4, err  # Adam alone on the whole horizon: ~1e-2 (test_pinn.py)
    assert result.losses.size == 2 * (400 + 15) and result.window_losses.shape == (2,)


def test_marching_bad_input():
    with pytest.raises(ValueError, match="time-dependent"):
        pinns.train_pinn_marching(problems.get("poisson2d"), _small(), windows=2, steps=1,
                                  key=jax.random.key(0))
    with pytest.raises(ValueError, match="windows"):
        pinns.train_pinn_marching(HEAT, _small(), windows=0, steps=1, key=jax.random.key(0))
    with pytest.raises(ValueError, match="set by train_pinn_marching"):
        pinns.train_pinn_marching(HEAT, _small(), windows=2, steps=1, key=jax.random.key(0),
                                  time_window=(0.0, 0.5))
    with pytest.raises(ValueError, match="time_window"):
        pinns.pinn_loss(HEAT, time_window=(0.5, 0.2))
    with pytest.raises(ValueError, match="time-dependent"):
        pinns.pinn_loss(problems.get("poisson2d"), time_window=(0.0, 0.5))
    assert np.isfinite(pinns.relative_error(HEAT, _small(), resolution=16))


def test_cli_solve_with_time_marching(capsys, tmp_path):
    import json

    from sciopt.cli._app import main

    code = main(["solve", "heat1d", "--param", "modes=1", "--method", "pinn", "--windows", "2",
                 "--steps", "200", "--lr", "1e-2", "--width", "8", "--depth", "2",
                 "--points", "64",
                 "--resolution", "32", "--out", str(tmp_path)])
    assert code == 0
    record = json.loads((tmp_path / "heat1d_pinn.json").read_text())
    assert record["windows"] == 2 and record["relative_l2_error"] < 5e-2
    assert "time marching, 2 windows" in capsys.readouterr().out
    code = main(["solve", "advection1d", "--method", "lpinn", "--windows", "2", "--out",
                 str(tmp_path)])
    assert code == 2 and "--windows (time marching) applies to --method pinn" in (
        capsys.readouterr().err)
