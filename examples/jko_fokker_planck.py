"""A Fokker–Planck equation solved by the JKO scheme with a convex network: the density of
an Ornstein–Uhlenbeck process in 2D, tracked through the learnt Brenier maps, against the
closed-form Gaussian law; plus the variational (particle-only) scheme.

    python examples/jko_fokker_planck.py [--steps 18] [--iterations 500] [--pool 65536]

Saves `jko_fokker_planck.png`: model and exact densities at the final time, and the
symmetric KL divergence along the flow.
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
from jax.scipy.stats import multivariate_normal as mvn  # noqa: E402

import flows  # noqa: E402


def std_logpdf(x):
    return -0.5 * jnp.sum(x**2, axis=-1) - jnp.log(2 * jnp.pi)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=18)
    parser.add_argument("--iterations", type=int, default=500)
    parser.add_argument("--pool", type=int, default=65536)
    parser.add_argument("--out", default=".")
    args = parser.parse_args()

    # dX = -A (X - b) dt + sqrt(2) dW from N(0, I); stationary law N(b, A^-1).
    a = jnp.array([[1.5, 0.6], [0.6, 0.8]])
    b = jnp.array([1.5, -1.0])
    energy = flows.MeanFieldEnergy(potential=lambda x: 0.5 * (x - b) @ a @ (x - b))
    tau = 0.05
    x0 = jax.random.normal(jax.random.key(0), (args.pool, 2))
    net = flows.ConvexGradientNet(2, 64, key=jax.random.key(1))
    method = flows.JKO(tau, temperature=1.0, iterations=args.iterations,
                       batch_size=min(1024, args.pool))
    traj = flows.jko(energy, method, net, x0, std_logpdf(x0), steps=args.steps,
                     key=jax.random.key(2), save_every=1, progress=True)
    t1 = tau * args.steps

    sym = []
    for k in range(1, args.steps + 1):
        mean, cov = flows.ornstein_uhlenbeck_law(a, b, jnp.zeros(2), jnp.eye(2), tau * k)
        y = traj.x[k][:4096]
        kl_model = jnp.mean(traj.log_density[k][:4096] - mvn.logpdf(y, mean, cov))
        yt = jax.random.multivariate_normal(jax.random.key(k), mean, cov, (4096,))
        kl_true = jnp.mean(mvn.logpdf(yt, mean, cov) - traj.log_prob(yt, std_logpdf, steps=k))
        sym.append(float(kl_model + kl_true))
    print(f"symmetric KL at t = {t1:.2f}: {sym[-1]:.2e}")

    variational = flows.variational_wgf(
        energy, flows.VariationalWGF(tau, temperature=1.0, iterations=args.iterations // 2,
                                     batch_size=min(1024, args.pool)),
        net, x0, steps=args.steps, key=jax.random.key(3))

    mean, cov = flows.ornstein_uhlenbeck_law(a, b, jnp.zeros(2), jnp.eye(2), t1)
    g = jnp.linspace(-3.0, 4.0, 80)
    grid = jnp.stack(jnp.meshgrid(g, g, indexing="xy"), -1).reshape(-1, 2)
    model = np.exp(np.asarray(traj.log_prob(grid, std_logpdf))).reshape(80, 80)
    exact = np.exp(np.asarray(mvn.logpdf(grid, mean, cov))).reshape(80, 80)

    fig, axes = plt.subplots(1, 3, figsize=(14, 4.2), dpi=100)
    levels = np.linspace(0, exact.max(), 9)[1:]
    axes[0].contour(g, g, exact, levels=levels, colors="k", linewidths=0.8)
    axes[0].contour(g, g, model, levels=levels, colors="tab:red", linestyles="--",
                    linewidths=0.8)
    axes[0].set(title=f"density at t = {t1:.2f}: exact (black), JKO (red)", aspect="equal")
    v = np.asarray(variational.final[:3000])
    axes[1].scatter(v[:, 0], v[:, 1], s=1, alpha=0.4, color="tab:green")
    axes[1].contour(g, g, exact, levels=levels, colors="k", linewidths=0.8)
    axes[1].set(title="variational WGF particles", aspect="equal", xlim=(-3, 4), ylim=(-3, 4))
    axes[2].semilogy(tau * np.arange(1, args.steps + 1), np.maximum(sym, 1e-7), marker="o")
    axes[2].set(xlabel="t", ylabel="symmetric KL (JKO vs exact)", title="error along the flow")
    fig.tight_layout()
    path = Path(args.out) / "jko_fokker_planck.png"
    fig.savefig(path)
    print(f"saved {path}")


if __name__ == "__main__":
    main()
