"""Sparsity-constrained OT (`flows.SparsityConstrained`) against POT's `ot.smooth` solvers on
the authors' toy (Liu, Puigcerver & Blondel 2023): 100 bins, a = Gaussian(20, 5),
b = Gaussian(60, 10), cost = squared bin distance / its max, gamma = 0.1, k = 2 (and 5).

Every figure is recomputed here in float64 from what each library returns: the semi-dual
objective at the returned row potential alpha (the quantity both maximise; higher is
better, and for k < n no plan meets both marginals at the optimum), the regularised cost
<C, P> + gamma / 2 |P|^2 and the L1 error of both marginals of the returned plan, and the
largest number of non-zeros in a column."""

from __future__ import annotations

import contextlib
import io
import itertools
import time

import jax
import jax.numpy as jnp
import numpy as np

import flows

GAMMA = 0.1


def toy(n: int = 100):
    """The authors' toy: `(a, b, cost)` in float64."""
    bins = np.arange(n, dtype=np.float64)

    def gauss(mean, sd):
        w = np.exp(-((bins - mean) ** 2) / (2 * sd**2))
        return w / w.sum()

    cost = (bins[:, None] - bins[None]) ** 2
    return gauss(20, 5), gauss(60, 10), cost / cost.max()


def semi_dual_value(alpha, a, b, cost, k, gamma=GAMMA):
    """`<alpha, a> - sum_j b_j max_Omega((alpha - c_j) / b_j)` in float64 (NumPy)."""
    x = alpha[:, None] - cost  # [n, m]
    values, index = flows.sparse_simplex_projection(jnp.asarray((x / (gamma * b)).T), k)
    p = np.asarray(values)
    top = np.take_along_axis(x.T, np.asarray(index), axis=1)
    val = (top * p).sum(1) - 0.5 * gamma * b * (p**2).sum(1)
    return float(alpha @ a - b @ val)


def _figures(plan, alpha, a, b, cost, k):
    error = np.abs(plan.sum(1) - a).sum() + np.abs(plan.sum(0) - b).sum()
    return {"semi_dual": semi_dual_value(alpha, a, b, cost, k),
            "reg_cost": float((cost * plan).sum() + 0.5 * GAMMA * (plan**2).sum()),
            "error": float(error), "nnz": int((plan > 0).sum(0).max())}


def rows(quick: bool, repeats: int) -> tuple[list[list], list[str]]:
    """Table rows `[k, library, method, iterations, wall, semi-dual, reg cost, error, nnz]`
    and notes."""
    a, b, cost = toy()
    problem = flows.LinearProblem(flows.Geometry(jnp.asarray(cost)), jnp.asarray(a),
                                  jnp.asarray(b))
    out_rows, notes = [], []
    try:
        import ot
    except ImportError:
        ot = None
        notes.append("POT is not installed (`pip install pot`): its rows are missing.")
    for k in (2,) if quick else (2, 5):
        for formulation in ("semi-dual", "dual"):
            solver = flows.SparsityConstrained(k, GAMMA, formulation=formulation)
            solve = jax.jit(flows.solve_ot)
            out = jax.block_until_ready(solve(problem, solver))
            walls = []
            for _ in range(repeats):
                start = time.perf_counter()
                out = jax.block_until_ready(solve(problem, solver))
                walls.append(time.perf_counter() - start)
            fig = _figures(np.asarray(out.matrix), np.asarray(out.f), a, b, cost, k)
            status = ("converged" if bool(out.converged) else
                      "stationary" if bool(out.stationary) else "iteration cap")
            out_rows.append([k, "sciopt", f"{formulation}, L-BFGS ({status})",
                             int(out.iterations), float(np.median(walls)), *fig.values()])
        if ot is None:
            continue
        for (name, fn), cap in itertools.product(
                (("dual, L-BFGS-B", ot.smooth.smooth_ot_dual),
                 ("semi-dual, L-BFGS-B", ot.smooth.smooth_ot_semi_dual)), (500, 20_000)):
            start = time.perf_counter()
            with contextlib.redirect_stdout(io.StringIO()):  # POT prints shapes here
                plan, log = fn(a, b, cost, GAMMA, reg_type="sparsity_constrained", max_nz=k,
                               numItermax=cap, log=True)
            wall = time.perf_counter() - start
            fig = _figures(np.asarray(plan), np.asarray(log["alpha"]), a, b, cost, k)
            setting = "default settings" if cap == 500 else "up to 20000 iterations"
            out_rows.append([k, "pot", f"{name} ({setting})", int(log["res"].nit),
                             wall, *fig.values()])
    return out_rows, notes
