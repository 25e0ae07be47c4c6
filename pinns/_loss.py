"""PINN losses built from `sciopt.problems`: residual, initial and boundary terms as named
groups, collocation points redrawn every step (uniform or residual-based adaptive), and
optional causal weighting in time.

References: Raissi, Perdikaris & Karniadakis, "Physics-informed neural networks", J. Comput.
Phys. 378 (2019); Wu, Zhu, Tan, Kartha & Lu, "A comprehensive study of non-adaptive and
residual-based adaptive sampling for PINNs", CMAME 403 (2023); Wang, Sankaran & Perdikaris,
"Respecting causality is all you need for training PINNs", arXiv:2203.07404 (2022).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, PRNGKeyArray

from sciopt import problems
from sciopt.optim import Residuals, SumOfSquares
from sciopt.validate import array, known_keys, one_of, positive_float, positive_int, real, require

from ._formulation import formulation
from ._model import PINN

Loss = Callable[[PINN, Any, PRNGKeyArray], tuple[Float[Array, ""], dict[str, Float[Array, ""]]]]


def _check_points(points, size: int, what: str) -> Array:
    if isinstance(points, str | bytes) or points is None:
        raise ValueError(f"{what} must be a number of points or an array [n, {size}]; got "
                         f"{points!r}")
    points = array(what, points, finite=False)
    if points.ndim != 2 or points.shape[1] != size:
        raise ValueError(f"{what} must be [n, {size}]; got shape {points.shape}")
    return require(points, lambda: jnp.all(jnp.isfinite(points)),
                   f"{what} contain NaN or Inf")


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
    rad_candidates = positive_int("rad_candidates", rad_candidates)
    causal_chunks = positive_int("causal_chunks", causal_chunks, allow_zero=True)
    causal_epsilon = positive_float("causal_epsilon", causal_epsilon, allow_zero=True)
    one_of("stde_distribution", stde_distribution, ("rademacher", "gaussian", "sparse"))
    if not isinstance(resample, bool):
        raise ValueError(f"resample must be True or False; got {resample!r}")
    if initial is not None and not callable(initial):
        raise ValueError(f"initial must be a function u0(x); got {type(initial).__name__}")
    group_names = ("residual", "initial") if f.kind == "evolution" else (
        ("residual", "boundary") if n_bc else ("residual",))
    weights = known_keys("weights", weights, group_names)
    for name, value in weights.items():
        real(f"weights[{name!r}]", value, low=0.0, low_inclusive=True)
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
