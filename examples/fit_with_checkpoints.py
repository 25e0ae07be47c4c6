"""Fit a small MLP with `sciopt.train.fit`: checkpoints, resume and metrics.

Run it, interrupt it (Ctrl-C or `kill -9`) and run it again: it resumes from the last
checkpoint and ends with the same parameters as an uninterrupted run. It saves
`fit_with_checkpoints.png` (loss curve from the metrics file) and prints the final error.

    python examples/fit_with_checkpoints.py [--steps 4000] [--out runs/example]
"""

import argparse
import json
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import matplotlib
import optax

from sciopt.train import ArrayBatches, fit

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=4000)
    parser.add_argument("--out", default="runs/example")
    args = parser.parse_args()
    out = Path(args.out)

    x = jnp.linspace(-1, 1, 1024)[:, None]
    y = jnp.sin(4 * x) * jnp.exp(-(x**2))
    data = ArrayBatches((x, y), batch_size=64)
    model = eqx.nn.MLP(1, 1, 32, 2, activation=jnp.tanh, key=jax.random.key(0))

    def loss(model, batch, key):
        xb, yb = batch
        mse = jnp.mean((jax.vmap(model)(xb) - yb) ** 2)
        return mse, {"mse": mse}

    result = fit(loss, model, optax.adam(3e-3), data, args.steps, key=jax.random.key(1),
                 chunk_size=200, checkpoint_dir=out, checkpoint_every=1000, log_every=20)
    error = float(jnp.max(jnp.abs(jax.vmap(result.model)(x) - y)))
    print(f"step {result.step}: max error {error:.3e} (resumed from {result.resumed_from})")

    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.semilogy([r["step"] for r in records], [r["loss"] for r in records])
    ax.set_xlabel("step")
    ax.set_ylabel("MSE")
    ax.set_title("sciopt.train.fit")
    fig.tight_layout()
    fig.savefig(Path(__file__).with_suffix(".png").name)
    print(f"saved {Path(__file__).with_suffix('.png').name}")


if __name__ == "__main__":
    main()
