"""What a reference run returns (`ReferenceRun`), what a dataset generator needs from a
problem (`DataPlan`), and the runners the problem families share. Nothing here imports a
concrete problem: each problem's `reference_run` / `data_plan` calls these."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array

from ..derivatives import laplacian
from ..validate import array, positive_int, protocol

_PROBLEM = ("reference", "exact_solution")


def _axis(name: str, value: Any) -> np.ndarray:
    """A grid axis or a list of times: a finite 1-D array of at least one entry."""
    return np.asarray(array(name, value, ndim=1, min_size=1, traced=False))


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


@dataclasses.dataclass(frozen=True)
class DataPlan:
    """What `sciopt.data.generate_dataset` needs from a problem to write a dataset: how to
    draw one sample's input and solve a batch of them, and what to record.

    **Fields:**

    - `draw`: `index -> input` (one sample, from the seed folded with `index`; traced).
    - `solve`: `inputs [b, ...] -> {"tensor": [b, T, X...], extra fields...}` (traced).
    - `check`: run before any work (for example the time step against a stability limit).
    - `times`, `coords`: the saved times and the grid axes by name.
    - `solver`, `metadata`, `config`: provenance written to the file and hashed into the
      resumable run's configuration.
    - `advice`: what to change when a solve comes back non-finite.
    """

    draw: Callable[[Array], Array]
    solve: Callable[[Array], dict[str, Array]]
    check: Callable[[], Any]
    times: np.ndarray
    coords: dict[str, np.ndarray]
    solver: dict[str, Any]
    metadata: dict[str, Any]
    config: dict[str, Any]
    advice: str


def on_grid(solution: Callable, coords: dict[str, np.ndarray], t: np.ndarray | None
            ) -> np.ndarray:
    """A closed-form `solution` evaluated on a grid: `solution(x, t)` as `[t, x]`,
    `solution(x, y, t)` as `[t, x, y]`, or a steady `solution(p [..., 2])` as `[x, y]`
    (`t` None)."""
    if not callable(solution):
        raise ValueError(f"solution must be a function; got {type(solution).__name__}")
    coords = {k: _axis(f"coords[{k!r}]", v) for k, v in dict(coords).items()}
    if t is None:
        xx, yy = np.meshgrid(coords["x"], coords["y"], indexing="ij")
        return np.asarray(solution(jnp.stack([xx, yy], -1)))
    t = _axis("t", t)
    if "y" not in coords:
        return np.asarray(solution(coords["x"][None], t[:, None]))
    xx, yy = np.meshgrid(coords["x"], coords["y"], indexing="ij")
    return np.asarray(solution(xx[None], yy[None], t[:, None, None]))


def time_1d_run(prob, x: np.ndarray, t: np.ndarray, **kwargs: Any) -> ReferenceRun:
    """`prob.reference` on the 1D grid `x` at times `t` (keyword arguments passed on), with
    `prob.exact_solution` beside it."""
    protocol("prob", prob, _PROBLEM, "a problem (sciopt.problems.get)")
    x, t = _axis("x", x), _axis("t", t)
    u = np.asarray(prob.reference({"x": x}, t, **kwargs))[..., 0]
    return ReferenceRun("time_1d", {"x": x}, t, u, prob.exact_solution({"x": x}, t))


def time_2d_run(prob, x: np.ndarray, t: np.ndarray, **kwargs: Any) -> ReferenceRun:
    """`prob.reference` on the square grid `x` x `x` at times `t`, with
    `prob.exact_solution` beside it."""
    protocol("prob", prob, _PROBLEM, "a problem (sciopt.problems.get)")
    x, t = _axis("x", x), _axis("t", t)
    coords = {"x": x, "y": x}
    u = np.asarray(prob.reference(coords, t, **kwargs))[..., 0]
    return ReferenceRun("time_2d", coords, t, u, prob.exact_solution(coords, t))


def steady_2d_run(prob, resolution: int, extras: dict[str, Any] | None = None
                  ) -> ReferenceRun:
    """`prob.reference` on `resolution` nodes per axis of the unit square, with
    `prob.exact_solution` beside it."""
    protocol("prob", prob, _PROBLEM, "a problem (sciopt.problems.get)")
    resolution = positive_int("resolution", resolution)
    if resolution < 3:
        raise ValueError(f"resolution must be at least 3 nodes; got {resolution}")
    x = np.linspace(0.0, 1.0, resolution)
    coords = {"x": x, "y": x}
    u = np.asarray(prob.reference(coords))[0, ..., 0]
    return ReferenceRun("steady_2d", coords, None, u, prob.exact_solution(coords, None),
                        dict(extras or {}))


def slice_run(prob, resolution: int) -> ReferenceRun:
    """A high-dimensional problem's exact solution on the `(x_1, x_2)` plane through the
    origin (NaN outside the unit ball), with the check of its closed-form Laplacian."""
    protocol("prob", prob, ("dim", "reference", "domain", "solution_laplacian"),
             "a high-dimensional problem (sciopt.problems.get)")
    resolution = positive_int("resolution", resolution)
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
