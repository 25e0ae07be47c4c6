"""PINN losses built from `sciopt.problems`: residual, initial and boundary terms as named
groups, collocation points redrawn every step (uniform or residual-based adaptive), and
optional causal weighting in time.

References: Raissi, Perdikaris & Karniadakis, "Physics-informed neural networks", J. Comput.
Phys. 378 (2019); Wu, Zhu, Tan, Kartha & Lu, "A comprehensive study of non-adaptive and
residual-based adaptive sampling for PINNs", CMAME 403 (2023); Wang, Sankaran & Perdikaris,
"Respecting causality is all you need for training PINNs", arXiv:2203.07404 (2022).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, Literal

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, PRNGKeyArray

from sciopt import problems
from sciopt.optim import Residuals, SumOfSquares
from sciopt.validate import one_of, positive_int

from ._model import PINN

Loss = Callable[[PINN, Any, PRNGKeyArray], tuple[Float[Array, ""], dict[str, Float[Array, ""]]]]


# A problem's pointwise form, as this package uses it (defined in the core, built by each
# problem's `pointwise_form()`).
Formulation = problems.PointwiseForm


def formulation(problem: problems.AbstractProblem) -> Formulation:
    """The PINN formulation of a registered problem (its `pointwise_form()`); `ValueError`
    names what is missing and which problems have one."""
    f = problem.pointwise_form()
    if f is None:
        supported = [n for n in problems.names() if problems.get(n).pointwise_form()]
        raise ValueError(f"{type(problem).__name__} has no PINN formulation yet (a PINN needs "
                         f"a pointwise residual and initial/boundary data); supported "
                         f"problems: {', '.join(supported)}")
    return f


def pinn_for(problem: problems.AbstractProblem, *, width: int = 64, depth: int = 4,
             activation: str = "tanh", periodic_modes: int = 4,
             fourier_features: tuple[int, float] | None = None,
             hard_boundary: bool = False, key: PRNGKeyArray) -> PINN:
    """A `PINN` with the problem's input size and an exact periodic embedding of its
    periodic axes. `hard_boundary=True` (problems on a ball with zero boundary data, e.g.
    the high-dimensional two-body problems) builds `u = 0` on the sphere into the network."""
    f = formulation(problem)
    envelope = None
    if hard_boundary:
        if f.ball is None:
            raise ValueError("hard_boundary applies to problems on a ball with zero boundary "
                             "data (poisson_highdim, sine_gordon_highdim)")
        envelope = f.ball
    return PINN(f.in_size, width=width, depth=depth, activation=activation,
                periodic=f.periodic, periodic_modes=periodic_modes,
                fourier_features=fourier_features, envelope=envelope, key=key)


def _check_points(points, size: int, what: str) -> Array:
    points = jnp.asarray(points)
    if points.ndim != 2 or points.shape[1] != size:
        raise ValueError(f"{what} must be [n, {size}]; got shape {points.shape}")
    if not bool(jnp.all(jnp.isfinite(points))):
        raise ValueError(f"{what} contain NaN or Inf")
    return points


def _sharder(mesh: jax.sharding.Mesh | None, counts: dict[str, int]) -> Callable[[Array],
                                                                                  Array]:
    """A function placing a point array's first axis over `mesh`'s first axis (identity
    without a mesh), after checking every point count splits evenly."""
    if mesh is None:
        return lambda a: a
    axis = mesh.axis_names[0]
    size = mesh.shape[axis]
    for name, n in counts.items():
        if n % size:
            raise ValueError(f"{name}={n} does not split over the {size} devices of mesh axis "
                             f"{axis!r}; use a multiple of {size}")
    sharding = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec(axis))
    return lambda a: jax.lax.with_sharding_constraint(a, sharding)


def pinn_loss(
    problem: problems.AbstractProblem,
    *,
    residual_points: int | Array = 1024,
    initial_points: int = 256,
    boundary_points: int = 256,
    sampling: Literal["uniform", "rad"] = "uniform",
    rad_candidates: int = 4,
    causal_chunks: int = 0,
    causal_epsilon: float = 1.0,
    weights: dict[str, float] | None = None,
    stde_samples: int | None = None,
    stde_distribution: str = "sparse",
    resample: bool = True,
    time_window: tuple[float, float] | None = None,
    initial: Callable[[Array], Array] | None = None,
    mesh: jax.sharding.Mesh | None = None,
) -> SumOfSquares:
    """The PINN loss of `problem` for `sciopt.train.fit`: `loss(model, batch, key)` returns
    `(total, {"residual": ..., "initial" | "boundary": ...})`, mean squares per group; a
    `sciopt.optim.SumOfSquares`, so Gauss–Newton can use its residual vector.

    **Arguments:**

    - `residual_points`: collocation points drawn afresh every step (a count), or a fixed
      `[n, in_size]` array (checked finite).
    - `initial_points`, `boundary_points`: points for the initial / boundary terms;
      `boundary_points=0` drops the boundary term (for a model that meets the boundary
      condition exactly, e.g. `pinn_for(..., hard_boundary=True)`).
    - `sampling`: `"uniform"`, or `"rad"` (residual-based adaptive: draw from
      `rad_candidates` times as many uniform candidates with probability proportional to
      the residual magnitude, Wu et al. 2023).
    - `causal_chunks`, `causal_epsilon`: with `causal_chunks = M > 0` (evolution problems),
      the residual term is `mean_i w_i L_i` over M time slabs with
      `w_i = exp(-eps sum_{j<i} L_j)` (gradients stopped), Wang et al. 2022.
    - `weights`: multipliers of the groups in the total (default 1).
    - `stde_samples`: for the high-dimensional problems, estimate the network's Laplacian
      with STDE (`stde_samples` random directions of `stde_distribution` per point, fresh
      every step; Shi et al., NeurIPS 2024) instead of the exact Taylor-mode sum.
    - `resample`: `False` keeps one set of points for every step (quasi-Newton and
      Gauss–Newton methods want a fixed objective).
    - `time_window`, `initial` (evolution problems): train on `t0 <= t <= t1` only, with the
      initial term at `t0` against `initial(x)` (default: the problem's `u(x, 0)`) — one
      window of time marching (see `train_pinn_marching`).
    - `mesh`: shard every group's points over the mesh's first axis (data parallel; each
      point count must be a multiple of the axis size). `train_pinn(..., mesh=)` sets it.
    """
    f = formulation(problem)
    one_of("sampling", sampling, ("uniform", "rad"))
    fixed = None
    if not isinstance(residual_points, int):
        fixed = _check_points(residual_points, f.in_size, "residual_points")
        n_res = fixed.shape[0]
    else:
        n_res = positive_int("residual_points", residual_points)
    n_init = positive_int("initial_points", initial_points)
    n_bc = positive_int("boundary_points", boundary_points, allow_zero=True)
    if causal_chunks and f.kind != "evolution":
        raise ValueError("causal weighting needs a time-dependent problem")
    domain = problem.domain
    t_final = getattr(problem, "t_final", None)
    t_start = 0.0
    if time_window is not None or initial is not None:
        if f.kind != "evolution":
            raise ValueError("time_window and initial apply to time-dependent problems")
    if time_window is not None:
        t_start, t_end = (float(v) for v in time_window)
        if not (np.isfinite(t_start) and np.isfinite(t_end) and 0 <= t_start < t_end):
            raise ValueError(f"time_window must be (t0, t1) with 0 <= t0 < t1; got "
                             f"{time_window}")
        t_final = t_end
    u_start = initial if initial is not None else f.initial
    shard = _sharder(mesh, {"residual_points": n_res, "initial_points": n_init,
                            "boundary_points": n_bc})

    lo, hi = (np.asarray(b, float) for b in domain.bounds)

    def in_space(key, n):
        return lo + (hi - lo) * jax.random.uniform(key, (n, lo.size), jnp.result_type(float))

    def uniform(key, n):
        if f.kind == "evolution":
            k_x, k_t = jax.random.split(key)
            t = jax.random.uniform(k_t, (n, 1), jnp.result_type(float), t_start, t_final)
            return jnp.concatenate([in_space(k_x, n), t], 1)
        return domain.sample_interior(n, key=key)

    if stde_samples is not None:
        if not f.laplacian_options:
            raise ValueError("stde_samples applies to the high-dimensional problems "
                             "(poisson_highdim, sine_gordon_highdim)")
        positive_int("stde_samples", stde_samples)

    def point_residual(model, point):
        z, key = point
        if stde_samples is None:
            return f.residual(model, z)
        return f.residual(model, z, {"method": "stde", "key": key,
                                     "num_samples": stde_samples,
                                     "distribution": stde_distribution})

    def with_keys(pts, key):
        return pts, jax.random.split(key, pts.shape[0])

    def initial_residual(model, x):
        return model(jnp.append(x, t_start)) - u_start(x)

    def boundary_residual(model, p):
        return model(p) - f.boundary(p)

    def groups(model, batch, key):
        del batch
        if not resample:
            key = jax.random.key(0)
        k_res, k_pick, k_init, k_stde = jax.random.split(key, 4)

        def values(pts):
            point = with_keys(pts, k_stde)
            return jax.lax.stop_gradient(jax.vmap(point_residual, (None, 0))(model, point))

        if fixed is not None:
            pts = fixed
        elif sampling == "rad":
            cand = uniform(k_res, rad_candidates * n_res)
            r = jnp.abs(values(cand))
            prob = r / jnp.mean(r) + 1.0
            idx = jax.random.choice(k_pick, cand.shape[0], (n_res,), replace=False,
                                    p=prob / jnp.sum(prob))
            pts = cand[idx]
        else:
            pts = uniform(k_res, n_res)
        if causal_chunks:
            slab = jnp.clip(((pts[:, -1] - t_start) / (t_final - t_start)
                             * causal_chunks).astype(int), 0, causal_chunks - 1)
            counts = jnp.maximum(jnp.bincount(slab, length=causal_chunks), 1)
            per = jnp.bincount(slab, weights=values(pts) ** 2, length=causal_chunks) / counts
            w = jnp.exp(-causal_epsilon * (jnp.cumsum(per) - per))
            point_weights = (w / (counts * causal_chunks))[slab]
        else:
            point_weights = jnp.full(pts.shape[:1], 1.0 / pts.shape[0], pts.dtype)
        pts = shard(pts)
        out = {"residual": Residuals(point_residual, with_keys(pts, k_stde), point_weights)}
        if f.kind == "evolution":
            x = shard(in_space(k_init, n_init))
            out["initial"] = Residuals(initial_residual, x,
                                       jnp.full(x.shape[:1], 1.0 / n_init, x.dtype))
        elif n_bc:
            pb = shard(domain.sample_boundary(n_bc, key=k_init))
            out["boundary"] = Residuals(boundary_residual, pb,
                                        jnp.full(pb.shape[:1], 1.0 / n_bc, pb.dtype))
        return out

    return SumOfSquares(groups, weights)


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
