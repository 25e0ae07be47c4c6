"""Mirror Sinkhorn (Ballu & Berthet 2023) on linear OT between two point clouds, exactly and
with noisy costs: the objective gap of the rounded average plan against the horizon T
(log-log, with the paper's T^(-1/2)), and the plan at the largest horizon.

    python examples/mirror_sinkhorn.py [--points 40] [--horizons 300,1000,3000,10000] [--out .]
"""

import argparse
from pathlib import Path

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from scipy.optimize import linprog  # noqa: E402

import flows  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=40)
    parser.add_argument("--horizons", default="300,1000,3000,10000")
    parser.add_argument("--out", default=".")
    args = parser.parse_args()
    horizons = [int(h) for h in args.horizons.split(",")]
    rng = np.random.default_rng(0)
    n = args.points
    x, y = rng.standard_normal((n, 2)), 0.5 * rng.standard_normal((n, 2)) + 1.5
    cost = ((x[:, None] - y[None]) ** 2).sum(-1)
    cost /= cost.max()
    w = np.full(n, 1 / n)
    eq = np.vstack([np.kron(np.eye(n), np.ones(n)), np.kron(np.ones(n), np.eye(n))])
    best = linprog(cost.ravel(), A_eq=eq, b_eq=np.concatenate([w, w]), bounds=(0, None),
                   method="highs").fun
    problem = flows.LinearProblem(flows.Geometry(jnp.asarray(cost)))
    solve = jax.jit(flows.solve_ot)
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 4.5), dpi=110)
    for label, options in (("exact costs", {}),
                           ("noisy costs (sd 0.5)",
                            {"gradient": lambda p, c, key: c + 0.5 * jax.random.normal(
                                key, c.shape), "key": jax.random.key(1)})):
        gaps = []
        for horizon in horizons:
            out = solve(problem, flows.MirrorSinkhorn(horizon, **options))
            gaps.append(float(jnp.sum(out.rounded * cost)) - best)
        slope = np.polyfit(np.log(horizons), np.log(gaps), 1)[0]
        print(f"{label}: gaps {np.round(gaps, 5).tolist()}, slope {slope:.3f}")
        ax.loglog(horizons, gaps, "o-", label=f"{label}, slope {slope:.2f}")
    ts = np.array(horizons, dtype=float)
    ax.loglog(ts, gaps[0] * (ts / ts[0]) ** -0.5, "k--", label="T^(-1/2)")
    ax.set_xlabel("horizon T")
    ax.set_ylabel("<C, round(P)> - OT (linear program)")
    ax.legend(fontsize=8)
    bx.imshow(np.asarray(out.plan), cmap="Blues")
    bx.set_title(f"averaged plan, T = {horizons[-1]} (noisy costs)")
    fig.tight_layout()
    path = Path(args.out) / "mirror_sinkhorn.png"
    fig.savefig(path)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
