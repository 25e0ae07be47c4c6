"""`run_reference`: any registered problem's reference on its natural grid, with the analytic
solution beside it where one exists. One entry point for `sciopt solve --method reference`
and `sciopt bench pdes`; each problem says how through its `reference_run`."""

from __future__ import annotations

import numpy as np

from .._figures import save_figure
from ..validate import output_file, positive_int, protocol
from ._reference import ReferenceRun
from ._registry import AbstractProblem


def run_reference(prob: AbstractProblem, resolution: int, *, num_times: int = 11,
                  dt: float | None = None) -> ReferenceRun:
    """The reference solution of `prob` on its natural grid.

    **Arguments:**

    - `prob`: a registered problem (`sciopt.problems.get(...)`).
    - `resolution`: grid points per axis (periodic grids: even; Dirichlet heat 2D: intervals
      on `[0, pi]`; unit-square problems: nodes; high-dimensional problems: points per axis
      of the `(x_1, x_2)` slice; the MBB beam: ignored, its mesh is a parameter).
    - `num_times`: saved times from 0 to `prob.t_final` (time-dependent problems).
    - `dt`: the solver's time step (ETDRK4 problems; default the problem's).

    **Returns:**

    A `ReferenceRun` with the analytic solution beside the reference where one exists.
    """
    if not callable(getattr(prob, "reference_run", None)):
        raise ValueError(f"prob must be a sciopt problem (e.g. sciopt.problems.get('heat1d')); "
                         f"got {type(prob).__name__}")
    resolution = positive_int("resolution", resolution)
    num_times = max(2, positive_int("num_times", num_times))
    t_final = getattr(prob, "t_final", None)
    t = None if t_final is None else np.linspace(0.0, t_final, num_times)
    return prob.reference_run(resolution, t, dt=dt)


def plot_reference(run: ReferenceRun, title: str, path) -> None:
    """Save a figure of `run`: space-time for 1D, first/last snapshots for 2D evolution,
    the field (and coefficient or error) for steady problems, the slice in high dimension."""
    protocol("run", run, ("kind", "u", "t", "extras"), "a ReferenceRun (run_reference)")
    path = output_file("path", path, overwrite=True)
    import matplotlib.pyplot as plt

    panels: list[tuple[str, np.ndarray]] = []
    if run.kind == "time_1d":
        panels.append(("u(x, t)", run.u))
    elif run.kind == "time_2d":
        panels += [("t = 0", run.u[0]), (f"t = {run.t[-1]:g}", run.u[-1])]
    else:
        if "a" in run.extras:
            panels.append(("coefficient a", run.extras["a"]))
        panels.append(("u" if run.kind == "steady_2d" else "u on the (x1, x2) slice", run.u))
    if run.exact is not None and run.kind != "slice":
        err = run.u - run.exact
        panels.append(("error" if run.kind != "time_2d" else f"error, t = {run.t[-1]:g}",
                       err if run.kind != "time_2d" else err[-1]))
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.6), squeeze=False)
    for ax, (label, field) in zip(axes[0], panels, strict=True):
        if run.kind == "time_1d":
            im = ax.pcolormesh(run.coords["x"], run.t, field, shading="auto", cmap="RdBu_r")
            ax.set_xlabel("x")
            ax.set_ylabel("t")
        else:
            im = ax.pcolormesh(run.coords["x"], run.coords["y"], field.T, shading="auto",
                               cmap="RdBu_r")
            ax.set_aspect("equal")
            ax.set_xlabel("x")
            ax.set_ylabel("y")
        fig.colorbar(im, ax=ax)
        ax.set_title(label)
    fig.suptitle(title)
    save_figure(fig, path)
