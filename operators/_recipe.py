"""The operators' train -> evaluate -> record recipe: one function that builds a model from a
`TrainingConfig`, trains it (plain, through K-step rollouts or a rollout curriculum), scores
it, and one that saves the model, a JSON record and the figures. `sciopt train-operator` and
`sciopt bench operator` both call these."""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import Any

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import PRNGKeyArray

from sciopt.validate import directory, protocol

from ._configs import TrainingConfig
from ._data import OperatorData, check_data, rollout_pairs
from ._fno import count_parameters
from ._io import build_model, model_spec, save_model
from ._spectrum import error_spectrum
from ._train import evaluate, inference_seconds, predict, train_operator, train_rollout_curriculum


@dataclasses.dataclass
class OperatorRun:
    """What `train_and_evaluate` returns.

    **Fields:** `name` (the model's name), `model` (trained), `spec` (`model_spec`, enough
    to rebuild it), `config`, `losses` (the training loss per step), `steps` (optimiser
    steps run), `status` (`fit`'s: `"ok"` or `"nonfinite"`), `wall_s` (training wall
    time), `train_relative_l2` / `test_relative_l2` (mean per-sample relative L2),
    `inference_s` (per sample, one compiled batch), `spectrum` (`error_spectrum` on the
    test set).
    """

    name: str
    model: eqx.Module
    spec: dict[str, Any]
    config: TrainingConfig
    losses: np.ndarray
    steps: int
    status: str
    wall_s: float
    train_relative_l2: float
    test_relative_l2: float
    inference_s: float
    spectrum: dict[str, np.ndarray]

    @property
    def parameters(self) -> int:
        return count_parameters(self.model)

    def record(self) -> dict[str, Any]:
        """The run as JSON-ready values (no model, no losses)."""
        return {"model": self.name, "spec": self.spec, "options": dict(self.config.options),
                "steps": self.steps, "batch_size": self.config.batch_size,
                "learning_rate": self.config.learning_rate,
                "rollout_steps": self.config.rollout_steps,
                "curriculum": self.config.curriculum, "status": self.status,
                "parameters": self.parameters, "train_seconds": self.wall_s,
                "train_relative_l2": self.train_relative_l2,
                "test_relative_l2": self.test_relative_l2,
                "inference_seconds_per_sample": self.inference_s,
                "error_spectrum": {k: np.asarray(v).tolist()
                                   for k, v in self.spectrum.items()}}


def _trajectories(data: OperatorData) -> int:
    per = data.attrs.get("windows_per_trajectory")
    if not per:
        raise ValueError("rollout training takes pairs from rollout_pairs(..., steps=1) "
                         "split by trajectory (OperatorData.split_trajectories)")
    return data.num_samples // per


def train_and_evaluate(name: str, train: OperatorData, test: OperatorData,
                       config: TrainingConfig, *, model_key: PRNGKeyArray,
                       train_key: PRNGKeyArray, source: Any = None,
                       checkpoint_dir: str | Path | None = None,
                       progress: Any = "auto") -> OperatorRun:
    """Build model `name` for `train` with `config.options`, train it, score it.

    **Arguments:**

    - `name`: `fno`, `deeponet`, `multionet` or `dymixop` (`operators.MODELS`).
    - `train`, `test`: the pairs (for rollout training: one-step pairs of whole
      trajectories, `rollout_pairs(source, steps=1).split_trajectories(...)`).
    - `config`: a `TrainingConfig` (e.g. `operators.tuned_config(dataset, name)`).
    - `model_key`, `train_key`: the initialisation and the batch-order keys.
    - `source`: the data set (or its path) the pairs came from; needed when
      `config.rollout_steps > 1` or `config.curriculum` is set (the K-step windows are
      taken from it, for the trajectories of `train`).
    - `checkpoint_dir`, `progress`: as for `train_operator`.

    **Returns:** an `OperatorRun`; test scores are one-step errors for time steppers.
    """
    protocol("config", config, ("options", "steps", "rollout_steps", "curriculum"),
             "a TrainingConfig (operators.tuned_config)")
    spec = model_spec(name, train, **config.options)
    model = build_model(spec, key=model_key)
    rollout = config.curriculum or config.rollout_steps > 1
    if rollout and source is None:
        raise ValueError("rollout training needs source=, the data set the pairs came from")
    start = time.perf_counter()
    if config.curriculum:
        result = train_rollout_curriculum(model, source, list(config.curriculum),
                                          trajectories=_trajectories(train), key=train_key,
                                          weight_decay=config.weight_decay,
                                          checkpoint_dir=checkpoint_dir, progress=progress)
    else:
        fit_data = train
        if config.rollout_steps > 1:
            windows = rollout_pairs(source, steps=config.rollout_steps)
            first = np.arange(_trajectories(train) * windows.attrs["windows_per_trajectory"])
            fit_data = windows.select(first).astype(train.inputs.dtype)
        result = train_operator(model, fit_data, steps=config.steps, key=train_key,
                                batch_size=config.batch_size, optimizer=config.optimizer(),
                                checkpoint_dir=checkpoint_dir, progress=progress,
                                rollout_steps=config.rollout_steps)
    wall = time.perf_counter() - start
    trained = result.model
    return OperatorRun(name, trained, spec, config, np.asarray(result.losses),
                       config.total_steps if config.curriculum else result.step,
                       result.status, wall, evaluate(trained, train), evaluate(trained, test),
                       inference_seconds(trained, test), error_spectrum(trained, test))


