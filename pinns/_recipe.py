"""The PINNs' train -> evaluate -> record recipe: a `PINNRecipe` says how a network is
trained on a problem (model, optimiser objects, steps, points, refinement, time marching,
loss options); `train_and_evaluate` runs it and scores the result against the problem's
reference; `save_run` writes the figure and the JSON record. `sciopt solve --method pinn`
and `sciopt bench pinn` both call these; `BENCHMARK_CASES` holds the benchmark's cases.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, NamedTuple

import jax
import numpy as np
from jaxtyping import PRNGKeyArray

from sciopt import problems
from sciopt.validate import directory, one_of, positive_int, prng_key, protocol

from ._evaluate import predict_on_reference, relative_error
from ._formulation import pinn_for
from ._lagrangian import lpinn_for
from ._marching import train_pinn_marching
from ._model import PINN
from ._train import Adam, GaussNewton, MultiAdam, optimizer_for, train_pinn

_LABELS = {"pinn": "PINN", "lpinn": "Lagrangian PINN"}


@dataclasses.dataclass(frozen=True)
class PINNRecipe:
    """How a physics-informed network is trained on a problem.

    **Arguments:**

    - `model`: `"pinn"` (`pinn_for`) or `"lpinn"` (a Lagrangian PINN, `lpinn_for`).
    - `width`, `depth`, `periodic_modes`, `hard_boundary`: the network (`pinn_for`).
    - `optimizer`, `steps`: the optimiser object (`pinns.Adam(lr)`, `MultiAdam`, `LBFGS`,
      `GaussNewton`) and its steps (per window when marching).
    - `points`: residual collocation points per step; the initial (and, without a hard
      boundary, boundary) points are `max(min_side_points, points // 4)`.
    - `refine`, `refine_steps`, `refine_points`: an optional second optimiser run on the
      trained network (e.g. `GaussNewton()`), with its own point count.
    - `windows`: time marching over this many windows (`train_pinn_marching`).
    - `loss_options`: further `pinn_loss` options (weights, STDE samples, sampling, ...).
    """

    model: Literal["pinn", "lpinn"] = "pinn"
    width: int = 64
    depth: int = 4
    periodic_modes: int = 4
    hard_boundary: bool = False
    optimizer: Any = Adam()
    steps: int = 5000
    points: int = 1024
    refine: Any = None
    refine_steps: int = 0
    refine_points: int | None = None
    windows: int | None = None
    min_side_points: int = 64
    loss_options: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        one_of("model", self.model, tuple(_LABELS))
        for name in ("width", "depth", "steps", "points", "min_side_points"):
            positive_int(name, getattr(self, name))
        optimizer_for(self.optimizer)
        if self.refine is not None:
            optimizer_for(self.refine)
            positive_int("refine_steps", self.refine_steps)
        if self.windows is not None:
            positive_int("windows", self.windows)
            if self.model != "pinn":
                raise ValueError("time marching (windows) applies to model='pinn'")
        if self.model == "lpinn" and self.hard_boundary:
            raise ValueError("hard_boundary applies to model='pinn'")

    def describe(self) -> str:
        """The optimisers in words, e.g. `adam + gauss-newton`, with the windows."""
        text = self.optimizer.name + (f" + {self.refine.name}" if self.refine else "")
        return f"time marching, {self.windows} windows: {text}" if self.windows else text

    def point_options(self, n: int) -> dict[str, int]:
        """The `pinn_loss` point counts for `n` residual points."""
        side = max(self.min_side_points, n // 4)
        extra = {}
        if self.model == "pinn":  # no boundary term where the model meets it exactly
            extra = {"boundary_points": 0 if self.hard_boundary else side}
        return dict(residual_points=n, initial_points=side, **extra)


@dataclasses.dataclass
class PINNRun:
    """What `train_and_evaluate` returns: the `recipe`, the trained `model`, the `losses`
    of every step in order (refinement and windows included), `steps` and `refine_steps`
    run (totals over the windows), `wall_s` (training), `relative_l2` against the
    problem's reference and `status` (`fit`'s, of the last stage)."""

    recipe: PINNRecipe
    model: PINN
    losses: np.ndarray
    steps: int
    refine_steps: int
    wall_s: float
    relative_l2: float
    status: str

    def record(self) -> dict[str, Any]:
        r = self.recipe
        return {"method": r.model, "optimizer": r.optimizer.name,
                "optimizer_settings": _settings(r.optimizer),
                "refine": r.refine.name if r.refine else None,
                "refine_settings": _settings(r.refine) if r.refine else None,
                "steps": self.steps, "refine_steps": self.refine_steps,
                "residual_points": r.points, "refine_points": r.refine_points,
                "width": r.width, "depth": r.depth, "windows": r.windows,
                "relative_l2_error": self.relative_l2,
                "final_loss": float(self.losses[-1]) if len(self.losses) else None,
                "wall_s": self.wall_s, "status": self.status}


def _settings(opt: Any) -> dict[str, Any]:
    return dataclasses.asdict(opt) if dataclasses.is_dataclass(opt) else {}


def build_model(problem: problems.AbstractProblem, recipe: PINNRecipe, *,
                key: PRNGKeyArray) -> PINN:
    """The untrained network of `recipe` for `problem`."""
    protocol("recipe", recipe, ("model", "width", "depth", "periodic_modes", "hard_boundary"),
             "a pinns.PINNRecipe")
    if recipe.model == "lpinn":
        return lpinn_for(problem, width=recipe.width, depth=recipe.depth,
                         periodic_modes=recipe.periodic_modes, key=key)
    return pinn_for(problem, width=recipe.width, depth=recipe.depth,
                    periodic_modes=recipe.periodic_modes, hard_boundary=recipe.hard_boundary,
                    key=key)


def train_and_evaluate(problem: problems.AbstractProblem, recipe: PINNRecipe, *,
                       key: PRNGKeyArray, checkpoint_dir: str | Path | None = None,
                       progress: Any = "auto", resolution: int = 128) -> PINNRun:
    """Train the network of `recipe` on `problem` and score it against the reference.

    **Arguments:**

    - `problem`: a registered problem with a PINN form (`problems.get(...)`).
    - `recipe`: a `PINNRecipe`.
    - `key`: split into the initialisation and the training keys; the refinement runs
      on `fold_in(training key, 1)`.
    - `checkpoint_dir`: checkpoints (the refinement's under `refine/`); a rerun resumes.
    - `progress`: as for `sciopt.train.fit`.
    - `resolution`: the grid of the error against the reference (`relative_error`).

    **Returns:** a `PINNRun`.
    """
    prng_key("key", key)
    key_model, key_train = jax.random.split(key)
    model = build_model(problem, recipe, key=key_model)  # a clear error before any work
    resolution = positive_int("resolution", resolution)
    ckpt = directory("checkpoint_dir", checkpoint_dir) if checkpoint_dir else None
    options = dict(recipe.loss_options)
    refine_points = recipe.refine_points or recipe.points
    start = time.perf_counter()
    if recipe.windows:
        result = train_pinn_marching(
            problem, model, windows=recipe.windows, steps=recipe.steps, key=key_train,
            optimizer=recipe.optimizer, refine=recipe.refine,
            refine_steps=recipe.refine_steps,
            checkpoint_dir=ckpt, progress=progress, **recipe.point_options(recipe.points),
            **options)
        losses, status = [np.asarray(result.losses)], "ok"
        steps = recipe.windows * recipe.steps
        refine_steps = recipe.windows * recipe.refine_steps if recipe.refine else 0
    else:
        result = train_pinn(problem, model, steps=recipe.steps, key=key_train,
                            optimizer=recipe.optimizer, checkpoint_dir=ckpt,
                            progress=progress, **recipe.point_options(recipe.points),
                            **options)
        losses, steps, refine_steps = [np.asarray(result.losses)], recipe.steps, 0
        if recipe.refine:
            result = train_pinn(problem, result.model, steps=recipe.refine_steps,
                                key=jax.random.fold_in(key_train, 1), optimizer=recipe.refine,
                                checkpoint_dir=ckpt / "refine" if ckpt else None,
                                progress=progress, **recipe.point_options(refine_points),
                                **options)
            losses.append(np.asarray(result.losses))
            refine_steps = recipe.refine_steps
        status = result.status
    wall = time.perf_counter() - start
    error = relative_error(problem, result.model, resolution=resolution)
    return PINNRun(recipe, result.model, np.concatenate(losses), steps, refine_steps, wall,
                   error, status)


def save_run(run: PINNRun, problem: problems.AbstractProblem, name: str, out: str | Path,
             extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Save a figure of `run`'s prediction and error on the reference grid
    (`NAME_METHOD.png`) and its JSON record (`NAME_METHOD.json`: `run.record()`, the
    problem's name and parameters, and `extra`) under the folder `out`.

    **Returns:** the record written (with the figure's path).
    """
    from sciopt.bench import atomic_open

    protocol("run", run, ("recipe", "model", "record", "relative_l2"),
             "a PINNRun (pinns.train_and_evaluate)")
    protocol("problem", problem, ("domain", "parameters"), "a problem (sciopt.problems.get)")
    out = directory("out", out)
    if extra is not None and not isinstance(extra, dict):
        raise ValueError(f"extra must be a dict of record fields; got {type(extra).__name__}")
    method = run.recipe.model
    shown = predict_on_reference(problem, run.model, resolution=128)
    png = out / f"{name}_{method}.png"
    problems.plot_reference(shown, f"{name}: {_LABELS[method]} ({run.recipe.describe()}), "
                                   f"relative L2 {run.relative_l2:.2e}", png)
    record = {"problem": name, "parameters": problem.parameters, **run.record(),
              **(extra or {}), "figure": str(png)}
    with atomic_open(out / f"{name}_{method}.json", "w") as f:
        json.dump(record, f, indent=2, default=str)
    return record


class PINNCase(NamedTuple):
    """A case of `sciopt bench pinn`: the problem and its parameters (full size, and the
    quick run's if they differ), the published figure and our goal, the full-size recipe
    and the quick run's `(steps, refine steps, points)` (0 steps: full size only)."""

    problem: str
    params: dict[str, Any]
    quick_params: dict[str, Any] | None
    anchor: str
    goal: str
    recipe: PINNRecipe
    quick: tuple[int, int, int]

    def quick_recipe(self) -> PINNRecipe:
        steps, refine_steps, points = self.quick
        return dataclasses.replace(self.recipe, steps=steps, refine_steps=refine_steps,
                                   points=points,
                                   refine_points=points if self.recipe.refine_points else None)


def _bench(problem, *, quick, params=None, quick_params=None, anchor="—", goal="—", **kw):
    return PINNCase(problem, params or {}, quick_params, anchor, goal,
                    PINNRecipe(min_side_points=100, **kw), quick)


_GAUSSIAN_50 = {"c": 50.0, "initial": "gaussian"}
_HIGH_DIM = {"stde_samples": 16}
# The cases of `sciopt bench pinn` (issue #7); each full-size case runs within 20 minutes
# on 2 CPU cores.
BENCHMARK_CASES = [
    _bench("advection1d", params=_GAUSSIAN_50, steps=3000, quick=(100, 0, 256),
           anchor="PINN fails (> 0.5)", goal="PINN > 0.5"),
    _bench("advection1d", params=_GAUSSIAN_50, model="lpinn", width=32, steps=3000,
           refine=GaussNewton(), refine_steps=100, loss_options={"weights": {"flow": 100.0}},
           quick=(100, 3, 256), anchor="PINN fails (> 0.5)", goal="LPINN <= 1e-2"),
    _bench("burgers1d_periodic", width=32, steps=3000, points=2048, quick=(100, 0, 256),
           anchor="PINNacle PINN 1.45e-2", goal="<= 1e-3"),
    _bench("burgers1d_periodic", width=32, steps=3000, points=2048, refine=GaussNewton(),
           refine_steps=100, refine_points=4096, quick=(100, 3, 256),
           anchor="PINNacle PINN 1.45e-2", goal="<= 1e-3"),
    _bench("allen_cahn1d", width=32, steps=3000, points=2048,
           loss_options={"weights": {"initial": 100.0}}, quick=(100, 0, 256),
           anchor="jaxpi 5.37e-5 (GPU, long)", goal="<= 1e-3 in 20 min (CPU)"),
    # Time marching: steps and refine steps per window, each window warm-started; a
    # full-size case only (each window compiles its own two training loops).
    _bench("allen_cahn1d", width=32, depth=3, steps=300, points=2048, refine=GaussNewton(),
           refine_steps=150, windows=4, periodic_modes=6,
           loss_options={"weights": {"initial": 100.0}}, quick=(0, 0, 256),
           anchor="jaxpi 5.37e-5 (GPU, long)", goal="<= 1e-3 in 20 min (CPU)"),
    _bench("helmholtz2d", steps=3000, quick=(100, 0, 256), goal="MultiAdam < Adam"),
    _bench("helmholtz2d", optimizer=MultiAdam(), steps=3000, quick=(100, 0, 256),
           goal="MultiAdam < Adam"),
    # Multiscale: sin(2 pi x) sin(8 pi y) + e^x y, a source ~ 700 times the boundary data.
    _bench("poisson2d", params={"a": 2, "b": 8}, steps=3000, quick=(100, 0, 256),
           goal="MultiAdam < Adam"),
    _bench("poisson2d", params={"a": 2, "b": 8}, optimizer=MultiAdam(), steps=3000,
           quick=(100, 0, 256), goal="MultiAdam < Adam"),
    # Adam moves each weight ~lr per step and the solution's size grows like sqrt(d)
    # (u ~ sin(1) sum_i c_i (1 - |x|^2)), so the larger d takes the larger rate.
    _bench("poisson_highdim", params={"dim": 1000}, quick_params={"dim": 100}, depth=3,
           steps=6000, points=100, optimizer=Adam(3e-3), hard_boundary=True,
           loss_options=_HIGH_DIM, quick=(50, 0, 100), anchor="STDE paper (GPU)",
           goal="<= 1e-2"),
    _bench("poisson_highdim", params={"dim": 10000}, depth=3, steps=3000, points=100,
           optimizer=Adam(1e-2), hard_boundary=True, loss_options=_HIGH_DIM,
           quick=(0, 0, 100), anchor="STDE paper (GPU)", goal="<= 1e-2"),
]
