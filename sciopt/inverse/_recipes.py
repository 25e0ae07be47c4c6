"""The worked inverse problem of each registered problem that has one, as a recipe
(solve -> figure -> record) found by the problem's registered name: `sciopt solve NAME
--method inverse` and any caller use `run_inverse`, and a new one is one
`register_inverse` call."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..validate import positive_int, protocol
from ._advection_diffusion import advection_diffusion_initial_condition, plot_initial_condition
from ._darcy import darcy_inverse, plot_darcy_inverse
from ._topology import plot_topology, simp_mbb


@dataclasses.dataclass(frozen=True)
class InverseRun:
    """What an inverse recipe returns.

    **Fields:**

    - `result`: the method's own result object (with `wall_s`, and `optimisation` where an
      optimistix minimiser ran).
    - `plot`: `(result, path) -> path` saves its figure.
    - `record`: the figures worth recording (JSON-serialisable).
    - `summary`: one line for the terminal.
    """

    result: Any
    plot: Callable[[Any, Path], Path]
    record: dict[str, Any]
    summary: str


Recipe = Callable[..., InverseRun]  # (problem, *, resolution, max_steps) -> InverseRun
_RECIPES: dict[str, Recipe] = {}


def register_inverse(name: str, recipe: Recipe) -> None:
    """Register the inverse recipe of the problem registered as `name`:
    `recipe(problem, *, resolution: int | None, max_steps: int | None) -> InverseRun`."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"name must be a problem's registered name (a string); got {name!r}")
    if not callable(recipe):
        raise ValueError(f"recipe must be a function (problem, *, resolution, max_steps) -> "
                         f"InverseRun; got {type(recipe).__name__}")
    if name in _RECIPES:
        raise ValueError(f"an inverse recipe for {name!r} is already registered")
    _RECIPES[name] = recipe


def run_inverse(name: str, problem, *, resolution: int | None = None,
                max_steps: int | None = None) -> InverseRun:
    """Run the inverse recipe registered for the problem `name` (built as `problem`).

    **Arguments:**

    - `name`: the problem's registered name; `problem`: the problem object.
    - `resolution`, `max_steps`: the grid and the optimiser's step cap (`None`: the
      recipe's defaults).

    **Returns:** an `InverseRun`. Raises `ValueError` naming the problems that have one.
    """
    if not isinstance(name, str) or name not in _RECIPES:
        raise ValueError(f"no inverse problem for {name!r} yet; available: "
                         f"{', '.join(_RECIPES)}")
    protocol("problem", problem, ("parameters", "domain"), "a problem (sciopt.problems.get)")
    resolution = None if resolution is None else positive_int("resolution", resolution)
    max_steps = None if max_steps is None else positive_int("max_steps", max_steps)
    return _RECIPES[name](problem, resolution=resolution, max_steps=max_steps)


def _darcy(prob, *, resolution, max_steps) -> InverseRun:
    r = darcy_inverse(resolution=resolution or 64, max_steps=max_steps,
                      length_scale=prob.length_scale)
    return InverseRun(
        r, plot_darcy_inverse,
        {"resolution": len(r.nodes), "relative_l2_error_log_permeability": r.relative_error,
         "data_misfit_rms_in_noise_units": r.data_misfit},
        f"log-permeability relative L2 error {r.relative_error:.3f}, data misfit "
        f"{r.data_misfit:.2f} (noise units), {r.optimisation.steps} BFGS steps "
        f"({r.optimisation.message})")


def _advection(prob, *, resolution, max_steps) -> InverseRun:
    r = advection_diffusion_initial_condition(resolution=resolution or 128, speed=prob.c,
                                              t_final=prob.t_final, max_steps=max_steps)
    return InverseRun(
        r, plot_initial_condition,
        {"resolution": len(r.x), "relative_l2_error_initial_condition": r.relative_error,
         "data_misfit_rms_in_noise_units": r.data_misfit},
        f"initial condition from {len(r.sensors)} sensors x {len(r.times)} times, relative "
        f"L2 error {r.relative_error:.4f}, data misfit {r.data_misfit:.2f}, "
        f"{r.optimisation.steps} Levenberg-Marquardt steps")


def _mbb(prob, *, resolution, max_steps) -> InverseRun:
    r = simp_mbb(nelx=prob.nelx, nely=prob.nely, volfrac=prob.volfrac, penal=prob.penal,
                 rmin=prob.rmin, max_iterations=max_steps)
    return InverseRun(
        r, plot_topology,
        {"compliance": r.compliance, "last_iteration_compliance": r.history["compliance"][-1],
         "volume": r.volume, "iterations": r.iterations},
        f"SIMP compliance {r.compliance:.4f} at volume {r.volume:.4f} after {r.iterations} "
        f"OC iterations")


register_inverse("darcy2d", _darcy)
register_inverse("advection1d", _advection)
register_inverse("mbb_beam", _mbb)