def save_run(run: OperatorRun, test: OperatorData, out: str | Path,
             extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Save `run` under the folder `out`: the model (`NAME.eqx`, `save_model`), its record
    (`NAME.json`: `run.record()` and `extra`) and three figures (`NAME_loss.png`,
    `NAME_sample.png` with the first test sample, `NAME_spectrum.png`).

    **Returns:** the record written, with the paths of the model and the figures.
    """
    from sciopt.bench import atomic_open

    protocol("run", run, ("record", "name", "model", "spec", "losses", "spectrum"),
             "an OperatorRun (train_and_evaluate)")
    check_data("test", test)
    out = directory("out", out)
    if extra is not None and not isinstance(extra, dict):
        raise ValueError(f"extra must be a dict of record fields; got {type(extra).__name__}")
    out.mkdir(parents=True, exist_ok=True)
    record = {**run.record(), **(extra or {})}
    record["saved"] = str(save_model(out / f"{run.name}.eqx", run.model, run.spec,
                                     {"test_relative_l2": run.test_relative_l2}))
    record["figures"] = _figures(out, run, test)
    with atomic_open(out / f"{run.name}.json", "w") as f:
        json.dump(record, f, indent=2, default=str)
    return record


def _figures(out: Path, run: OperatorRun, test: OperatorData) -> list[str]:
    from sciopt.bench.plots import plt, save  # selects the Agg backend: only when saving

    name, spectrum = run.name, run.spectrum
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.semilogy(run.losses)
    ax.set_xlabel("step")
    ax.set_ylabel("mean relative L2 (batch)")
    ax.set_title(f"{name}: training loss")
    curve = save(fig, out / f"{name}_loss.png")

    pred = np.asarray(predict(run.model, jnp.asarray(test.inputs[:1]),
                              jnp.asarray(test.coords)))[0, 0]
    true = test.outputs[0, 0]
    panels = [("input", test.inputs[0, 0]), ("reference", true), ("prediction", pred),
              ("error", pred - true)]
    fig, axes = plt.subplots(1, 4, figsize=(14, 3.2))
    for ax, (title, field) in zip(axes, panels, strict=True):
        if field.ndim == 1:
            ax.plot(test.coords[:, 0], field)
        else:
            im = ax.imshow(field.T, origin="lower",
                           cmap="RdBu_r" if title == "error" else "viridis")
            fig.colorbar(im, ax=ax, shrink=0.8)
        ax.set_title(title)
    fig.suptitle(f"{name}: first test sample")
    sample = save(fig, out / f"{name}_sample.png")

    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.semilogy(spectrum["wavenumber"], spectrum["error"], label="test error")
    ax.semilogy(spectrum["wavenumber"], spectrum["target"], "k--", lw=0.8, label="target")
    if np.min(spectrum["error"]) > 0:  # the target's round-off tail would squash the error
        ax.set_ylim(bottom=0.1 * np.min(spectrum["error"]))
    ax.set_xlabel("wavenumber shell |k|")
    ax.set_ylabel("rms amplitude per shell")
    ax.set_title(f"{name}: error spectrum (operators.error_spectrum)")
    ax.legend()
    shells = save(fig, out / f"{name}_spectrum.png")
    return [curve, sample, shells]

