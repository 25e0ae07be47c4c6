"""TENG: the initial fit to round-off level, one Euler step against the exact heat
semigroup to the scheme's local error, Heun's second order when dt halves, checkpoints.

The small case is the heat equation (nu = 1) with `u0 = sin x + cos(2 y) / 2`, whose
solution `exp(-t) sin x + exp(-4 t) cos(2 y) / 2` a one-hidden-layer `PeriodicMLP` (a sum of
functions of x and of y) represents: the least-squares fits can reach round-off, and what
remains is the time integrator's error, known in closed form.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import pinns
from sciopt import problems

HEAT = problems.get("heat2d", nu=1.0, modes=1)
RATES = (1.0, 4.0)   # -nu |k|^2 of the two modes


def u0(x, y):
    return jnp.sin(x) + 0.5 * jnp.cos(2 * y)


def field(x, y, factors):
    return factors[0] * jnp.sin(x) + 0.5 * factors[1] * jnp.cos(2 * y)


def _grid():
    x = jnp.linspace(0.0, 2 * np.pi, 40, endpoint=False) + 0.05
    xx, yy = jnp.meshgrid(x, x, indexing="ij")
    return xx.ravel(), yy.ravel()


def _error(model, factors):
    xx, yy = _grid()
    pred = jax.vmap(model)(jnp.stack([xx, yy], 1))
    want = field(xx, yy, factors)
    return float(jnp.linalg.norm(pred - want) / jnp.linalg.norm(want))


def _teng(dt, scheme, grid=24, **kw):
    model = pinns.PeriodicMLP(2, width=24, depth=2, key=jax.random.key(0))
    return pinns.TENG(model, HEAT, dt=dt, scheme=scheme, grid=grid, subset=None,
                      first_subset=None, rcond=1e-10, initial=u0, init_steps=400, init_grid=32,
                      **kw)


@pytest.fixture(scope="module")
def initial():
    model, misfit = _teng(0.05, "euler").init()
    return model, float(misfit)


def test_initial_fit_reaches_round_off(initial):
    model, misfit = initial
    assert misfit < 1e-8
    assert _error(model, (1.0, 1.0)) < 1e-8


def test_initial_fit_of_a_product_is_accurate():
    """sin x sin y is not a sum: a deeper network, variable projection, 1e-6."""
    model = pinns.teng_model(HEAT, width=20, depth=4, key=jax.random.key(0))
    fitted, misfit = pinns.TENG(model, HEAT, dt=0.1, init_steps=60, init_grid=24).init()
    x = jnp.linspace(0.1, 2 * np.pi, 32)
    pts = jnp.stack([jnp.repeat(x, 32), jnp.tile(x, 32)], 1)
    want = jnp.sin(pts[:, 0]) * jnp.sin(pts[:, 1])
    err = jnp.linalg.norm(jax.vmap(fitted)(pts) - want) / jnp.linalg.norm(want)
    assert float(misfit) < 1e-5 and float(err) < 1e-5


def test_one_euler_step_matches_the_semigroup_to_the_local_error(initial):
    model, _ = initial
    dt = 0.05
    new, misfit = _teng(dt, "euler", inner_steps=3).step(model, jax.random.key(2))
    assert float(misfit) < 1e-8
    # Euler in function space multiplies each mode by 1 - dt * rate ...
    euler = tuple(1 - dt * r for r in RATES)
    assert _error(new, euler) < 1e-7
    # ... whose distance to the exact semigroup exp(-dt * rate) is Euler's local error.
    exact = tuple(np.exp(-dt * r) for r in RATES)
    xx, yy = _grid()
    local = float(jnp.linalg.norm(field(xx, yy, euler) - field(xx, yy, exact))
                  / jnp.linalg.norm(field(xx, yy, exact)))
    assert local > 1e-3
    assert _error(new, exact) == pytest.approx(local, rel=1e-4)


def test_a_step_runs_under_the_callers_jit(initial):
    model, _ = initial
    dt = 0.05
    teng = _teng(dt, "heun", inner_steps=3, grid=32)
    key = jax.random.key(5)
    eager, _ = teng.step(model, key)
    jitted, res = eqx.filter_jit(teng.step)(model, key)
    # Heun in function space multiplies each mode by 1 - dt r + (dt r)^2 / 2; the jitted
    # step reaches it as closely as the eager one (the least-squares solves are
    # ill-conditioned, so the two differ in the 8th digit, not more)
    heun = tuple(1 - dt * r + (dt * r) ** 2 / 2 for r in RATES)
    assert float(res) < 1e-8
    assert _error(jitted, heun) < 1e-6 and _error(eager, heun) < 1e-6
    pts = jnp.stack(_grid(), 1)
    np.testing.assert_allclose(jax.vmap(jitted)(pts), jax.vmap(eager)(pts), atol=1e-6)


def test_heun_error_falls_four_times_when_dt_halves(initial):
    model, _ = initial
    errors = []
    for dt in (0.02, 0.01):
        teng = _teng(dt, "heun", inner_steps=3, grid=32)
        steps = round(0.2 / dt)
        result = teng.run(model, steps, jax.random.key(3), progress="off")
        assert result.residuals.shape == (steps,) and float(result.residuals.max()) < 1e-8
        exact = tuple(np.exp(-0.2 * r) for r in RATES)
        heun = tuple((1 - dt * r + (dt * r) ** 2 / 2) ** steps for r in RATES)
        # TENG-Heun is Heun's method in function space: its error is Heun's error.
        errors.append(_error(result.model, exact))
        xx, yy = _grid()
        want = float(jnp.linalg.norm(field(xx, yy, heun) - field(xx, yy, exact))
                     / jnp.linalg.norm(field(xx, yy, exact)))
        assert errors[-1] == pytest.approx(want, rel=1e-3)
    assert 3.5 < errors[0] / errors[1] < 4.5, errors


def test_run_checkpoints_and_resumes_to_the_same_state(initial, tmp_path):
    model, _ = initial
    teng = _teng(0.05, "euler", inner_steps=2)
    whole = teng.run(model, 4, jax.random.key(5), progress="off")
    teng.run(model, 2, jax.random.key(5), checkpoint_dir=tmp_path, progress="off")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["step_0000000002.ckpt"]
    seen = []
    resumed = teng.run(model, 4, jax.random.key(5), checkpoint_dir=tmp_path, record_every=1,
                       observe=lambda m, t: seen.append(t) or t, progress="off")
    assert seen == pytest.approx([0.15, 0.2]) and resumed.t == pytest.approx(0.2)
    for a, b in zip(jax.tree.leaves(whole.model), jax.tree.leaves(resumed.model), strict=True):
        np.testing.assert_array_equal(a, b)


def test_bad_input_is_rejected():
    model = pinns.PeriodicMLP(2, width=8, depth=2, key=jax.random.key(0))
    with pytest.raises(ValueError, match="TENG needs a time-dependent problem on a periodic"):
        pinns.TENG(model, problems.get("poisson2d"), dt=0.1)
    with pytest.raises(ValueError, match="scheme must be one of"):
        pinns.TENG(model, HEAT, dt=0.1, scheme="rk4")
    with pytest.raises(ValueError, match="dt"):
        pinns.TENG(model, HEAT, dt=-1.0)
    with pytest.raises(ValueError, match="solver must be one of"):
        pinns.TENG(model, HEAT, dt=0.1, solver="lu")
    with pytest.raises(ValueError, match="rcond"):
        pinns.TENG(model, HEAT, dt=0.1, rcond=2.0)
    with pytest.raises(ValueError, match="backtrack"):
        pinns.TENG(model, HEAT, dt=0.1, backtrack=-1)
    with pytest.raises(ValueError, match="depth >= 2"):
        pinns.PeriodicMLP(2, width=8, depth=1, key=jax.random.key(0))
