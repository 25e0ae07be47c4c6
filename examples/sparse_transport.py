"""Sparsity-constrained optimal transport on the authors' toy (Liu, Puigcerver & Blondel
2023): 100 bins, a = Gaussian(20, 5), b = Gaussian(60, 10), squared distance / its max,
gamma = 0.1. Draws the plans for k = 1, 2, 5 non-zeros per column and the quadratically
regularised plan (k = n), with their sparsity and marginal error.

    python examples/sparse_transport.py [--gamma 0.1] [--out .]
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


def toy(n: int = 100):
    """The authors' toy: Gaussian histograms on n bins, squared distance scaled to [0, 1]."""
    bins = np.arange(n, dtype=np.float64)

    def gauss(mean, sd):
        w = np.exp(-((bins - mean) ** 2) / (2 * sd**2))
        return w / w.sum()

    cost = (bins[:, None] - bins[None]) ** 2
    return gauss(20, 5), gauss(60, 10), cost / cost.max()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gamma", type=float, default=0.1)
    parser.add_argument("--out", default=".")
    args = parser.parse_args()
    a, b, cost = toy()
    problem = flows.LinearProblem(flows.Geometry(jnp.asarray(cost)), jnp.asarray(a),
                                  jnp.asarray(b))
    solve = jax.jit(flows.solve_ot)
    fig, axes = plt.subplots(1, 4, figsize=(16, 4.4), dpi=110)
    for ax, k in zip(axes, (1, 2, 5, len(a)), strict=True):
        out = solve(problem, flows.SparsityConstrained(k, args.gamma))
        plan = np.asarray(out.matrix)
        ax.imshow(plan, cmap="Blues", origin="lower", aspect="auto")
        ax.set_title(f"k = {k}: max {int(out.nonzeros.max())} non-zeros per column,\n"
                     f"marginal error {float(out.marginal_error):.1e}", fontsize=9)
        ax.set_xlabel("target bin j")
        print(f"k = {k}: {int(out.iterations)} iterations, <C, P> = "
              f"{float(out.transport_cost):.5f}, marginal error "
              f"{float(out.marginal_error):.2e}, converged {bool(out.converged)}")
    axes[0].set_ylabel("source bin i")
    fig.suptitle(f"sparsity-constrained OT, gamma = {args.gamma}")
    fig.tight_layout()
    path = Path(args.out) / "sparse_transport.png"
    fig.savefig(path)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
