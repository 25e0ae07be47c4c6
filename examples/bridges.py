"""A Schrödinger bridge and a rectified flow from a Gaussian to eight Gaussians in 2D.

- Light SB (Korotin, Gushchin & Burnaev, ICLR 2024): a mixture-of-Gaussians potential fitted
  on samples; the conditional plans are Gaussian mixtures in closed form, so the bridge is
  sampled exactly (endpoint, then a Brownian bridge).
- Rectified flow (Liu): a velocity field regressed on straight interpolations of
  independent pairs, then re-fitted on its own couplings (reflow), which straightens the
  paths; integrated by diffrax.

    python examples/bridges.py [--steps 1500] [--out .]

Saves `bridges.png`: bridge paths, the rectified flow's paths before and after reflow, and
the samples each method produces against the target.
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

CENTRES = 4.0 * jnp.stack([jnp.cos(jnp.arange(8) * jnp.pi / 4),
                           jnp.sin(jnp.arange(8) * jnp.pi / 4)], 1)


def source(key, n):
    return jax.random.normal(key, (n, 2))


def target(key, n):
    k1, k2 = jax.random.split(key)
    return CENTRES[jax.random.randint(k1, (n,), 0, 8)] + 0.3 * jax.random.normal(k2, (n, 2))


def nearest_centre_error(y):
    """Mean distance of samples to the nearest mode centre (0.3 * sqrt(pi / 2) ~ 0.38 for
    exact samples)."""
    d = jnp.linalg.norm(y[:, None] - CENTRES[None], axis=-1)
    return float(jnp.mean(jnp.min(d, axis=1)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--out", default=".")
    args = parser.parse_args()

    x = source(jax.random.key(10), 512)
    times = jnp.linspace(0.0, 1.0, 21)

    sb = flows.LightSB(2, components=16, epsilon=0.1, key=jax.random.key(0))
    sb = flows.train_light_sb(sb, source, target, steps=args.steps, key=jax.random.key(1),
                              progress="lines").model
    bridge = sb.trajectories(jax.random.key(2), x, times)

    flow = flows.RectifiedFlow(2, width=64, depth=3, key=jax.random.key(3))

    def independent(key, n):
        k0, k1 = jax.random.split(key)
        return source(k0, n), target(k1, n)

    first = flows.train_rectified_flow(flow, independent, steps=args.steps,
                                       key=jax.random.key(4), progress="lines").model
    pool = source(jax.random.key(5), 4096)
    second = flows.train_rectified_flow(first, flows.reflow_sampler(first, pool),
                                        steps=args.steps, key=jax.random.key(6),
                                        progress="lines").model
    rectified = {"1-rectified": first, "2-rectified (reflow)": second}
    paths = {name: f.transport(x, steps=20, times=times) for name, f in rectified.items()}

    print(f"Light SB: distance of samples to the nearest mode "
          f"{nearest_centre_error(bridge[-1]):.3f} (exact samples: ~0.38)")
    for name, path in paths.items():
        s = float(rectified[name].straightness(x, steps=20))
        print(f"rectified flow, {name}: distance to the nearest mode "
              f"{nearest_centre_error(path[-1]):.3f}, straightness {s:.3f}")

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.6), dpi=100)
    ref = np.asarray(target(jax.random.key(7), 2000))
    for ax, (title, path) in zip(axes, [("Light SB bridge", bridge), *paths.items()],
                                 strict=True):
        p = np.asarray(path)
        ax.scatter(ref[:, 0], ref[:, 1], s=1, color="0.8")
        ax.plot(p[:, :64, 0], p[:, :64, 1], lw=0.5, color="tab:blue", alpha=0.6)
        ax.scatter(p[-1, :, 0], p[-1, :, 1], s=3, color="tab:red")
        ax.set(title=title, aspect="equal", xlim=(-6, 6), ylim=(-6, 6))
    fig.tight_layout()
    path = Path(args.out) / "bridges.png"
    fig.savefig(path)
    print(f"saved {path}")


if __name__ == "__main__":
    main()
