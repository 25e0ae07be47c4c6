"""Entropic optimal transport between a Gaussian blob and a ring of 4000 points each: solve
with `flows.solve_ot` (streamed point clouds, adaptive momentum), draw the entropic map as
arrows, and the marginal error per iteration with and without momentum.

    python examples/entropic_map.py [--points 4000] [--epsilon 0.01] [--out .]
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
    parser.add_argument("--points", type=int, default=4000)
    parser.add_argument("--epsilon", type=float, default=0.01)
    parser.add_argument("--out", default=".")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    x = 0.5 * rng.standard_normal((args.points, 2))
    angle = rng.uniform(0, 2 * np.pi, args.points)
    radius = 2.0 + 0.15 * rng.standard_normal(args.points)
    y = np.stack([radius * np.cos(angle), radius * np.sin(angle)], 1)
    problem = flows.LinearProblem(flows.PointCloud(jnp.asarray(x), jnp.asarray(y)))
    runs = {name: flows.solve_ot(problem, flows.Sinkhorn(epsilon=args.epsilon,
                                                         max_iterations=5000, momentum=m))
            for name, m in (("adaptive momentum", "auto"), ("plain Sinkhorn", 1.0))}
    out = runs["adaptive momentum"]
    mapped = np.asarray(out.to_target())
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 5), dpi=110)
    ax.scatter(*x.T, s=2, c="tab:blue", label="source")
    ax.scatter(*y.T, s=2, c="tab:orange", label="target")
    show = rng.choice(args.points, size=min(300, args.points), replace=False)
    ax.quiver(x[show, 0], x[show, 1], *(mapped[show] - x[show]).T, angles="xy",
              scale_units="xy", scale=1, width=0.002, alpha=0.6)
    ax.set_aspect("equal")
    ax.legend(loc="upper right")
    ax.set_title(f"entropic map, epsilon = {args.epsilon}, <C, P> = "
                 f"{float(out.transport_cost):.4f}")
    for name, run in runs.items():
        k = int(run.iterations)
        bx.semilogy(np.arange(1, k + 1), np.asarray(run.errors)[:k],
                    label=f"{name} ({k} iterations)")
    bx.axhline(1e-3, color="k", lw=0.8, ls="--")
    bx.set_xlabel("iteration")
    bx.set_ylabel("L1 marginal error")
    bx.legend()
    bx.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    path = Path(args.out) / "entropic_map.png"
    fig.savefig(path)
    for name, run in runs.items():
        print(f"{name}: {int(run.iterations)} iterations, converged {bool(run.converged)}")
    print(f"saved {path}")


if __name__ == "__main__":
    main()
