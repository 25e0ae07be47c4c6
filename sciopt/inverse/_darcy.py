"""Worked inverse problem: recover a lognormal Darcy permeability from noisy point
observations of the pressure."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from .._figures import save_figure
from ..problems import get as get_problem
from ..validate import output_file, positive_float, positive_int, protocol
from ._solve import InverseResult, Reparam, minimise
from ._terms import PointObservations, tikhonov


@dataclasses.dataclass(frozen=True)
class DarcyInverseResult:
    """The truth, the recovery and how far apart they are.

    **Fields:** `nodes` (axis coordinates), `log_a_true`, `log_a` (recovered), `u_true`,
    `u` (pressure of the recovery), `points` / `observed` (the data), `relative_error`
    (relative L2 of the log-permeability), `data_misfit` (RMS of the normalised residuals;
    about 1 when the data are fitted to their noise), `optimisation` (the `InverseResult`),
    `wall_s`.
    """

    nodes: np.ndarray
    log_a_true: np.ndarray
    log_a: np.ndarray
    u_true: np.ndarray
    u: np.ndarray
    points: np.ndarray
    observed: np.ndarray
    relative_error: float
    data_misfit: float
    optimisation: InverseResult
    wall_s: float


def darcy_inverse(*, resolution: int = 64, observations: int = 100, noise: float = 0.01,
                  length_scale: float = 0.2, regularisation: float = 10.0, seed: int = 0,
                  bound: float = 6.0, max_steps: int = 300,
                  progress: str = "auto") -> DarcyInverseResult:
    """Recover `log a` on the `resolution x resolution` nodes of the unit square from the
    pressure of `-div(a grad u) = 1`, `u = 0` on the boundary, observed at `observations`
    random interior points with Gaussian noise of `noise` times the RMS observed value.

    The truth is a lognormal field (`darcy2d` with `coefficient="lognormal"` and
    `length_scale`). The objective is the noise-weighted misfit plus
    `regularisation * |grad log a|^2 / 2` (order-1 Tikhonov; the default 10 puts the data
    misfit near the noise level, the discrepancy principle), minimised by BFGS from
    `log a = 0` with `|log a| < bound` (a sigmoid reparametrisation); gradients are adjoints
    through the finite-difference CG solve. The reported `optimisation.history` is of the
    objective divided by its initial value.
    """
    resolution = positive_int("resolution", resolution)
    observations = positive_int("observations", observations)
    noise = positive_float("noise", noise)
    seed = positive_int("seed", seed, allow_zero=True)
    if resolution < 5:
        raise ValueError(f"resolution must be at least 5 nodes; got {resolution}")
    prob = get_problem("darcy2d", coefficient="lognormal", length_scale=length_scale)
    key_field, key_points, key_noise = jax.random.split(jax.random.key(seed), 3)
    a_true = prob.sample_coefficient(key_field, resolution)
    u_true = prob.solve(a_true)
    nodes = np.linspace(0.0, 1.0, resolution)
    points = np.asarray(jax.random.uniform(key_points, (observations, 2), minval=0.05,
                                           maxval=0.95))
    exact = PointObservations(points, np.zeros(observations), (nodes, nodes))(u_true)
    sigma = noise * float(jnp.sqrt(jnp.mean(exact**2)))
    observed = np.asarray(exact + sigma * jax.random.normal(key_noise, exact.shape))
    data = PointObservations(points, observed, (nodes, nodes))
    h = 1.0 / (resolution - 1)

    def objective(log_a, _):
        u = prob.solve(jnp.exp(log_a))
        return data.misfit(u, sigma) + tikhonov(log_a, regularisation, order=1, spacing=h)

    # Scaled to 1 at the start, so BFGS's first (unit, steepest-descent) trial step is
    # moderate; log a kept within +-bound so that every trial solve stays well conditioned.
    init = jnp.zeros((resolution, resolution))
    scale = float(objective(init, None))
    t0 = time.perf_counter()
    result = minimise(lambda m, _: objective(m, _) / scale, init, max_steps=max_steps,
                      reparam=Reparam.bounded(-bound, bound), progress=progress)
    wall = time.perf_counter() - t0
    log_a = np.asarray(result.params)
    u = np.asarray(prob.solve(jnp.exp(result.params)))
    log_true = np.asarray(jnp.log(a_true))
    return DarcyInverseResult(
        nodes=nodes, log_a_true=log_true, log_a=log_a, u_true=np.asarray(u_true), u=u,
        points=points, observed=observed,
        relative_error=float(np.linalg.norm(log_a - log_true) / np.linalg.norm(log_true)),
        data_misfit=float(np.sqrt(np.mean(np.asarray(data.residuals(jnp.asarray(u),
                                                                    sigma)) ** 2))),
        optimisation=result, wall_s=wall)


def plot_darcy_inverse(r: DarcyInverseResult, path: str | Path) -> Path:
    """True / recovered / error of the log-permeability (observation points marked) and the
    objective history."""
    protocol("r", r, ("nodes", "log_a_true", "log_a", "points"), "a DarcyInverseResult")
    path = output_file("path", path, overwrite=True)
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 4, figsize=(17, 3.9))
    lo, hi = float(r.log_a_true.min()), float(r.log_a_true.max())
    for ax, field, title, kw in (
            (axes[0], r.log_a_true, "true log a", {"vmin": lo, "vmax": hi}),
            (axes[1], r.log_a, "recovered log a", {"vmin": lo, "vmax": hi}),
            (axes[2], r.log_a - r.log_a_true,
             f"error (relative L2 {r.relative_error:.2f})", {"cmap": "RdBu_r"})):
        im = ax.pcolormesh(r.nodes, r.nodes, field.T, shading="auto", **kw)
        ax.plot(r.points[:, 0], r.points[:, 1], "k.", ms=3)
        ax.set_aspect("equal")
        ax.set_title(title)
        fig.colorbar(im, ax=ax)
    h = r.optimisation.history
    axes[3].semilogy(h["objective"], label="objective")
    axes[3].semilogy(h["grad_norm"], label="|gradient|")
    axes[3].set_xlabel("iterate")
    axes[3].legend()
    axes[3].set_title("BFGS")
    return save_figure(fig, path)
