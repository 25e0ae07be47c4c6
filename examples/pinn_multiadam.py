"""A PINN on a multiscale Helmholtz problem (PINNacle's a = 1, b = 4): Adam against
MultiAdam at equal steps, the same network, points and learning rate.

The boundary and residual terms differ in scale by orders of magnitude, so Adam, which sees
their sum, mostly fits the larger one; MultiAdam (Yao et al., ICML 2023) keeps one pair of
moments per loss group and is invariant to each group's scale.

    python examples/pinn_multiadam.py [--steps 1500] [--width 64] [--out .]

Saves `pinn_multiadam.png`: the reference, both errors, and the training losses.
"""

import argparse
from pathlib import Path

import jax

jax.config.update("jax_enable_x64", True)

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import pinns  # noqa: E402
from sciopt import problems  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--points", type=int, default=1024)
    parser.add_argument("--out", default=".")
    args = parser.parse_args()

    p = problems.get("helmholtz2d")
    runs = {}
    for optimizer in ("adam", "multiadam"):
        model = pinns.pinn_for(p, width=args.width, depth=4, key=jax.random.key(0))
        result = pinns.train_pinn(p, model, steps=args.steps, key=jax.random.key(1),
                                  optimizer=optimizer, learning_rate=1e-3, progress="lines",
                                  residual_points=args.points,
                                  boundary_points=max(100, args.points // 4))
        shown = pinns.predict_on_reference(p, result.model, resolution=65)
        runs[optimizer] = (result, shown)
        print(f"{optimizer}: relative L2 error {shown.relative_l2_error:.2e} after "
              f"{args.steps} steps")

    fig, axes = plt.subplots(1, 4, figsize=(17, 3.8), dpi=100)
    ref = runs["adam"][1].exact
    extent = (0, 1, 0, 1)
    im = axes[0].imshow(ref.T, origin="lower", extent=extent, cmap="RdBu_r")
    axes[0].set_title("reference")
    fig.colorbar(im, ax=axes[0])
    for ax, name in zip(axes[1:3], ("adam", "multiadam"), strict=True):
        shown = runs[name][1]
        im = ax.imshow(np.abs(shown.u - shown.exact).T, origin="lower", extent=extent,
                       cmap="magma")
        ax.set_title(f"|error|, {name} ({shown.relative_l2_error:.1e})")
        fig.colorbar(im, ax=ax)
    for name in ("adam", "multiadam"):
        axes[3].semilogy(np.asarray(runs[name][0].losses), label=name)
    axes[3].set(xlabel="step", title="total loss (residual + boundary)")
    axes[3].legend()
    fig.tight_layout()
    path = Path(args.out) / "pinn_multiadam.png"
    fig.savefig(path)
    print(f"saved {path}")


if __name__ == "__main__":
    main()
