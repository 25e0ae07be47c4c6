"""Training and evaluating operators on `OperatorData` through `sciopt.train.fit`."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jaxtyping import Array, Float, PRNGKeyArray

from sciopt.data import PDEDataset, read_dataset
from sciopt.train import ArrayBatches, FitResult, fit
from sciopt.validate import array, positive_float, positive_int, prng_key, protocol

from ._data import OperatorData, check_data, rollout_pairs
from ._protocol import AbstractOperator, require_grid_model


def check_compatible(model: AbstractOperator, data: OperatorData) -> None:
    """Raise a `ValueError` naming the mismatch if `model` cannot map `data`'s inputs to its
    outputs (channels, sensor count, output fields, coordinate dimension)."""
    if not isinstance(model, AbstractOperator):
        raise ValueError(f"not an operator model: {type(model).__name__}")
    model.check_compatible(check_data("data", data))


def predict(model: AbstractOperator, inputs: Float[Array, "n c *grid"],
            coords: Float[Array, "*grid d"]) -> Float[Array, "n o *grid"]:
    """The model's outputs for a batch of inputs on the grid of `coords`."""
    protocol("model", model, ("predict",), "an operator model (operators.build_model)")
    inputs = array("inputs", inputs, min_size=1, traced=False)
    coords = array("coords", coords, traced=False)
    return model.predict(inputs, coords)


def relative_l2(pred: Array, target: Array) -> Float[Array, " n"]:
    """Per-sample relative L2 error `|pred - target| / |target|` (arrays of one shape, the
    samples along the first axis)."""
    pred = array("pred", pred, min_size=1, traced=False)
    target = array("target", target, shape=pred.shape, traced=False)
    axes = tuple(range(1, target.ndim))
    return jnp.sqrt(jnp.sum((pred - target) ** 2, axes) / jnp.sum(target**2, axes))


_predict_compiled = eqx.filter_jit(predict)  # module level: compiled once per shape


@eqx.filter_jit
def _batch_errors(model, inputs, outputs, coords):
    # Module level, so repeated `evaluate` calls reuse the compiled function.
    return relative_l2(predict(model, inputs, coords), outputs)


def _batches(data: OperatorData, batch_size: int):
    """`(inputs, outputs)` of `data` in consecutive slices of `batch_size` samples (the
    last may be shorter), as JAX arrays: for scoring a model batch by batch."""
    batch_size = positive_int("batch_size", batch_size)
    for i in range(0, data.num_samples, batch_size):
        yield (jnp.asarray(data.inputs[i:i + batch_size]),
               jnp.asarray(data.outputs[i:i + batch_size]))


def evaluate(model: eqx.Module, data: OperatorData, *, batch_size: int = 64) -> float:
    """Mean per-sample relative L2 error of `model` on `data`."""
    check_data("data", data)
    check_compatible(model, data)
    coords = jnp.asarray(data.coords)
    errors = [np.asarray(_batch_errors(model, x, y, coords))
              for x, y in _batches(data, batch_size)]
    return float(np.mean(np.concatenate(errors)))


