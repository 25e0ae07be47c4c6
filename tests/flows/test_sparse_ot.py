"""Sparsity-constrained OT (Liu, Puigcerver & Blondel 2023): the k-sparse simplex projection
against enumeration, the k >= n limit against POT's quadratically regularised solver, the
k = 1 limit against the linear program, the sparsity and marginal invariants of both
formulations, jit / vmap over gamma, and clear errors on bad input."""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import ot
import pytest
from scipy.optimize import linprog

import flows

RNG = np.random.default_rng(3)
X = RNG.standard_normal((7, 2))
Y = RNG.standard_normal((6, 2)) + 0.5
C = ((X[:, None] - Y[None]) ** 2).sum(-1)
A = RNG.uniform(0.5, 1.0, 7)
A /= A.sum()
B = RNG.uniform(0.5, 1.0, 6)
B /= B.sum()
PROBLEM = flows.LinearProblem(flows.Geometry(C), A, B)
SOLVE = jax.jit(flows.solve_ot)


def _simplex(v):
    """Euclidean projection onto the probability simplex (sort based), NumPy."""
    u = np.sort(v)[::-1]
    css = np.cumsum(u) - 1
    rho = np.nonzero(u - css / np.arange(1, len(v) + 1) > 0)[0][-1]
    return np.maximum(v - css[rho] / (rho + 1), 0)


def test_projection_matches_enumeration_of_supports():
    x = RNG.standard_normal((20, 6))
    for k in (1, 2, 3, 6, 9):
        values, index = flows.sparse_simplex_projection(x, k)
        assert values.shape == (20, min(k, 6))
        dense = np.zeros_like(x)
        np.put_along_axis(dense, np.asarray(index), np.asarray(values), axis=1)
        for row, got in zip(x, dense, strict=True):
            best = min((np.sum((_project_on(row, s) - row) ** 2), tuple(s))
                       for size in range(1, min(k, 6) + 1)
                       for s in itertools.combinations(range(6), size))
            want = _project_on(row, best[1])
            np.testing.assert_allclose(got, want, atol=1e-12)
            assert abs(got.sum() - 1) < 1e-12 and np.all(got >= 0)
            assert np.count_nonzero(got) <= k


def _project_on(row, support):
    out = np.zeros_like(row)
    out[list(support)] = _simplex(row[list(support)])
    return out


@pytest.mark.parametrize("formulation", ["semi-dual", "dual"])
def test_k_at_least_n_is_quadratic_ot_of_pot(formulation):
    gamma = 0.5
    plan_pot = ot.smooth.smooth_ot_dual(A, B, C, gamma, reg_type="l2", stopThr=1e-15,
                                        numItermax=20000)
    out = SOLVE(PROBLEM, flows.SparsityConstrained(10, gamma, formulation=formulation,
                                                   threshold=1e-9))
    assert bool(out.converged) and not bool(out.stationary)
    assert float(out.marginal_error) <= 1e-9
    np.testing.assert_allclose(out.matrix, plan_pot, atol=1e-7)
    # strong duality: the dual value equals the primal objective at the plan
    np.testing.assert_allclose(float(out.value), float(out.reg_ot_cost), rtol=1e-7)
    primal = (C * plan_pot).sum() + 0.5 * gamma * (plan_pot**2).sum()
    np.testing.assert_allclose(float(out.reg_ot_cost), primal, rtol=1e-7)


def test_k_one_tends_to_the_linear_program_on_a_map():
    """Uniform weights on n = m points: the LP optimum is a permutation, so the k = 1 plan
    (a map from target to source points) reaches it as gamma -> 0."""
    x, y = RNG.standard_normal((6, 2)), RNG.standard_normal((6, 2))
    cost = ((x[:, None] - y[None]) ** 2).sum(-1)
    w = np.full(6, 1 / 6)
    lp = linprog(cost.ravel(), A_eq=np.vstack([np.kron(np.eye(6), np.ones(6)),
                                               np.kron(np.ones(6), np.eye(6))]),
                 b_eq=np.concatenate([w, w]), bounds=(0, None), method="highs")
    problem = flows.LinearProblem(flows.Geometry(cost), w, w)
    gaps = []
    for gamma in (1e-1, 1e-2, 1e-3):
        out = SOLVE(problem, flows.SparsityConstrained(1, gamma, threshold=1e-9))
        assert np.all(np.asarray(out.nonzeros) == 1)
        gaps.append(float(out.transport_cost) - lp.fun)
    assert float(out.marginal_error) <= 1e-9 and abs(gaps[-1]) < 1e-9
    plan = np.asarray(out.matrix)
    np.testing.assert_allclose(plan, lp.x.reshape(6, 6), atol=1e-9)


