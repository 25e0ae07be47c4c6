"""Mirror Sinkhorn (Ballu & Berthet 2023): the paper's rate T^(-1/2) for the objective gap
(slope of log gap against log T within 20 %) on linear OT against the linear program, on a
strictly convex objective (quadratically regularised OT, against our semi-dual solver) and
with noisy costs; the rounding onto the polytope; the iterates' marginals; clear errors."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.optimize import linprog

import flows

RNG = np.random.default_rng(5)
N, M = 12, 10
C = ((RNG.standard_normal((N, 2))[:, None] - RNG.standard_normal((M, 2))[None] - 1) ** 2).sum(-1)
C /= C.max()
A = RNG.uniform(0.5, 1.0, N)
A /= A.sum()
B = RNG.uniform(0.5, 1.0, M)
B /= B.sum()
PROBLEM = flows.LinearProblem(flows.Geometry(C), A, B)
HORIZONS = (500, 2000, 8000)
SOLVE = jax.jit(flows.solve_ot)


def _lp_value():
    eq = np.vstack([np.kron(np.eye(N), np.ones(M)), np.kron(np.ones(N), np.eye(M))])
    return linprog(C.ravel(), A_eq=eq, b_eq=np.concatenate([A, B]), bounds=(0, None),
                   method="highs").fun


def _slope(horizons, gaps):
    assert np.all(np.asarray(gaps) > 0), gaps
    return np.polyfit(np.log(horizons), np.log(gaps), 1)[0]


def _quadratic(plan, cost):
    return jnp.sum(plan * cost) + 0.05 * jnp.sum(plan**2)


def _noisy_cost(plan, cost, key):
    return cost + 0.5 * jax.random.normal(key, cost.shape)


@pytest.mark.parametrize("case", ["linear", "quadratic", "noisy costs"])
def test_rate_is_the_papers(case):
    if case == "quadratic":
        reference = SOLVE(PROBLEM, flows.SparsityConstrained(N, 0.1, threshold=1e-11))
        best, objective = float(reference.reg_ot_cost), _quadratic
        options = {"objective": _quadratic}
    else:
        best, objective = _lp_value(), flows.linear_objective
        options = ({"gradient": _noisy_cost, "key": jax.random.key(0)}
                   if case == "noisy costs" else {})
    gaps, errors = [], []
    for horizon in HORIZONS:
        out = SOLVE(PROBLEM, flows.MirrorSinkhorn(horizon, **options))
        rounded = out.rounded
        np.testing.assert_allclose(rounded.sum(1), A, atol=1e-14)
        np.testing.assert_allclose(rounded.sum(0), B, atol=1e-14)
        assert float(jnp.min(rounded)) >= 0
        gaps.append(float(objective(rounded, C)) - best)
        errors.append(float(out.marginal_error))
        assert float(out.errors[-1]) == pytest.approx(errors[-1], rel=1e-12)
    assert -0.6 <= _slope(HORIZONS, gaps) <= -0.4, gaps
    assert -0.6 <= _slope(HORIZONS, errors) <= -0.4, errors
    assert gaps[-1] < 0.02


def test_iterates_alternate_row_and_column_scalings():
    for horizon, exact, other in ((5, A, 1), (6, B, 0)):
        out = SOLVE(PROBLEM, flows.MirrorSinkhorn(horizon))
        np.testing.assert_allclose(out.last.sum(other), exact, atol=1e-14)
    np.testing.assert_allclose(out.marginals[0], out.plan.sum(1), atol=1e-15)
    assert np.all(np.isfinite(out.objectives)) and out.objectives.shape == (6,)
    np.testing.assert_allclose(float(out.transport_cost), float(jnp.sum(out.plan * C)))


def test_rounding_moves_the_plan_by_at_most_twice_its_error():
    plan = jnp.asarray(RNG.uniform(0, 1, (N, M)) / (N * M))
    rounded = flows.round_to_polytope(plan, A, B)
    error = float(jnp.sum(jnp.abs(plan.sum(1) - A)) + jnp.sum(jnp.abs(plan.sum(0) - B)))
    assert float(jnp.sum(jnp.abs(rounded - plan))) <= 2 * error + 1e-14
    np.testing.assert_allclose(rounded.sum(1), A, atol=1e-14)


@pytest.mark.parametrize("kwargs, match", [
    ({"iterations": 0}, "iterations must be a positive integer"),
    ({"iterations": 10.0}, "iterations must be an integer"),
    ({"iterations": 10, "step_size": -1.0}, "step_size must be finite and > 0"),
    ({"iterations": 10, "schedule": "cosine"}, "schedule must be one of"),
    ({"iterations": 10, "objective": 3.0}, "objective must be a function"),
    ({"iterations": 10, "gradient": _noisy_cost}, "needs key="),
])
def test_bad_settings_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        flows.MirrorSinkhorn(**kwargs)


def test_bad_problems_and_oracles_raise():
    with pytest.raises(ValueError, match="balanced problems"):
        flows.solve_ot(flows.LinearProblem(flows.Geometry(C), A, B, rho_b=1.0),
                       flows.MirrorSinkhorn(4))
    with pytest.raises(ValueError, match="gradient must return an array of the plan's shape"):
        flows.solve_ot(PROBLEM, flows.MirrorSinkhorn(
            4, gradient=lambda p, c, k: c[:, :2], key=jax.random.key(0)))
    with pytest.raises(ValueError, match="objective became NaN"):
        flows.solve_ot(PROBLEM, flows.MirrorSinkhorn(
            4, objective=lambda p, c: jnp.sum(p * c) + jnp.log(-1.0)))


def test_jit_and_vmap_over_the_step_size():
    def value(eta):
        return flows.solve_ot(PROBLEM, flows.MirrorSinkhorn(20, eta)).objectives[-1]

    etas = jnp.array([2.0, 5.0])
    batched = jax.jit(jax.vmap(value))(etas)
    for eta, got in zip(etas, batched, strict=True):
        np.testing.assert_allclose(got, value(float(eta)), rtol=1e-12)
