"""Lagrangian PINN: the inverse characteristic map to round-off, the chain-rule residual
against Eulerian derivatives, convergence on the advection failure case with Gauss–Newton,
and clear errors."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import pinns
from sciopt import problems

BURGERS = problems.get("burgers1d_periodic", nu=0.05)


def _burgers_model():
    # A small displacement scale keeps the random characteristic map monotone.
    return pinns.LagrangianPINN(2.0, lo=-1.0, scale=0.1, width=12, depth=2,
                                periodic_modes=2, key=jax.random.key(0))


def test_label_inverts_the_characteristic_map():
    model = _burgers_model()
    x = jnp.linspace(-1.0, 1.0, 9)
    for t in (0.0, 0.4, 1.0):
        t = jnp.full_like(x, t)
        xi = jax.vmap(model.label)(x, t)
        back = jax.vmap(model.position)(xi, t)
        wrapped = jnp.mod(back - x + 1.0, 2.0) - 1.0
        assert float(jnp.max(jnp.abs(wrapped))) < 1e-12


def test_state_residual_is_the_eulerian_heat_operator_along_characteristics():
    model = _burgers_model()
    groups = pinns.lpinn_loss(BURGERS, residual_points=4, initial_points=4).groups(
        model, None, jax.random.key(1))
    xi, t = jnp.asarray(0.3), jnp.asarray(0.6)
    got = groups["state"].fn(model, (xi, t))
    x = model.position(xi, t)
    u_xx = jax.grad(jax.grad(lambda s: model(jnp.stack([s, t]))))(x)
    u_t = jax.grad(lambda s: model.value(xi, s))(t)
    assert float(got) == pytest.approx(float(u_t - BURGERS.nu * u_xx), rel=1e-8)
    # Flow residual for Burgers: x_t - u, scaled by max |u0| = 1.
    x_t = jax.grad(lambda s: model.position(xi, s))(t)
    assert float(groups["flow"].fn(model, (xi, t))) == pytest.approx(
        float(x_t - model.value(xi, t)), rel=1e-10)


def test_lpinn_solves_advection_where_the_pinn_fails():
    p = problems.get("advection1d", c=20.0, initial="sin")
    model = pinns.lpinn_for(p, width=20, depth=2, periodic_modes=1, key=jax.random.key(0))
    options = dict(residual_points=256, initial_points=64, progress="off")
    result = pinns.train_pinn(p, model, steps=300, key=jax.random.key(1),
                              learning_rate=1e-2, **options)
    assert pinns.relative_error(p, result.model, resolution=32, num_times=5) > 0.1
    # Levenberg-Marquardt on the fixed collocation set: every step is accepted.
    result = pinns.train_pinn(p, result.model, steps=30, key=jax.random.key(2),
                              optimizer="gauss-newton", **options)
    assert int(result.opt_state.accepted) >= 25
    err = pinns.relative_error(p, result.model, resolution=32, num_times=5)
    assert err < 1e-2, err


def test_bad_input_is_rejected():
    with pytest.raises(ValueError, match="no Lagrangian \\(characteristic\\) form"):
        pinns.lpinn_for(problems.get("allen_cahn1d"), key=jax.random.key(0))
    with pytest.raises(ValueError, match="period and scale must be positive"):
        pinns.LagrangianPINN(0.0, key=jax.random.key(0))
    with pytest.raises(ValueError, match="takes inputs \\(x, t\\) of shape \\(2,\\)"):
        _burgers_model()(jnp.zeros(3))
    assert np.isfinite(float(pinns.lpinn_loss(BURGERS)(_burgers_model(), None,
                                                        jax.random.key(0))[0]))


def test_cli_solve_with_a_lagrangian_pinn_and_refinement(tmp_path):
    import json

    from sciopt.cli._app import main

    code = main(["solve", "advection1d", "--param", "c=10", "--method", "lpinn",
                 "--steps", "100", "--lr", "1e-2", "--width", "8", "--depth", "2",
                 "--points", "96", "--refine", "gauss-newton", "--refine-steps", "5",
                 "--resolution", "32", "--out", str(tmp_path)])
    assert code == 0
    record = json.loads((tmp_path / "advection1d_lpinn.json").read_text())
    assert record["refine"] == "gauss-newton" and record["refine_steps"] == 5
    assert np.isfinite(record["relative_l2_error"]) and record["status"] == "ok"
    assert (tmp_path / "advection1d_lpinn.png").read_bytes()[:4] == b"\x89PNG"