@pytest.mark.parametrize("formulation", ["semi-dual", "dual"])
def test_columns_keep_at_most_k_entries(formulation):
    k = 2
    out = SOLVE(PROBLEM, flows.SparsityConstrained(k, 0.05, formulation=formulation))
    plan = np.asarray(out.matrix)
    assert np.all(plan >= 0) and np.all((plan > 0).sum(axis=0) <= k)
    assert np.all(np.asarray(out.nonzeros) <= k)
    rows, cols = out.marginals
    np.testing.assert_allclose(rows, plan.sum(1), atol=1e-14)
    np.testing.assert_allclose(cols, plan.sum(0), atol=1e-14)
    error = np.abs(plan.sum(1) - A).sum() + np.abs(plan.sum(0) - B).sum()
    np.testing.assert_allclose(float(out.marginal_error), error, atol=1e-14)
    assert bool(out.converged) == (error <= 1e-6)
    assert bool(out.converged) or bool(out.stationary) or int(out.iterations) == 2000
    if formulation == "semi-dual":  # every column carries its mass exactly
        np.testing.assert_allclose(plan.sum(0), B, atol=1e-14)
    # the dual value is a lower bound on the regularised cost of any feasible sparse plan,
    # and no higher than that of the k >= n problem's optimum is below it
    dense = SOLVE(PROBLEM, flows.SparsityConstrained(10, 0.05, threshold=1e-9))
    assert float(out.value) >= float(dense.value) - 1e-9


def test_jit_and_vmap_over_gamma():
    gammas = jnp.array([0.1, 0.3])

    def value(gamma):
        return flows.solve_ot(PROBLEM, flows.SparsityConstrained(3, gamma)).value

    batched = jax.jit(jax.vmap(value))(gammas)
    for g, v in zip(gammas, batched, strict=True):
        np.testing.assert_allclose(v, value(float(g)), rtol=1e-10)


@pytest.mark.parametrize("kwargs, match", [
    ({"k": 0, "gamma": 0.1}, "k must be a positive integer"),
    ({"k": 2.0, "gamma": 0.1}, "k must be an integer"),
    ({"k": True, "gamma": 0.1}, "k must be an integer"),
    ({"k": 2, "gamma": -0.1}, "gamma must be finite and > 0"),
    ({"k": 2, "gamma": 0.0}, "gamma must be finite and > 0"),
    ({"k": 2, "gamma": float("nan")}, "gamma must be finite"),
    ({"k": 2, "gamma": 0.1, "formulation": "primal"}, "formulation must be one of"),
    ({"k": 2, "gamma": 0.1, "threshold": -1.0}, "threshold must be"),
])
def test_bad_settings_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        flows.SparsityConstrained(**kwargs)


def test_bad_problems_raise():
    solver = flows.SparsityConstrained(2, 0.1)
    with pytest.raises(ValueError, match="equal mass"):
        flows.solve_ot(flows.LinearProblem(flows.Geometry(C), A, 2 * B), solver)
    with pytest.raises(ValueError, match="balanced problems"):
        flows.solve_ot(flows.LinearProblem(flows.Geometry(C), A, B, rho_a=1.0), solver)
    with pytest.raises(ValueError, match="x must have at least one axis"):
        flows.sparse_simplex_projection(jnp.zeros(()), 2)
    with pytest.raises(ValueError, match="x must be finite|NaN"):
        flows.sparse_simplex_projection(jnp.array([1.0, jnp.nan]), 1)
