"""`train_pinn`: a PINN trained on a problem through `sciopt.train.fit`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jax
import optax
from jaxtyping import PRNGKeyArray

from sciopt import problems
from sciopt.optim import gauss_newton, multi_adam
from sciopt.train import FitResult, fit
from sciopt.validate import one_of, positive_float, positive_int

from ._loss import Loss
from ._model import PINN

OPTIMIZERS = ("adam", "multiadam", "lbfgs", "gauss-newton")


def make_optimizer(name: str, learning_rate: float, steps: int, num_groups: int
                   ) -> tuple[Any, bool]:
    """`(optimizer, grouped_gradients)` for `name` in `OPTIMIZERS`: Adam / MultiAdam with a
    cosine decay of `learning_rate` over `steps`; L-BFGS (`optax.lbfgs`, zoom line search;
    no learning rate); Gauss–Newton with Levenberg–Marquardt damping starting at
    `learning_rate` (`sciopt.optim.gauss_newton`)."""
    one_of("optimizer", name, OPTIMIZERS)
    if name == "lbfgs":
        return optax.lbfgs(), False
    if name == "gauss-newton":
        return gauss_newton(positive_float("learning_rate", learning_rate)), False
    schedule = optax.cosine_decay_schedule(positive_float("learning_rate", learning_rate),
                                           positive_int("steps", steps), alpha=1e-2)
    if name == "multiadam":
        return multi_adam(schedule, b1=0.9, b2=0.999, num_groups=num_groups), True
    return optax.adam(schedule), False


def train_pinn(problem: problems.AbstractProblem, model: PINN, *, steps: int,
               key: PRNGKeyArray, optimizer: str = "adam", learning_rate: float = 1e-3,
               loss: Loss | None = None, checkpoint_dir: str | Path | None = None,
               progress: Any = "auto", mesh: jax.sharding.Mesh | None = None,
               **loss_options: Any) -> FitResult:
    """Train `model` on `problem` for `steps` optimiser steps with fresh collocation points
    every step (`pinn_loss(problem, **loss_options)`, or `lpinn_loss` for a
    `LagrangianPINN`, unless `loss` is given).

    `optimizer`: `"adam"` or `"multiadam"` (per-group moments over the loss groups, Yao et
    al. 2023), both with a cosine-decayed `learning_rate`; `"gauss-newton"`
    (Levenberg–Marquardt on the step's collocation points; for small networks, as the
    Jacobian is dense) or `"lbfgs"` (which defaults to one fixed set of points,
    `resample=False`, for its line search and curvature pairs); these two suit refining a
    model Adam has trained. Checkpoints, resume, progress and the NaN guard are
    `sciopt.train.fit`'s. With `mesh` (`sciopt.distributed.data_mesh()`), the collocation
    points are sharded over its first axis and the parameters replicated (data parallel);
    the result equals the one-device run to round-off.
    """
    if optimizer == "lbfgs":
        loss_options.setdefault("resample", False)
    if loss is None:
        if mesh is not None:
            loss_options["mesh"] = mesh
        loss = model.default_loss(problem, **loss_options)
    _, terms = jax.eval_shape(lambda m: loss(m, None, jax.random.key(0)), model)
    opt, grouped = make_optimizer(optimizer, learning_rate, steps, len(terms))
    return fit(loss, model, opt, {}, steps, key=key, checkpoint_dir=checkpoint_dir,
               progress=progress, mesh=mesh, grouped_gradients=grouped,
               description=f"{type(model).__name__} ({optimizer})", chunk_size=min(500, steps))
