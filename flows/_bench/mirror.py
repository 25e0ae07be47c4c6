"""Mirror Sinkhorn (`flows.MirrorSinkhorn`): the objective gap of the rounded average plan
against the horizon T, on linear OT (gap to the linear program's value, scipy HiGHS), on a
strictly convex objective (OT plus gamma / 2 |P|^2, gap to our semi-dual solution at
marginal error 1e-10) and with noisy costs (each gradient is C plus Gaussian noise of
standard deviation 0.5); the fitted log-log slope against the paper's rate T^(-1/2)."""

from __future__ import annotations

import time

import jax
import jax.numpy as jnp
import numpy as np
from scipy.optimize import linprog

import flows

GAMMA = 0.1
NOISE = 0.5


def _problem(n: int, m: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    x, y = rng.standard_normal((n, 2)), rng.standard_normal((m, 2)) + 1.0
    cost = ((x[:, None] - y[None]) ** 2).sum(-1)
    cost /= cost.max()
    a, b = rng.uniform(0.5, 1, n), rng.uniform(0.5, 1, m)
    return cost, a / a.sum(), b / b.sum()


def rows(quick: bool) -> tuple[list[list], dict]:
    """Table rows `[case, T, wall, gap, marginal error, slope]` and the fitted slopes."""
    n, m = (20, 16) if quick else (100, 80)
    horizons = (300, 1000, 3000) if quick else (1000, 3000, 10_000, 30_000)
    cost, a, b = _problem(n, m)
    problem = flows.LinearProblem(flows.Geometry(jnp.asarray(cost)), jnp.asarray(a),
                                  jnp.asarray(b))
    eq = np.vstack([np.kron(np.eye(n), np.ones(m)), np.kron(np.ones(n), np.eye(m))])
    lp = linprog(cost.ravel(), A_eq=eq, b_eq=np.concatenate([a, b]), bounds=(0, None),
                 method="highs").fun

    def quadratic(plan, c):
        return jnp.sum(plan * c) + 0.5 * GAMMA * jnp.sum(plan**2)

    reference = flows.solve_ot(problem, flows.SparsityConstrained(n, GAMMA, threshold=1e-10,
                                                                  max_iterations=20_000))
    cases = {
        "linear OT": ({}, flows.linear_objective, lp),
        f"OT + {GAMMA}/2 |P|^2": ({"objective": quadratic}, quadratic,
                                   float(reference.reg_ot_cost)),
        f"linear OT, noisy costs (sd {NOISE})": (
            {"gradient": lambda p, c, key: c + NOISE * jax.random.normal(key, c.shape),
             "key": jax.random.key(0)}, flows.linear_objective, lp),
    }
    solve = jax.jit(flows.solve_ot)
    out_rows, slopes = [], {}
    for case, (options, objective, best) in cases.items():
        gaps = []
        for horizon in horizons:
            solver = flows.MirrorSinkhorn(horizon, **options)
            jax.block_until_ready(solve(problem, solver))
            start = time.perf_counter()
            out = jax.block_until_ready(solve(problem, solver))
            wall = time.perf_counter() - start
            gaps.append(float(objective(out.rounded, jnp.asarray(cost))) - best)
            out_rows.append([case, horizon, wall, gaps[-1], float(out.marginal_error), ""])
        slope = float(np.polyfit(np.log(horizons), np.log(np.maximum(gaps, 1e-300)), 1)[0])
        slopes[case] = slope
        out_rows[-1][-1] = f"slope {slope:.3f} (paper: -0.5)"
    return out_rows, slopes
