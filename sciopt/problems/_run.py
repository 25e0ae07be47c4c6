"""`run_reference`: any registered problem's reference on its natural grid, with the analytic
solution beside it where one exists. One entry point for `sciopt solve --method reference`
and `sciopt bench pdes`."""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from .._figures import save_figure
from ..derivatives import laplacian
from ..validate import positive_int
from ._elasticity import MBBBeamProblem
from ._elliptic import Darcy2D, _AbstractUnitSquare
from ._heat import Heat1DPeriodic
from ._heat2d_wave import Heat2D, Wave1D
from ._high_dim import _AbstractTwoBody
from ._registry import AbstractProblem
from ._semilinear import AbstractPeriodic, Burgers1DPeriodic


@dataclasses.dataclass(frozen=True)
class ReferenceRun:
    """A reference solution and what it is compared with.

    **Fields:**

    - `kind`: `"time_1d"` (`u` is `[t, x]`), `"time_2d"` (`[t, x, y]`), `"steady_2d"`
      (`[x, y]`) or `"slice"` (a high-dimensional solution on the `(x_1, x_2)` plane through
      the origin, `[x, y]`, NaN outside the domain; the solution is exact, and
      `extras["laplacian_check"]` is the larger relative difference of the closed-form
      Laplacian behind the source and of the Taylor-mode Laplacian from the trace of the
      dense Hessian at 8 random interior points).
    - `coords`: axes by name (`"x"`, `"y"`); `t`: saved times (or `None`).
    - `u`: the reference; `exact`: the analytic solution on the same points (or `None`).
    - `extras`: other fields worth showing (Darcy's coefficient `"a"`) or checks.
    """

    kind: str
    coords: dict[str, np.ndarray]
    t: np.ndarray | None
    u: np.ndarray
    exact: np.ndarray | None
    extras: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def relative_l2_error(self) -> float | None:
        """`|u - exact| / |exact|` over all points (and times), or `None`."""
        if self.exact is None:
            return None
        ok = np.isfinite(self.exact)
        return float(np.linalg.norm((self.u - self.exact)[ok]) / np.linalg.norm(self.exact[ok]))


def _time_1d(prob, resolution, t, dt):
    if isinstance(prob, AbstractPeriodic):
        x = np.asarray(prob.grid(resolution).axes()[0])
        u = prob.reference({"x": x}, t, dt=dt)
    else:
        x = 2 * np.pi * np.arange(resolution) / resolution
        u = prob.reference({"x": x}, t)
    u = np.asarray(u)[..., 0]
    if isinstance(prob, Burgers1DPeriodic):
        exact = np.stack([prob.solution(x, float(s)) for s in t])
    elif hasattr(prob, "solution"):
        exact = np.asarray(prob.solution(x[None], t[:, None]))
    else:
        exact = None
    return ReferenceRun("time_1d", {"x": x}, t, u, exact)


def _time_2d(prob, resolution, t, dt):
    if isinstance(prob, Heat2D) and prob.boundary == "dirichlet":
        x = np.pi * np.arange(resolution + 1) / resolution  # nodes of [0, pi]
    else:
        x = np.asarray(prob.grid(resolution).axes()[0])
    u = np.asarray(prob.reference({"x": x, "y": x}, t, dt=dt))[..., 0]
    exact = None
    if hasattr(prob, "solution") and getattr(prob, "initial", "taylor_green") == "taylor_green" \
            and getattr(prob, "forcing", "none") == "none":
        xx, yy = np.meshgrid(x, x, indexing="ij")
        exact = np.asarray(prob.solution(xx[None], yy[None], t[:, None, None]))
    return ReferenceRun("time_2d", {"x": x, "y": x}, t, u, exact)


def _steady_2d(prob, resolution):
    if resolution < 3:
        raise ValueError(f"resolution must be at least 3 nodes; got {resolution}")
    x = np.linspace(0.0, 1.0, resolution)
    u = np.asarray(prob.reference({"x": x, "y": x}))[0, ..., 0]
    extras, exact = {}, None
    if isinstance(prob, Darcy2D):
        extras["a"] = np.asarray(prob.sample_coefficient(jax.random.key(0), resolution))
    else:
        xx, yy = np.meshgrid(x, x, indexing="ij")
        exact = np.asarray(prob.solution(jnp.stack([xx, yy], -1)))
    return ReferenceRun("steady_2d", {"x": x, "y": x}, None, u, exact, extras)


def _slice(prob, resolution):
    x = np.linspace(-1.0, 1.0, resolution)
    xx, yy = np.meshgrid(x, x, indexing="ij")
    points = np.zeros((resolution * resolution, prob.dim))
    points[:, 0], points[:, 1] = xx.ravel(), yy.ravel()
    u = np.asarray(prob.reference({"points": jnp.asarray(points)})).reshape(xx.shape)
    u = np.where(xx**2 + yy**2 <= 1.0, u, np.nan)
    # The source uses the closed-form Laplacian of the solution; check it against the
    # Taylor-mode Laplacian and the trace of the dense Hessian at a few interior points.
    inner = prob.domain.sample_interior(8, key=jax.random.key(0))
    # (Compiled: op by op, the d = 1000 Hessian took 20 s.)
    closed = jax.jit(jax.vmap(prob.solution_laplacian))(inner)
    taylor = jax.jit(jax.vmap(lambda p: laplacian(prob.solution, p)))(inner)
    dense = jax.jit(jax.vmap(lambda p: jnp.trace(jax.hessian(prob.solution)(p))))(inner)
    scale = jnp.max(jnp.abs(dense))
    extras = {"laplacian_check": float(jnp.maximum(jnp.max(jnp.abs(closed - dense)),
                                                   jnp.max(jnp.abs(taylor - dense))) / scale),
              "dim": prob.dim}
    return ReferenceRun("slice", {"x": x, "y": x}, None, u, u.copy(), extras)


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
    resolution = positive_int("resolution", resolution)
    num_times = max(2, positive_int("num_times", num_times))
    t_final = getattr(prob, "t_final", None)
    t = None if t_final is None else np.linspace(0.0, t_final, num_times)
    if isinstance(prob, AbstractPeriodic) and prob.ndim == 2:
        return _time_2d(prob, resolution, t, dt)
    if isinstance(prob, AbstractPeriodic | Heat1DPeriodic | Wave1D):
        return _time_1d(prob, resolution, t, dt)
    if isinstance(prob, _AbstractUnitSquare):
        return _steady_2d(prob, resolution)
    if isinstance(prob, _AbstractTwoBody):
        return _slice(prob, resolution)
    if isinstance(prob, MBBBeamProblem):
        d = np.asarray(prob.reference())[0]
        x, y = np.arange(prob.nelx + 1.0), prob.nely - np.arange(prob.nely + 1.0)
        return ReferenceRun("steady_2d", {"x": x, "y": y[::-1]}, None,
                            np.linalg.norm(d, axis=-1)[:, ::-1], None,
                            {"compliance": float(-d[0, 0, 1])})
    raise ValueError(f"{type(prob).__name__} has no reference runner")


def plot_reference(run: ReferenceRun, title: str, path) -> None:
    """Save a figure of `run`: space-time for 1D, first/last snapshots for 2D evolution,
    the field (and coefficient or error) for steady problems, the slice in high dimension."""
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