def train_operator(model: eqx.Module, data: OperatorData, *, steps: int, key: PRNGKeyArray,
                   batch_size: int = 20, learning_rate: float = 1e-3,
                   weight_decay: float = 1e-4, checkpoint_dir: str | Path | None = None,
                   progress: Any = "auto", mesh: jax.sharding.Mesh | None = None,
                   rollout_steps: int = 1,
                   optimizer: optax.GradientTransformation | None = None) -> FitResult:
    """Train on mini-batches of `data` with the mean per-sample relative L2 loss (the FNO
    paper's), AdamW with a cosine-decayed `learning_rate`, through `sciopt.train.fit`
    (progress, checkpoints and resume, NaN guard, data-parallel over `mesh`).

    With `rollout_steps = K > 1` a grid time stepper is trained through its own
    autoregressive rollout, as DyMixOp's authors train theirs: `data` holds windows from
    `rollout_pairs(..., steps=K)` (the `K` next states stacked along the channels), and the
    loss is the relative L2 of the whole `K`-step prediction, back-propagated through every
    step. A model trained on one-step pairs only can be unstable when its outputs are fed
    back (errors leave the training distribution and grow step by step).

    `optimizer`, if given, replaces AdamW with `learning_rate` and `weight_decay` (e.g.
    `TrainingConfig.optimizer()` or any optax transformation).
    """
    rollout_steps = positive_int("rollout_steps", rollout_steps)
    if rollout_steps > 1:
        c = data.inputs.shape[1]
        if data.outputs.shape[1] != rollout_steps * c:
            raise ValueError(f"rollout_steps={rollout_steps} needs {rollout_steps} stacked "
                             f"next states ({rollout_steps * c} output channels, from "
                             f"rollout_pairs(..., steps={rollout_steps})); the data has "
                             f"{data.outputs.shape[1]}")
        _check_stepper(model)
        check_compatible(model, dataclasses.replace(data, outputs=data.outputs[:1, :c],
                                                    inputs=data.inputs[:1]))
    else:
        check_compatible(model, data)
    steps = positive_int("steps", steps)
    if optimizer is None:
        schedule = optax.cosine_decay_schedule(positive_float("learning_rate", learning_rate),
                                               steps, alpha=1e-2)
        optimizer = optax.adamw(schedule, weight_decay=positive_float(
            "weight_decay", weight_decay, allow_zero=True))
    coords = jnp.asarray(data.coords)

    def loss(m, batch, key):
        del key
        a, u = batch
        if rollout_steps > 1:
            pred = jax.vmap(lambda v: rollout(m, v, rollout_steps))(a)  # [n, K, c, *grid]
            return jnp.mean(relative_l2(pred.reshape(u.shape), u))
        return jnp.mean(relative_l2(predict(m, a, coords), u))

    source = ArrayBatches((data.inputs, data.outputs), min(batch_size, data.num_samples))
    return fit(loss, model, optimizer, source, steps,
               key=key, checkpoint_dir=checkpoint_dir, progress=progress, mesh=mesh,
               description=f"{type(model).__name__}", chunk_size=min(200, steps))


