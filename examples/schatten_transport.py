"""Schatten-p regularised OT (Maunu) on a displacement of rank 2 in d = 10: targets are
independent samples moved by x -> x + B x (B of rank 2), so the population OT displacement
lies in a plane while the empirical one spreads over all directions. Plots the singular
values of the fitted barycentric displacement for lam = 0 and for p = 1, 2, inf against
the truth's.

    python examples/schatten_transport.py [--points 120] [--lam 0.1] [--out .]
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

import flows  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=120)
    parser.add_argument("--lam", type=float, default=0.1)
    parser.add_argument("--out", default=".")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    d = 10
    basis = np.linalg.qr(rng.standard_normal((d, 2)))[0]
    move = basis @ np.diag([3.0, 2.0]) @ basis.T
    x, other = rng.standard_normal((args.points, d)), rng.standard_normal((args.points, d))
    y = other + other @ move
    truth = np.linalg.svd(x @ move, compute_uv=False)
    problem = flows.LinearProblem(flows.PointCloud(jnp.asarray(x), jnp.asarray(y)))
    solve = jax.jit(flows.solve_ot)
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=110)
    ax.plot(range(1, d + 1), truth, "ko-", label="truth (B x)")
    for label, p, lam in (("OT (lam = 0)", 1.0, 0.0), ("p = 1", 1.0, args.lam),
                          ("p = 2", 2.0, args.lam), ("p = inf", float("inf"), args.lam)):
        out = solve(problem, flows.SchattenOT(p, lam))
        sigma = np.asarray(out.singular_values)
        ax.plot(range(1, d + 1), sigma, "o-", label=label if lam == 0 else
                f"{label}, lam = {lam}")
        print(f"{label}: singular values {np.round(sigma, 2).tolist()}, transport cost "
              f"{float(out.transport_cost):.3f}")
    ax.set_xlabel("index")
    ax.set_ylabel("singular value of the displacement")
    ax.set_title(f"Schatten-p OT, n = {args.points}, d = {d}, true rank 2")
    ax.legend()
    fig.tight_layout()
    path = Path(args.out) / "schatten_transport.png"
    fig.savefig(path)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
