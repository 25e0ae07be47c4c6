"""Benchmark of the PINN stack (`pinns`, `sciopt.optim.multi_adam`): relative L2 error
against our float64 references, wall time and steps.

Cases (issue #7): advection c = 50 with a Gaussian initial condition (the known PINN
failure), viscous Burgers nu = 0.01/pi (PINNacle's vanilla PINN: 1.45e-2), Allen-Cahn in
jaxpi's setting (jaxpi 5.37e-5 after long GPU training), a multiscale Helmholtz case
(PINNacle's a = 1, b = 4) with MultiAdam against Adam at equal steps, and the
high-dimensional two-body Poisson problem with the exact Taylor-mode Laplacian.
Budgets are small on CPU; `--full` style settings come from the config.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import jax
import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _plot import figure, save  # noqa: E402

import pinns  # noqa: E402
from sciopt import problems  # noqa: E402

# name, params (full, quick), optimizer, steps (full, quick), width, depth, lr, residual
# points (full, quick), extra loss options, anchor, goal
CASES = [
    ("advection1d", {"c": 50.0, "initial": "gaussian"}, None, "adam", (3000, 100), 64, 4,
     1e-3, (1024, 256), {}, "PINN fails (> 0.5)", "LPINN <= 1e-2 (not yet)"),
    ("burgers1d_periodic", {}, None, "adam", (6000, 100), 64, 4, 1e-3, (2048, 256), {},
     "PINNacle PINN 1.45e-2", "<= 1e-3"),
    ("allen_cahn1d", {}, None, "adam", (6000, 100), 64, 4, 1e-3, (2048, 256), {},
     "jaxpi 5.37e-5 (GPU, long)", "<= 1e-3 in 20 min (CPU)"),
    ("helmholtz2d", {}, None, "adam", (3000, 100), 64, 4, 1e-3, (1024, 256), {}, "—",
     "MultiAdam < Adam"),
    ("helmholtz2d", {}, None, "multiadam", (3000, 100), 64, 4, 1e-3, (1024, 256), {}, "—",
     "MultiAdam < Adam"),
    ("poisson_highdim", {"dim": 1000}, {"dim": 100}, "adam", (2000, 50), 64, 3, 1e-3,
     (100, 100), {"stde_samples": 16, "hard_boundary": True}, "STDE paper (GPU)", "<= 1e-2"),
]


def run(config: dict) -> dict:
    quick = config.get("quick", False)
    out_dir: Path = config["out_dir"]
    rows, metrics, curves = [], {}, {}
    with jax.enable_x64(True):
        for (name, full_params, quick_params, opt, steps, width, depth, lr, points, options,
             anchor, goal) in CASES:
            n = steps[1] if quick else steps[0]
            npts = points[1] if quick else points[0]
            params = quick_params if quick and quick_params is not None else full_params
            label = (name + "".join(f" {k}={v}" for k, v in params.items()) + f" [{opt}"
                     + ("".join(f", {k}={v}" for k, v in options.items())) + "]")
            print(f"pinn: {label}, {n} steps", flush=True)
            p = problems.get(name, **params)
            k_model, k_train = jax.random.split(jax.random.key(0))
            options = dict(options)
            hard = options.pop("hard_boundary", False)
            model = pinns.pinn_for(p, width=width, depth=depth, hard_boundary=hard,
                                   key=k_model)
            t0 = time.perf_counter()
            result = pinns.train_pinn(p, model, steps=n, key=k_train, optimizer=opt,
                                      learning_rate=lr, progress="lines",
                                      residual_points=npts,
                                      initial_points=max(100, npts // 4),
                                      boundary_points=max(100, npts // 4), **options)
            wall = time.perf_counter() - t0
            err = pinns.relative_error(p, result.model, resolution=128)
            rows.append([label, n, width, depth, npts, err, anchor, goal, wall, n / wall])
            metrics[label] = err
            curves[label] = np.asarray(result.losses)
    fig, ax = figure()
    for label, losses in curves.items():
        ax.semilogy(losses, label=label)
    ax.set_xlabel("step")
    ax.set_ylabel("total loss")
    ax.legend(fontsize=6)
    png = save(fig, out_dir / "pinn_losses.png")
    return {
        "title": "PINNs (pinns, sciopt.optim)",
        "summary": "Relative L2 errors: " + ", ".join(f"{k} {v:.2e}" for k, v in
                                                     metrics.items()) + ".",
        "dtype": "float64",
        "tables": [{
            "title": "PINN error against the float64 reference",
            "columns": ["case", "steps", "width", "depth", "residual points", "relative L2",
                        "anchor", "goal", "wall (s)", "steps/s"],
            "rows": rows,
            "notes": ("Adam or MultiAdam with a cosine-decayed learning rate, fresh uniform "
                      "collocation points every step, exact periodic embedding in x for the "
                      "periodic problems, tanh MLP with Glorot initialisation, float64. "
                      "Errors on the reference's space-time grid (128 points x 21 times), "
                      "the 2D nodes, or 4096 random points of the ball (high dimension, "
                      "Laplacian by STDE with 16 sparse directions per point; wall time "
                      "includes compilation)."),
        }],
        "metrics": {"relative_l2": metrics},
        "figures": [png],
    }