def train_rollout_curriculum(model: eqx.Module, source: PDEDataset | str | Path,
                             stages: list[tuple[int, int, int, float]], *,
                             trajectories: int, key: PRNGKeyArray,
                             weight_decay: float = 1e-4,
                             checkpoint_dir: str | Path | None = None,
                             progress: Any = "auto") -> FitResult:
    """Train a grid time stepper through ever longer autoregressive rollouts.

    Each stage `(K, steps, batch_size, learning_rate)` runs `train_operator(...,
    rollout_steps=K)` on the `K`-step windows (`rollout_pairs`) of the first `trajectories`
    trajectories of `source`, starting from the previous stage's model with a fresh AdamW
    state and cosine schedule. Training through a long rollout from the start can collapse or
    overflow (the untrained model's outputs, fed back, leave the data's range); one-step
    training alone gives a model whose errors grow when fed back. Growing `K` with a falling
    learning rate and batch keeps the long rollout stable (pushforward-style training, as
    DyMixOp's authors train through 10-step rollouts; Lai, Chen & Xu, arXiv:2508.13490).

    **Arguments:**

    - `model`: a grid model (FNO, DyMixOp, possibly `Normalized`) mapping a state to the
      state one saved time later.
    - `source`: a time-dependent dataset (`sciopt data generate`) or its path.
    - `stages`: `(K, steps, batch_size, learning_rate)` per stage, in order.
    - `trajectories`: how many leading trajectories to train on (the rest stay unseen).
    - `key`: PRNG key (split over the stages).
    - `weight_decay`, `progress`: as for `train_operator`.
    - `checkpoint_dir`: each stage checkpoints under `stage_<i>` in it, so a stopped run
      resumes in the stage it stopped in (finished stages return at once).

    **Returns:** the last stage's `FitResult`, with the losses of every stage in order and
    `step` the steps of all stages up to the returned model; a stage that stops on NaN/Inf
    ends the curriculum with its status and message.
    """
    prng_key("key", key)
    data = source if isinstance(source, PDEDataset) else read_dataset(source)
    stages = list(stages)
    if not stages:
        raise ValueError("stages is empty; give (K, steps, batch_size, learning_rate) per "
                         "stage")
    checked = []
    for i, stage in enumerate(stages):
        if not isinstance(stage, tuple | list) or len(stage) != 4:
            raise ValueError(f"stage {i} must be (K, steps, batch_size, learning_rate); got "
                             f"{stage!r}")
        k, steps, batch, lr = stage
        checked.append((positive_int(f"stage {i} K", k), positive_int(f"stage {i} steps", steps),
                        positive_int(f"stage {i} batch_size", batch),
                        positive_float(f"stage {i} learning_rate", lr)))
    trajectories = positive_int("trajectories", trajectories)
    if trajectories > data.num_samples:
        raise ValueError(f"trajectories={trajectories} but the dataset holds "
                         f"{data.num_samples}")
    longest, times = max(c[0] for c in checked), len(data.t)
    if longest >= times:  # checked before any stage trains
        raise ValueError(f"a {longest}-step stage needs more than the dataset's {times} saved "
                         f"time(s)")
    _check_stepper(model)
    dtype = jnp.result_type(float)
    losses, result, done = [], None, 0
    for i, ((k, steps, batch, lr), stage_key) in enumerate(
            zip(checked, jax.random.split(key, len(checked)), strict=True)):
        windows = rollout_pairs(data, steps=k)
        per = windows.attrs["windows_per_trajectory"]
        train = windows.select(np.arange(trajectories * per)).astype(dtype)
        folder = None if checkpoint_dir is None else Path(checkpoint_dir) / f"stage_{i}"
        result = train_operator(model, train, steps=steps, key=stage_key, batch_size=batch,
                                learning_rate=lr, weight_decay=weight_decay,
                                checkpoint_dir=folder, progress=progress, rollout_steps=k)
        losses.append(np.asarray(result.losses))
        model, done = result.model, done + result.step
        if result.status == "nonfinite":
            break
    return dataclasses.replace(result, losses=np.concatenate(losses), step=done)


def _check_stepper(model: eqx.Module) -> None:
    """Raise unless `model` maps a grid state to a state with the same channels."""
    inner = require_grid_model(model, "rollout needs a grid-to-grid model")
    if inner.in_channels != inner.out_channels:
        raise ValueError(f"rollout feeds outputs back as inputs; the model maps "
                         f"{inner.in_channels} channel(s) to {inner.out_channels}")


def rollout(model: eqx.Module, u0: Float[Array, "c ..."], steps: int
            ) -> Float[Array, "steps c ..."]:
    """Autoregressive prediction: `u_{k+1} = model(u_k)` for `steps` steps from `u0` (a
    grid model, possibly `Normalized`, mapping a state to the state one saved time later),
    as one `lax.scan`."""
    _check_stepper(model)
    steps = positive_int("steps", steps)

    def step(u, _):
        v = predict(model, u[None], jnp.zeros((0,)))[0]  # grid models ignore coords
        return v, v

    return jax.lax.scan(step, array("u0", u0, traced=False), None,
                        length=positive_int("steps", steps))[1]


def inference_seconds(model: eqx.Module, data: OperatorData, *, repeats: int = 5) -> float:
    """Median wall time of one compiled, batched prediction on all of `data`, per sample
    (compilation excluded)."""
    check_data("data", data)
    check_compatible(model, data)
    run = _predict_compiled
    x, c = jnp.asarray(data.inputs), jnp.asarray(data.coords)
    jax.block_until_ready(run(model, x, c))
    times = []
    for _ in range(positive_int("repeats", repeats)):
        start = time.perf_counter()
        jax.block_until_ready(run(model, x, c))
        times.append(time.perf_counter() - start)
    return float(np.median(times)) / data.num_samples
