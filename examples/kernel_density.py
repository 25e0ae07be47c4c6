"""Kernel density estimate and its score for many points, without an N x N matrix.

Draws points from a two-moons-like mixture, evaluates the Gaussian kernel density and its
gradient (the score direction used by Stein and mean-field particle methods) at every point
with `kernel_matvec` and its blocked gradient, and saves `kernel_density.png`.

    python examples/kernel_density.py [--points 20000]
"""

import argparse
import time

import jax
import jax.numpy as jnp
import matplotlib

from sciopt.kernels import gaussian_kernel, kernel_matvec

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=20000)
    args = parser.parse_args()
    n = args.points
    k1, k2, k3 = jax.random.split(jax.random.key(0), 3)
    angle = jax.random.uniform(k1, (n,), minval=0, maxval=jnp.pi)
    upper = jax.random.bernoulli(k2, 0.5, (n,))
    x = jnp.stack([jnp.cos(angle) + jnp.where(upper, 0.0, 1.0),
                   jnp.where(upper, 1.0, -1.0) * jnp.sin(angle) + jnp.where(upper, 0.0, 0.5)], 1)
    x = x + 0.08 * jax.random.normal(k3, x.shape)
    kernel = gaussian_kernel(0.15)
    weights = jnp.full((n,), 1.0 / n)

    def density(points):
        return kernel_matvec(kernel, points, x, weights)

    log_density_grad = jax.jit(jax.grad(lambda p: jnp.sum(jnp.log(density(p)))))
    t0 = time.perf_counter()
    dens = jax.jit(density)(x).block_until_ready()
    score = log_density_grad(x).block_until_ready()
    print(f"density and score at {n} points ({n * n:.1e} pairs): "
          f"{time.perf_counter() - t0:.2f} s, no {n} x {n} matrix")

    fig, ax = plt.subplots(figsize=(6, 4))
    ax.scatter(x[:, 0], x[:, 1], c=dens, s=2, cmap="viridis")
    sub = slice(None, None, max(1, n // 400))
    ax.quiver(x[sub, 0], x[sub, 1], score[sub, 0], score[sub, 1], color="w", alpha=0.6)
    ax.set_title("Gaussian KDE and grad log density (sciopt.kernels)")
    fig.tight_layout()
    fig.savefig("kernel_density.png")
    print("saved kernel_density.png")


if __name__ == "__main__":
    main()
