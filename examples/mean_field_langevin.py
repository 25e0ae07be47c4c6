"""Mean-field Langevin dynamics in a double-well potential with a Gaussian attraction between
particles: overdamped and underdamped particle systems from one blob, their snapshots, and
the free-energy part F(mu_N) over time; plus SVGD and mirrored SVGD on a Dirichlet target.

    python examples/mean_field_langevin.py [--particles 2000] [--t1 10] [--svgd-steps 1000]
                                           [--out .]
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


def double_well(x):
    return 0.25 * (x[0] ** 2 - 1.0) ** 2 * 4.0 + 0.5 * x[1] ** 2


def attraction(x, y):
    return -0.5 * jnp.exp(-jnp.sum((x - y) ** 2) / 2.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--particles", type=int, default=2000)
    parser.add_argument("--t1", type=float, default=10.0)
    parser.add_argument("--svgd-steps", type=int, default=1000)
    parser.add_argument("--out", default=".")
    args = parser.parse_args()

    energy = flows.MeanFieldEnergy(potential=double_well, interaction=attraction)
    x0 = 0.2 * jax.random.normal(jax.random.key(0), (args.particles, 2)) + jnp.array([0.0, 1.5])
    ts = jnp.linspace(0.0, args.t1, 6)
    runs = {
        "overdamped": flows.langevin(energy, flows.MeanFieldLangevin(0.2, 0.02), x0,
                                     t1=args.t1, key=jax.random.key(1), saveat=ts),
        "underdamped": flows.langevin(energy, flows.UnderdampedMeanFieldLangevin(0.2, 0.05, 1.0),
                                      x0, t1=args.t1, key=jax.random.key(1), saveat=ts),
    }
    fig, axes = plt.subplots(2, 4, figsize=(14, 6.5), dpi=100)
    for row, (label, out) in enumerate(runs.items()):
        for col, i in enumerate((0, 2, 5)):
            x = np.asarray(out.x[i])
            ax = axes[row, col]
            ax.scatter(x[:, 0], x[:, 1], s=2, alpha=0.5)
            ax.set(xlim=(-2, 2), ylim=(-2, 2), title=f"{label}, t = {float(ts[i]):.1f}")
        values = [float(energy.value(x)) for x in out.x]
        axes[0, 3].plot(np.asarray(ts), values, marker="o", label=label)
        print(f"{label}: F(mu_N) from {values[0]:.4f} to {values[-1]:.4f}; left well holds "
              f"{float(jnp.mean(out.x[-1][:, 0] < 0)):.2f} of the particles")
    axes[0, 3].set(xlabel="t", ylabel="F(mu_N) (without entropy)", title="energy")
    axes[0, 3].legend()

    alpha = jnp.array([2.0, 3.0, 5.0])

    def dirichlet(t):
        return jnp.sum((alpha[:-1] - 1) * jnp.log(t)) + (alpha[-1] - 1) * jnp.log(1 - t.sum())

    theta0 = jax.random.dirichlet(jax.random.key(2), jnp.ones(3), (300,))[:, :2]
    theta = np.asarray(flows.svgd(dirichlet, theta0, flows.SVGD(0.2, mirror="simplex"),
                                  steps=args.svgd_steps).final)
    ax = axes[1, 3]
    ax.scatter(theta[:, 0], theta[:, 1], s=3, color="tab:green")
    ax.plot([0, 1, 0, 0], [0, 0, 1, 0], color="0.5", lw=0.8)
    ax.set(title="mirrored SVGD, Dirichlet(2, 3, 5)", xlabel="theta_1", ylabel="theta_2")
    print(f"mirrored SVGD mean {theta.mean(0)} (exact {np.asarray(alpha[:-1] / alpha.sum())})")
    fig.tight_layout()
    path = Path(args.out) / "mean_field_langevin.png"
    fig.savefig(path)
    print(f"saved {path}")


if __name__ == "__main__":
    main()
