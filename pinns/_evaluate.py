"""A trained PINN on the reference grid of its problem, and its relative L2 error there."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

from sciopt import problems
from sciopt.validate import positive_int, protocol

from ._formulation import formulation
from ._model import PINN


def predict_on_reference(problem: problems.AbstractProblem, model: PINN, *,
                         resolution: int = 128, num_times: int = 21,
                         oversample: int | None = None) -> problems.ReferenceRun:
    """The model on the grid of `problems.run_reference` (space-time for evolution problems,
    nodes for 2D steady ones, the `(x_1, x_2)` slice in high dimension), packed as a
    `ReferenceRun` whose `u` is the prediction and `exact` the reference.

    `oversample`: the reference is solved on a grid `oversample` times finer and read at
    every `oversample`-th point, so that its own error does not enter the comparison.
    Default 8 for 1D evolution problems without a closed form (the 128-point spectral
    solution of Allen–Cahn at eps = 1e-4 is itself 7e-3 away from the converged one; at
    1024 points, 2e-5), 1 otherwise."""
    protocol("problem", problem, ("domain", "parameters"), "a problem (sciopt.problems.get)")
    evolution_1d = problem.domain.dim == 1 and hasattr(problem, "t_final")
    if oversample is None:
        oversample = 8 if evolution_1d and not hasattr(problem, "solution") else 1
    if positive_int("oversample", oversample) > 1 and not evolution_1d:
        raise ValueError(f"oversample applies to 1D evolution problems; got "
                         f"{type(problem).__name__}")
    run = problems.run_reference(problem, resolution * oversample, num_times=num_times)
    ref = run.exact if run.exact is not None else run.u
    if oversample > 1:
        run = dataclasses.replace(run, coords={"x": run.coords["x"][::oversample]})
        ref = ref[:, ::oversample]
    if run.kind == "time_1d":
        xx, tt = np.meshgrid(run.coords["x"], run.t, indexing="xy")
        z = np.stack([xx.ravel(), tt.ravel()], 1)
    elif run.kind == "time_2d":
        tt, xx, yy = np.meshgrid(run.t, run.coords["x"], run.coords["y"], indexing="ij")
        z = np.stack([xx.ravel(), yy.ravel(), tt.ravel()], 1)
    else:
        xx, yy = np.meshgrid(run.coords["x"], run.coords["y"], indexing="ij")
        z = np.zeros((xx.size, problem.domain.dim))
        z[:, 0], z[:, 1] = xx.ravel(), yy.ravel()
    pred = np.asarray(jax.vmap(model)(jnp.asarray(z))).reshape(xx.shape)
    if run.kind == "slice":
        pred = np.where(np.isnan(ref), np.nan, pred)
    return problems.ReferenceRun(run.kind, run.coords, run.t, pred, ref)


def relative_error(problem: problems.AbstractProblem, model: PINN, *, resolution: int = 128,
                   num_times: int = 21, points: int = 4096,
                   oversample: int | None = None) -> float:
    """Relative L2 error of `model` against the problem's reference: on the reference's
    space-time grid (evolution; the reference solved `oversample` times finer, see
    `predict_on_reference`), on its nodes (2D steady), or at `points` random interior
    points against the exact solution (high-dimensional problems)."""
    formulation(problem)
    if problem.domain.dim > 2:
        pts = problem.domain.sample_interior(points, key=jax.random.key(1))
        exact = jax.vmap(problem.solution)(pts)
        pred = jax.vmap(model)(pts)
        return float(jnp.linalg.norm(pred - exact) / jnp.linalg.norm(exact))
    return predict_on_reference(problem, model, resolution=resolution,
                                num_times=num_times, oversample=oversample).relative_l2_error
