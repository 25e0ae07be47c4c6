"""Schatten-p OT (`flows.SchattenOT`, target "displacement"): the low-rank recovery
experiment. Source points x ~ N(0, I_10); target points are independent samples moved by
x -> x + B x with B symmetric positive semi-definite of rank 2 (singular values 3 and 2), so
the population OT displacement B x lies in a 2-dimensional subspace; with finitely many
samples the empirical OT displacement spreads over all 10 directions. For p in {1, 2, inf}
and several lam: the singular values of the fitted displacement against the truth's (B x
at the source points), the principal-angle distance between the fitted and the true
2-dimensional subspaces (0 = recovered, 1 = orthogonal), the transport cost, and the
distance of the fitted displacement to the truth (root mean square over the points)."""

from __future__ import annotations

import math
import time

import jax
import jax.numpy as jnp
import numpy as np

import flows


def data(n: int, d: int = 10, rank: int = 2, seed: int = 0):
    """`(x, y, truth, basis)`: sources, targets, the true displacement at the sources and
    the true subspace."""
    rng = np.random.default_rng(seed)
    basis = np.linalg.qr(rng.standard_normal((d, rank)))[0]
    move = basis @ np.diag(np.linspace(3.0, 2.0, rank)) @ basis.T
    x, other = rng.standard_normal((n, d)), rng.standard_normal((n, d))
    return x, other + other @ move, x @ move, basis


def rows(quick: bool) -> list[list]:
    """Table rows `[p, lam, wall, top singular values, truth's, subspace distance,
    displacement RMS error, transport cost]`."""
    n = 40 if quick else 120
    x, y, truth, basis = data(n)
    rank = basis.shape[1]
    want = np.linalg.svd(truth, compute_uv=False)
    problem = flows.LinearProblem(flows.PointCloud(jnp.asarray(x), jnp.asarray(y)))
    solve = jax.jit(flows.solve_ot)
    out_rows = []
    settings = [(1.0, 0.0)] + [(p, lam) for p in (1.0, 2.0, math.inf)
                               for lam in ((0.1,) if quick else (0.03, 0.1, 0.3))]
    for p, lam in settings:
        solver = flows.SchattenOT(p, lam, target="displacement")
        start = time.perf_counter()
        out = jax.block_until_ready(solve(problem, solver))
        wall = time.perf_counter() - start  # compilation included: one run each
        fitted = np.asarray(out.image)
        sigma = np.linalg.svd(fitted, compute_uv=False)
        top = np.linalg.svd(fitted)[2][:rank].T
        distance = np.linalg.norm(basis @ basis.T - top @ top.T, 2)
        rms = float(np.sqrt(np.mean(np.sum((fitted - truth) ** 2, axis=1))))
        out_rows.append([("inf" if math.isinf(p) else f"{p:g}"), lam, wall,
                         " ".join(f"{s:.2f}" for s in sigma[: rank + 3]),
                         " ".join(f"{s:.2f}" for s in want[: rank + 3]), float(distance),
                         rms, float(out.transport_cost)])
    return out_rows
