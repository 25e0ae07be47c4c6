"""Training and evaluating operators on `OperatorData` through `sciopt.train.fit`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jaxtyping import Array, Float, PRNGKeyArray

from sciopt._validate import positive_float, positive_int
from sciopt.train import ArrayBatches, FitResult, fit

from ._data import OperatorData
from ._deeponet import DeepONet
from ._fno import FNO
from ._multionet import MultiONet


def check_compatible(model: eqx.Module, data: OperatorData) -> None:
    """Raise a `ValueError` naming the mismatch if `model` cannot map `data`'s inputs to its
    outputs (channels, sensor count, output fields, coordinate dimension)."""
    c_in, c_out, grid = data.inputs.shape[1], data.outputs.shape[1], data.grid
    if isinstance(model, FNO):
        if model.in_channels != c_in or model.dim != len(grid):
            raise ValueError(f"the FNO takes {model.in_channels} channel(s) on a "
                             f"{model.dim}D grid; the data has {c_in} on {grid}")
        out = model.project[-1].out_channels
        if out != c_out:
            raise ValueError(f"the FNO returns {out} channel(s); the data has {c_out}")
        return
    if isinstance(model, DeepONet | MultiONet):
        sensors = int(np.prod(data.inputs.shape[1:]))
        if model.sensors != sensors:
            raise ValueError(f"the {type(model).__name__} was built for {model.sensors} "
                             f"sensor values; the data's inputs have {sensors} "
                             f"({data.inputs.shape[1:]})")
        outputs = model.outputs if isinstance(model, DeepONet) else 1
        if outputs != c_out or model.coord_dim != data.coords.shape[-1]:
            raise ValueError(f"the {type(model).__name__} returns {outputs} field(s) of "
                             f"{model.coord_dim}D points; the data has {c_out} on a "
                             f"{data.coords.shape[-1]}D grid")
        return
    raise ValueError(f"not an operator model: {type(model).__name__}")


def predict(model: eqx.Module, inputs: Float[Array, "n c *grid"],
            coords: Float[Array, "*grid d"]) -> Float[Array, "n o *grid"]:
    """The model's outputs for a batch of inputs on the grid of `coords`."""
    if isinstance(model, FNO):
        return jax.vmap(model)(inputs)
    grid = coords.shape[:-1]
    points = coords.reshape(-1, coords.shape[-1])

    def one(u):
        out = model.cartesian(u.reshape(-1), points)  # [m] or [m, k]
        out = out[:, None] if out.ndim == 1 else out
        return out.T.reshape(out.shape[1], *grid)

    return jax.vmap(one)(inputs)


def relative_l2(pred: Array, target: Array) -> Float[Array, " n"]:
    """Per-sample relative L2 error `|pred - target| / |target|`."""
    axes = tuple(range(1, target.ndim))
    return jnp.sqrt(jnp.sum((pred - target) ** 2, axes) / jnp.sum(target**2, axes))


@eqx.filter_jit
def _batch_errors(model, inputs, outputs, coords):
    # Module level, so repeated `evaluate` calls reuse the compiled function.
    return relative_l2(predict(model, inputs, coords), outputs)


def evaluate(model: eqx.Module, data: OperatorData, *, batch_size: int = 64) -> float:
    """Mean per-sample relative L2 error of `model` on `data`."""
    check_compatible(model, data)
    coords = jnp.asarray(data.coords)
    errors = [np.asarray(_batch_errors(model, jnp.asarray(data.inputs[i:i + batch_size]),
                                       jnp.asarray(data.outputs[i:i + batch_size]), coords))
              for i in range(0, data.num_samples, batch_size)]
    return float(np.mean(np.concatenate(errors)))


def train_operator(model: eqx.Module, data: OperatorData, *, steps: int, key: PRNGKeyArray,
                   batch_size: int = 20, learning_rate: float = 1e-3,
                   weight_decay: float = 1e-4, checkpoint_dir: str | Path | None = None,
                   progress: Any = "auto", mesh: jax.sharding.Mesh | None = None
                   ) -> FitResult:
    """Train on mini-batches of `data` with the mean per-sample relative L2 loss (the FNO
    paper's), AdamW with a cosine-decayed `learning_rate`, through `sciopt.train.fit`
    (progress, checkpoints and resume, NaN guard, data-parallel over `mesh`)."""
    check_compatible(model, data)
    steps = positive_int("steps", steps)
    schedule = optax.cosine_decay_schedule(positive_float("learning_rate", learning_rate),
                                           steps, alpha=1e-2)
    coords = jnp.asarray(data.coords)

    def loss(m, batch, key):
        del key
        a, u = batch
        return jnp.mean(relative_l2(predict(m, a, coords), u))

    source = ArrayBatches((data.inputs, data.outputs), min(batch_size, data.num_samples))
    return fit(loss, model, optax.adamw(schedule, weight_decay=weight_decay), source, steps,
               key=key, checkpoint_dir=checkpoint_dir, progress=progress, mesh=mesh,
               description=f"{type(model).__name__}", chunk_size=min(200, steps))
