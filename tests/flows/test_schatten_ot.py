"""Schatten-p regularised OT (Maunu): the norm against NumPy's, lam = 0 against the linear
program, exact recovery of a low-rank displacement that is already optimal, each p's
solution optimal for its own objective among the others' (and the linear program's),
feasibility of every iterate, and clear errors on bad input."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.optimize import linprog

import flows

RNG = np.random.default_rng(11)
SOLVE = jax.jit(flows.solve_ot)


def _lp(cost, a, b):
    n, m = cost.shape
    eq = np.vstack([np.kron(np.eye(n), np.ones(m)), np.kron(np.ones(n), np.eye(m))])
    res = linprog(cost.ravel(), A_eq=eq, b_eq=np.concatenate([a, b]), bounds=(0, None),
                  method="highs")
    return res.fun, res.x.reshape(n, m)


def _spiked(n=20, d=4, noise=0.0, paired=True, seed=0):
    """Source points and targets moved by x -> x + B x, B symmetric PSD of rank 2 (an OT
    map), optionally with noise and independent samples."""
    rng = np.random.default_rng(seed)
    u = np.linalg.qr(rng.standard_normal((d, 2)))[0]
    move = u @ np.diag([1.5, 1.0]) @ u.T
    x = rng.standard_normal((n, d))
    base = x if paired else rng.standard_normal((n, d))
    y = base + base @ move + noise * rng.standard_normal((n, d))
    return x, y[rng.permutation(n)], x @ move


@pytest.mark.parametrize("p, order", [(1, "nuc"), (2, "fro"), (float("inf"), 2)])
def test_norm_matches_numpy(p, order):
    m = RNG.standard_normal((5, 3))
    np.testing.assert_allclose(flows.schatten_norm(m, p), np.linalg.norm(m, order),
                               rtol=1e-12)
    sigma = np.linalg.svd(m, compute_uv=False)
    np.testing.assert_allclose(flows.schatten_norm(m, 3.0), np.sum(sigma**3) ** (1 / 3),
                               rtol=1e-12)
    assert float(flows.schatten_norm(np.zeros((2, 2)), 1.5)) == 0.0


def test_lam_zero_is_linear_ot():
    x, y, _ = _spiked(noise=0.3, paired=False)
    problem = flows.LinearProblem(flows.PointCloud(x, y))
    out = SOLVE(problem, flows.SchattenOT(1, 0.0))
    best, _ = _lp(np.asarray(problem.geom.cost_matrix()), np.asarray(problem.a),
                  np.asarray(problem.b))
    assert float(out.transport_cost) == pytest.approx(best, rel=5e-3)
    assert float(jnp.max(out.errors)) <= 1e-4 and float(out.marginal_error) <= 1e-4


def test_an_optimal_low_rank_displacement_is_recovered():
    x, y, truth = _spiked()
    problem = flows.LinearProblem(flows.PointCloud(x, y))
    out = SOLVE(problem, flows.SchattenOT(1, 0.01, target="displacement"))
    sigma, want = np.asarray(out.singular_values), np.linalg.svd(truth, compute_uv=False)
    np.testing.assert_allclose(sigma[:2], want[:2], rtol=2e-2)
    assert np.all(sigma[2:] <= 2e-2 * sigma[0])
    np.testing.assert_allclose(out.image, truth, atol=0.1)


def test_each_p_is_optimal_for_its_own_objective():
    x, y, _ = _spiked(noise=0.3, paired=False, seed=1)
    problem = flows.LinearProblem(flows.PointCloud(x, y))
    cost = np.asarray(problem.geom.cost_matrix())
    _, lp_plan = _lp(cost, np.asarray(problem.a), np.asarray(problem.b))
    lam, ps = 0.1, (1.0, 2.0, float("inf"))
    solvers = {p: flows.SchattenOT(p, lam, iterations=400) for p in ps}
    plans = {p: SOLVE(problem, s).plan for p, s in solvers.items()}

    def objective(p, plan):
        image = solvers[p].image(jnp.asarray(plan), problem)
        return float(jnp.sum(plan * cost) + lam * flows.schatten_norm(image, p))

    for p in ps:
        own = objective(p, plans[p])
        for other in [*plans.values(), lp_plan]:
            assert own <= objective(p, other) + 1e-3 * abs(own)
    # the spectral norm evens out the displacement's top directions, the nuclear norm
    # trims its small ones
    sv = {p: np.linalg.svd(np.asarray(solvers[p].image(plans[p], problem)),
                           compute_uv=False) for p in ps}
    assert sv[float("inf")][1] / sv[float("inf")][0] > sv[1.0][1] / sv[1.0][0]
    assert sv[1.0][-1] / sv[1.0][0] < sv[float("inf")][-1] / sv[float("inf")][0]


@pytest.mark.parametrize("kwargs, match", [
    ({"p": 0.5, "lam": 0.1}, "p must be >= 1"),
    ({"p": float("nan"), "lam": 0.1}, "p must be >= 1"),
    ({"p": "1", "lam": 0.1}, "p must be a number"),
    ({"p": 1, "lam": -0.1}, "lam must be finite and >= 0"),
    ({"p": 1, "lam": 0.1, "target": "map"}, "target must be one of"),
    ({"p": 1, "lam": 0.1, "iterations": 0}, "iterations must be a positive integer"),
])
def test_bad_settings_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        flows.SchattenOT(**kwargs)


def test_bad_problems_raise():
    cost = RNG.uniform(size=(4, 3))
    with pytest.raises(ValueError, match="a geometry with points"):
        flows.solve_ot(flows.LinearProblem(flows.Geometry(cost)), flows.SchattenOT(1, 0.1))
    with pytest.raises(ValueError, match="balanced problems"):
        flows.solve_ot(flows.LinearProblem(flows.Geometry(cost), rho_a=1.0),
                       flows.SchattenOT(1, 0.1, target="plan"))
    with pytest.raises(ValueError, match="matrix must"):
        flows.schatten_norm(np.ones(3), 1)
