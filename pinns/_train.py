"""`train_pinn`: a PINN trained on a problem through `sciopt.train.fit`."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, ClassVar

import jax
import optax
from jaxtyping import PRNGKeyArray

from sciopt import problems
from sciopt.optim import gauss_newton, multi_adam
from sciopt.train import FitResult, fit
from sciopt.validate import one_of, positive_float, positive_int, protocol

from ._loss import Loss
from ._model import PINN

OPTIMIZERS = ("adam", "multiadam", "lbfgs", "gauss-newton")


@dataclasses.dataclass(frozen=True)
class Adam:
    """Adam with the learning rate decayed by a cosine to 1% over the run's steps."""

    learning_rate: float = 1e-3
    name: ClassVar[str] = "adam"
    resample: ClassVar[bool] = True  # fresh collocation points every step

    def build(self, steps: int, num_groups: int) -> tuple[optax.GradientTransformation, bool]:
        """`(transformation, grouped_gradients)` for a run of `steps` steps on a loss of
        `num_groups` terms."""
        del num_groups
        return optax.adam(_cosine(self.learning_rate, steps)), False


@dataclasses.dataclass(frozen=True)
class MultiAdam:
    """MultiAdam (per-loss-group Adam moments; Yao et al., ICML 2023,
    `sciopt.optim.multi_adam`) with a cosine-decayed learning rate."""

    learning_rate: float = 1e-3
    b1: float = 0.9
    b2: float = 0.999
    name: ClassVar[str] = "multiadam"
    resample: ClassVar[bool] = True

    def build(self, steps: int, num_groups: int) -> tuple[optax.GradientTransformation, bool]:
        return multi_adam(_cosine(self.learning_rate, steps), b1=self.b1, b2=self.b2,
                          num_groups=num_groups), True


@dataclasses.dataclass(frozen=True)
class LBFGS:
    """L-BFGS (`optax.lbfgs`, zoom line search) on one fixed set of collocation points
    (its line search and curvature pairs need one loss); suits refining a trained model."""

    name: ClassVar[str] = "lbfgs"
    resample: ClassVar[bool] = False

    def build(self, steps: int, num_groups: int) -> tuple[optax.GradientTransformation, bool]:
        del steps, num_groups
        return optax.lbfgs(), False


@dataclasses.dataclass(frozen=True)
class GaussNewton:
    """Gauss-Newton / Levenberg-Marquardt on each step's collocation points, damping
    starting at `damping` (`sciopt.optim.gauss_newton`; the Jacobian is dense, so for small
    networks); suits refining a trained model."""

    damping: float = 1e-3
    name: ClassVar[str] = "gauss-newton"
    resample: ClassVar[bool] = True

    def build(self, steps: int, num_groups: int) -> tuple[optax.GradientTransformation, bool]:
        del steps, num_groups
        return gauss_newton(positive_float("damping", self.damping)), False


PINNOptimizer = Adam | MultiAdam | LBFGS | GaussNewton
_BY_NAME = {"adam": Adam, "multiadam": MultiAdam, "lbfgs": LBFGS, "gauss-newton": GaussNewton}


def _cosine(learning_rate: float, steps: int) -> optax.Schedule:
    return optax.cosine_decay_schedule(positive_float("learning_rate", learning_rate),
                                       positive_int("steps", steps), alpha=1e-2)


def optimizer_for(optimizer: Any, learning_rate: float = 1e-3) -> Any:
    """The optimiser object for `optimizer`: a name in `OPTIMIZERS` (with `learning_rate`,
    the damping for Gauss-Newton, unused by L-BFGS), or an object with `build(steps,
    num_groups)` (`Adam`, `MultiAdam`, `LBFGS`, `GaussNewton`, or your own), returned as
    it is."""
    if isinstance(optimizer, str):
        one_of("optimizer", optimizer, OPTIMIZERS)
        cls = _BY_NAME[optimizer]
        return cls() if cls is LBFGS else cls(learning_rate)
    if not callable(getattr(optimizer, "build", None)):
        raise ValueError(f"optimizer must be one of {OPTIMIZERS} or an object with "
                         f"build(steps, num_groups) (pinns.Adam(...), ...); got {optimizer!r}")
    return optimizer


def make_optimizer(name: Any, learning_rate: float, steps: int, num_groups: int
                   ) -> tuple[Any, bool]:
    """`(optimizer, grouped_gradients)` for `name` (see `optimizer_for`): Adam / MultiAdam
    with a cosine decay of `learning_rate` over `steps`; L-BFGS (`optax.lbfgs`, zoom line
    search; no learning rate); Gauss–Newton with Levenberg–Marquardt damping starting at
    `learning_rate` (`sciopt.optim.gauss_newton`)."""
    return optimizer_for(name, learning_rate).build(steps, num_groups)


def train_pinn(problem: problems.AbstractProblem, model: PINN, *, steps: int,
               key: PRNGKeyArray, optimizer: Any = "adam", learning_rate: float = 1e-3,
               loss: Loss | None = None, checkpoint_dir: str | Path | None = None,
               progress: Any = "auto", mesh: jax.sharding.Mesh | None = None,
               **loss_options: Any) -> FitResult:
    """Train `model` on `problem` for `steps` optimiser steps with fresh collocation points
    every step (`pinn_loss(problem, **loss_options)`, or `lpinn_loss` for a
    `LagrangianPINN`, unless `loss` is given).

    `optimizer`: an optimiser object, `pinns.Adam(lr)` or `pinns.MultiAdam(lr)` (per-group
    moments over the loss groups, Yao et al. 2023), both with a cosine-decayed learning
    rate; `pinns.GaussNewton(damping)` (Levenberg–Marquardt on the step's collocation
    points; for small networks, as the Jacobian is dense) or `pinns.LBFGS()` (which
    defaults to one fixed set of points, `resample=False`, for its line search and
    curvature pairs); these two suit refining a model Adam has trained. A name
    (`"adam"`, `"multiadam"`, `"lbfgs"`, `"gauss-newton"`) takes `learning_rate`.
    Checkpoints, resume, progress and the NaN guard are `sciopt.train.fit`'s. With `mesh`
    (`sciopt.distributed.data_mesh()`), the collocation
    points are sharded over its first axis and the parameters replicated (data parallel);
    the result equals the one-device run to round-off.
    """
    optimizer = optimizer_for(optimizer, learning_rate)
    if not optimizer.resample:
        loss_options.setdefault("resample", False)
    if loss is None:
        if mesh is not None:
            loss_options["mesh"] = mesh
        protocol("model", model, ("default_loss",), "a PINN model (pinns.pinn_for, "
                 "pinns.lpinn_for)")
        loss = model.default_loss(problem, **loss_options)
    _, terms = jax.eval_shape(lambda m: loss(m, None, jax.random.key(0)), model)
    opt, grouped = optimizer.build(steps, len(terms))
    return fit(loss, model, opt, {}, steps, key=key, checkpoint_dir=checkpoint_dir,
               progress=progress, mesh=mesh, grouped_gradients=grouped,
               description=f"{type(model).__name__} ({optimizer.name})", chunk_size=min(500, steps))
