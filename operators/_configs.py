"""The benchmark data sets of the operators and the tuned training configuration of every
model on each of them (CPU, GPU and quick), as library data.

The figures behind each choice (the runs that chose it, with their test errors) are in
`docs/methods/operators.md`, "Tuned configurations"; `sciopt bench operator` and
`sciopt train-operator --dataset NAME` read them from here.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import optax

from sciopt import data as sdata
from sciopt.validate import one_of, positive_float, positive_int

from ._data import OperatorData, operator_pairs, rollout_pairs

Stage = tuple[int, int, int, float]  # (rollout steps K, optimiser steps, batch, learning rate)
Target = Literal["cpu", "gpu", "quick"]


@dataclasses.dataclass(frozen=True)
class OperatorDataset:
    """A data set of the operator benchmark: how our solvers generate it, its train / test
    sizes and the published figures it is compared with.

    **Arguments:**

    - `name`: the data set's name (`burgers_128`, ...).
    - `problem`, `params`: the registered problem and its parameters.
    - `generator`: the other arguments of `sciopt.data.generate_dataset` (resolution,
      saved times, covariance).
    - `sizes`: `(train, test)` samples (trajectories for a time-stepping set).
    - `quick_sizes`: the sizes of `sciopt bench quick`, or `None` if the quick run skips it.
    - `anchors`: model name -> the published figure it is compared with.
    - `time_stepping`: whether the models learn one saved step -> the next (grid models
      only, trained through a rollout curriculum and scored on the rollout too).
    - `finer`: the data set of the same distribution on a finer grid, on which the grid
      models are scored zero-shot.
    """

    name: str
    problem: str
    params: Mapping[str, Any]
    generator: Mapping[str, Any]
    sizes: tuple[int, int]
    quick_sizes: tuple[int, int] | None = None
    anchors: Mapping[str, str] = dataclasses.field(default_factory=dict)
    time_stepping: bool = False
    finer: str | None = None

    def file(self, samples: int | None = None, *, data_dir: str | Path | None = None,
             progress: bool = True) -> Path:
        """The cached HDF5 file of `samples` samples (default: train + test), generated
        by our solver (seed 0, float64) on first use under `data_dir` (default
        `$SCIOPT_DATA`, else `data/`); the file name carries a hash of the arguments."""
        samples = positive_int("samples", samples if samples is not None else sum(self.sizes))
        args = {"problem": self.problem, "params": dict(self.params), **self.generator}
        key = hashlib.sha256(json.dumps({**args, "samples": samples}, sort_keys=True).encode()
                             ).hexdigest()[:10]
        folder = Path(data_dir or os.environ.get("SCIOPT_DATA") or "data")
        path = folder / f"{self.name}_{samples}_{key}.h5"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            if progress:
                print(f"operator: generating {self.name} ({samples} samples) -> {path}",
                      flush=True)
            sdata.generate_dataset(path, self.problem, samples=samples, seed=0,
                                   dtype="float64", progress="off",
                                   params=dict(self.params), **self.generator)
        return path

    def pairs(self, path: str | Path, n_train: int, n_test: int
              ) -> tuple[OperatorData, OperatorData]:
        """`(train, test)` pairs of the file at `path`: the first `n_train` samples and the
        `n_test` after them, or for a time-stepping set every consecutive pair of saved
        times of the first `n_train` trajectories and of the `n_test` after them."""
        if self.time_stepping:
            return rollout_pairs(path, steps=1).split_trajectories(n_train, n_test)
        return operator_pairs(path).split(n_train, n_test)


@dataclasses.dataclass(frozen=True)
class TrainingConfig:
    """How one operator model is trained on one data set.

    **Arguments:**

    - `options`: the model's constructor options (`operators.model_spec(name, data,
      **options)`).
    - `steps`, `batch_size`, `learning_rate`, `weight_decay`: AdamW with the learning rate
      decayed by a cosine to 1% over `steps` (`optimizer()`).
    - `rollout_steps`: for time steppers, train through the model's own `K`-step rollout
      (`train_operator(..., rollout_steps=K)`).
    - `curriculum`: for time steppers, the stages `(K, steps, batch, learning rate)` of
      `train_rollout_curriculum`, which then replace the five above.
    """

    options: Mapping[str, Any]
    steps: int
    batch_size: int = 20
    learning_rate: float = 1e-3
    weight_decay: float = 1e-4
    rollout_steps: int = 1
    curriculum: tuple[Stage, ...] | None = None

    def __post_init__(self):
        positive_int("steps", self.steps)
        positive_int("batch_size", self.batch_size)
        positive_float("learning_rate", self.learning_rate)
        positive_int("rollout_steps", self.rollout_steps)
        if self.curriculum is not None:
            for stage in self.curriculum:
                if len(stage) != 4:
                    raise ValueError(f"a curriculum stage is (K, steps, batch, learning "
                                     f"rate); got {stage!r}")

    @property
    def total_steps(self) -> int:
        """Optimiser steps in all (over every curriculum stage)."""
        if self.curriculum:
            return sum(stage[1] for stage in self.curriculum)
        return self.steps

    def optimizer(self) -> optax.GradientTransformation:
        """AdamW with the cosine-decayed learning rate (the operators' training rule)."""
        schedule = optax.cosine_decay_schedule(self.learning_rate, self.steps, alpha=1e-2)
        return optax.adamw(schedule, weight_decay=self.weight_decay)


def _dataset(name, problem, params, generator, sizes, quick=None, anchors=None, **kw):
    return OperatorDataset(name, problem, params, generator, sizes, quick, anchors or {}, **kw)


_BURGERS = {"resolution": 128, "num_times": 2, "t_final": 1.0, "covariance": "matern"}
DATASETS: dict[str, OperatorDataset] = {d.name: d for d in (
    _dataset("burgers_128", "burgers1d_periodic", {"nu": 0.1, "length": 1.0}, _BURGERS,
             (1000, 200), (40, 20),
             {"deeponet": "1.45e-2 (DGNO)", "multionet": "5.0e-3 (DGNO)",
              "fno": "9e-4 (DGNO)"}, finer="burgers_1024"),
    _dataset("burgers_1024", "burgers1d_periodic", {"nu": 0.1, "length": 1.0},
             {**_BURGERS, "resolution": 1024}, (1000, 200),
             anchors={"fno": "1.60e-2 (FNO paper)"}),
    _dataset("darcy_29", "darcy2d", {}, {"resolution": 29}, (1000, 200),
             anchors={"deeponet": "1.61e-2 (DGNO, piecewise)",
                      "multionet": "1.49e-2 (DGNO, piecewise)",
                      "fno": "2e-4 (DGNO, piecewise)"}, finer="darcy_85"),
    _dataset("darcy_85", "darcy2d", {}, {"resolution": 85}, (1000, 200),
             anchors={"fno": "9.8e-3 (FNO paper)"}),
    _dataset("navier_stokes_32", "navier_stokes2d", {"initial": "random", "nu": 1e-3},
             {"resolution": 32, "num_times": 11, "t_final": 5.0}, (160, 40),
             time_stepping=True),
)}

# Sizes and schedules; docs/methods/operators.md ("Tuned configurations") gives the runs
# behind every entry. CPU: each model <= 15 minutes per data set on 2 cores.
_CPU_MODELS = {"deeponet": {"basis": 64, "width": 64, "depth": 3},
               "multionet": {"width": 64, "layers": 5, "sum_layers": 4},
               "fno": {"width": 32, "layers": 4, "projection": 64},
               "dymixop": {"hidden": 24, "layers": 4}}
_CPU_SCHEDULE = {"burgers_128": (10_000, 20, 3e-3), "burgers_1024": (1500, 20, 3e-3),
                 "darcy_29": (2000, 20, 3e-3), "darcy_85": (500, 10, 3e-3),
                 "navier_stokes_32": (2000, 20, 3e-3)}
_GPU_MODELS = {"deeponet": {"basis": 128, "width": 128, "depth": 4},
               "multionet": {"width": 100, "layers": 6, "sum_layers": 5},
               "fno": {"width": 64, "layers": 4, "projection": 128},
               "dymixop": {"hidden": 64, "layers": 4}}
_GPU_SCHEDULE = (25_000, 20, 1e-3)  # 500 epochs of 1000 samples, the FNO paper's
_QUICK_MODELS = {"deeponet": {"basis": 16, "width": 32, "depth": 2},
                 "multionet": {"width": 32, "layers": 3, "sum_layers": 2},
                 "fno": {"width": 8, "layers": 2, "projection": 16, "modes": 8},
                 "dymixop": {"hidden": 8, "layers": 2, "modes": 8}}
# Per case (data set, model) on top of the defaults: "steps" / "lr" change the schedule,
# every other key is a constructor option.
_CPU_CASES = {("burgers_128", "deeponet"): {"steps": 40_000, "lr": 1e-3},
              ("burgers_128", "multionet"): {"steps": 40_000, "lr": 3e-4, "width": 100,
                                             "layers": 6, "sum_layers": 5},
              ("burgers_1024", "multionet"): {"steps": 6000, "lr": 1e-3},
              ("burgers_1024", "deeponet"): {"steps": 40_000, "lr": 1.25e-4},
              ("darcy_29", "deeponet"): {"steps": 40_000, "lr": 3e-4, "basis": 128,
                                         "width": 128, "depth": 4}}
_GPU_CASES = {("burgers_128", "deeponet"): _CPU_MODELS["deeponet"],
              ("burgers_1024", "deeponet"): {**_CPU_MODELS["deeponet"], "lr": 1.25e-4},
              ("burgers_128", "multionet"): {"lr": 3e-4},
              ("navier_stokes_32", "dymixop"): {"hidden": 24}}
# DyMixOp's own settings, on every target but the quick one.
_DYMIXOP_PERIODIC = {"coordinates": False, "mixing_start": "spectral", "stencil_power": 1.0,
                     "modes": 32}
_DYMIXOP_CASES = {"navier_stokes_32": {"stencil_power": 1.0},
                  "burgers_128": _DYMIXOP_PERIODIC, "burgers_1024": _DYMIXOP_PERIODIC}
_CURRICULUM = {"navier_stokes_32": ((1, 1000, 20, 3e-3), (2, 500, 10, 1e-3),
                                    (4, 300, 5, 5e-4), (8, 200, 2, 2.5e-4))}


def tuned_config(dataset: str, model: str, *, target: Target = "cpu") -> TrainingConfig:
    """The tuned configuration of `model` (`fno`, `deeponet`, `multionet`, `dymixop`) on the
    benchmark data set `dataset` (a key of `DATASETS`).

    `target`: `"cpu"` (each case within 15 minutes on 2 cores), `"gpu"` (the papers' sizes,
    25 000 steps) or `"quick"` (tiny models, 60 steps: checks that a case runs).
    """
    one_of("dataset", dataset, tuple(DATASETS))
    one_of("model", model, tuple(_CPU_MODELS))
    one_of("target", target, ("cpu", "gpu", "quick"))
    if DATASETS[dataset].time_stepping and model not in ("fno", "dymixop"):
        raise ValueError(f"{dataset} is a time-stepping set: it takes a grid model (fno, "
                         f"dymixop), not {model}")
    steps, batch, lr = _CPU_SCHEDULE[dataset]
    if target == "quick":
        return TrainingConfig(dict(_QUICK_MODELS[model]), 60, batch, lr)
    case = (dataset, model)
    if target == "gpu":
        steps, batch, lr = _GPU_SCHEDULE
        options = {**_GPU_MODELS[model], **_GPU_CASES.get(case, {})}
    else:
        options = {**_CPU_MODELS[model], **_CPU_CASES.get(case, {})}
    steps, lr = options.pop("steps", steps), options.pop("lr", lr)
    if model == "dymixop":
        options |= _DYMIXOP_CASES.get(dataset, {})
    return TrainingConfig(options, steps, batch, lr, curriculum=_CURRICULUM.get(dataset))
