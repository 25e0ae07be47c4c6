"""Benchmark of the PINN stack (`pinns`, `sciopt.optim.multi_adam`): relative L2 error
against our float64 references, wall time and steps.

Cases (issue #7): advection c = 50 with a Gaussian initial condition (the known PINN
failure), viscous Burgers nu = 0.01/pi (PINNacle's vanilla PINN: 1.45e-2), Allen-Cahn in
jaxpi's setting (jaxpi 5.37e-5 after long GPU training), a multiscale Helmholtz case
(PINNacle's a = 1, b = 4) with MultiAdam against Adam at equal steps, and the
high-dimensional two-body Poisson problem with the STDE Laplacian; the Lagrangian PINN on
the advection case, refined with Gauss-Newton.
Budgets are small on CPU; `--full` style settings come from the config.
"""

from __future__ import annotations

import time
from pathlib import Path

import equinox as eqx
import jax
import numpy as np

import pinns  # noqa: E402
from sciopt import problems  # noqa: E402
from sciopt.bench.plots import loss_curves

SELECTABLE = True  # `sciopt bench pinn --only TEXT` runs the cases whose label contains TEXT


def _case(problem, model="pinn", optimizer="adam", steps=(3000, 100), width=64, depth=4,
          lr=1e-3, points=(1024, 256), options=None, refine=None, refine_steps=(0, 0),
          refine_points=None, params=None, quick_params=None, anchor="—", goal="—",
          windows=None, modes=4):
    return dict(problem=problem, model=model, optimizer=optimizer, steps=steps, width=width,
                depth=depth, lr=lr, points=points, options=options or {}, refine=refine,
                refine_steps=refine_steps, refine_points=refine_points or points,
                params=params or {}, quick_params=quick_params, anchor=anchor, goal=goal,
                windows=windows, modes=modes)


# (full, quick) pairs: the full settings are the CPU runs (each <= 20 minutes); the
# quick ones only check that every case runs.
CASES = [
    _case("advection1d", params={"c": 50.0, "initial": "gaussian"},
          anchor="PINN fails (> 0.5)", goal="PINN > 0.5"),
    _case("advection1d", model="lpinn", params={"c": 50.0, "initial": "gaussian"},
          width=32, refine="gauss-newton", refine_steps=(100, 3),
          options={"weights": {"flow": 100.0}},
          anchor="PINN fails (> 0.5)", goal="LPINN <= 1e-2"),
    _case("burgers1d_periodic", width=32, steps=(3000, 100), points=(2048, 256),
          anchor="PINNacle PINN 1.45e-2", goal="<= 1e-3"),
    _case("burgers1d_periodic", width=32, steps=(3000, 100), points=(2048, 256),
          refine="gauss-newton", refine_steps=(100, 3), refine_points=(4096, 256),
          anchor="PINNacle PINN 1.45e-2", goal="<= 1e-3"),
    _case("allen_cahn1d", width=32, steps=(3000, 100), points=(2048, 256),
          options={"weights": {"initial": 100.0}},
          anchor="jaxpi 5.37e-5 (GPU, long)", goal="<= 1e-3 in 20 min (CPU)"),
    # Time marching: (steps, refine_steps) per window, each window warm-started; a full-size
    # case only (each window compiles its own two training loops).
    _case("allen_cahn1d", width=32, depth=3, steps=(300, 0), points=(2048, 256),
          refine="gauss-newton", refine_steps=(150, 0), windows=(4, 2), modes=6,
          options={"weights": {"initial": 100.0}},
          anchor="jaxpi 5.37e-5 (GPU, long)", goal="<= 1e-3 in 20 min (CPU)"),
    _case("helmholtz2d", goal="MultiAdam < Adam"),
    _case("helmholtz2d", optimizer="multiadam", goal="MultiAdam < Adam"),
    # Multiscale: sin(2 pi x) sin(8 pi y) + e^x y, a source ~ 700 times the boundary data.
    _case("poisson2d", params={"a": 2, "b": 8}, goal="MultiAdam < Adam"),
    _case("poisson2d", params={"a": 2, "b": 8}, optimizer="multiadam",
          goal="MultiAdam < Adam"),
    # Adam moves each weight ~lr per step and the solution's size grows like sqrt(d)
    # (u ~ sin(1) sum_i c_i (1 - |x|^2)), so the larger d takes the larger rate.
    _case("poisson_highdim", params={"dim": 1000}, quick_params={"dim": 100}, depth=3,
          steps=(6000, 50), points=(100, 100), lr=3e-3,
          options={"stde_samples": 16, "hard_boundary": True},
          anchor="STDE paper (GPU)", goal="<= 1e-2"),
    _case("poisson_highdim", params={"dim": 10000}, depth=3, steps=(3000, 0),
          points=(100, 100), lr=1e-2, options={"stde_samples": 16, "hard_boundary": True},
          anchor="STDE paper (GPU)", goal="<= 1e-2"),
]


def _points(case: dict, n: int) -> dict:
    extra = {}
    if case["model"] == "pinn":  # no boundary term where the model meets it exactly
        hard = case["options"].get("hard_boundary", False)
        extra = {"boundary_points": 0 if hard else max(100, n // 4)}
    return dict(residual_points=n, initial_points=max(100, n // 4), **extra)


def _step_memory(p, model, options: dict) -> float:
    """Memory XLA plans for one loss-and-gradient evaluation (MiB)."""
    loss = pinns.pinn_loss(p, **options)
    params, static = eqx.partition(model, eqx.is_inexact_array)

    def value_and_grad(q, key):
        return jax.value_and_grad(lambda r: loss(eqx.combine(r, static), None, key)[0])(q)

    stats = jax.jit(value_and_grad).lower(params, jax.random.key(0)).compile(
        ).memory_analysis()
    return (stats.argument_size_in_bytes + stats.output_size_in_bytes
            + stats.temp_size_in_bytes - stats.alias_size_in_bytes) / 2**20


def _label(case: dict, params: dict, pick: int) -> str:
    recipe = case["optimizer"] + (f" + {case['refine']}" if case["refine"] else "")
    if case["windows"]:
        recipe = f"time marching, {case['windows'][pick]} windows: {recipe}"
    shown = {k: v for k, v in case["options"].items() if k != "weights"}
    return (case["problem"] + "".join(f" {k}={v}" for k, v in params.items())
            + f" {case['model'].upper()} [{recipe}"
            + "".join(f", {k}={v}" for k, v in shown.items()) + "]")


def run(config: dict) -> dict:
    quick = config.get("quick", False)
    out_dir: Path = config["out_dir"]
    pick = 1 if quick else 0
    rows, metrics, curves = [], {}, {}
    with jax.enable_x64(True):
        for case in CASES:
            params = (case["quick_params"] if quick and case["quick_params"] is not None
                      else case["params"])
            steps, npts = case["steps"][pick], case["points"][pick]
            if steps == 0:
                continue  # a full-size case only
            refine_steps, refine_npts = case["refine_steps"][pick], case["refine_points"][pick]
            label = _label(case, params, pick)
            if config.get("only") and config["only"] not in label:
                continue
            print(f"pinn: {label}, {steps} + {refine_steps} steps", flush=True)
            p = problems.get(case["problem"], **params)
            k_model, k_train = jax.random.split(jax.random.key(0))
            options = dict(case["options"])
            hard = options.pop("hard_boundary", False)
            if case["model"] == "lpinn":
                model = pinns.lpinn_for(p, width=case["width"], depth=case["depth"],
                                        key=k_model)
            else:
                model = pinns.pinn_for(p, width=case["width"], depth=case["depth"],
                                       periodic_modes=case["modes"], hard_boundary=hard,
                                       key=k_model)
            t0 = time.perf_counter()
            if case["windows"]:
                windows = case["windows"][pick]
                result = pinns.train_pinn_marching(
                    p, model, windows=windows, steps=steps, key=k_train,
                    learning_rate=case["lr"], refine=case["refine"], refine_steps=refine_steps,
                    progress="lines", **_points(case, npts), **options)
                steps, refine_steps = windows * steps, windows * refine_steps
                losses = [result.losses]
            else:
                result = pinns.train_pinn(p, model, steps=steps, key=k_train,
                                          optimizer=case["optimizer"],
                                          learning_rate=case["lr"], progress="lines",
                                          **_points(case, npts), **options)
                losses = [np.asarray(result.losses)]
                if case["refine"]:
                    result = pinns.train_pinn(p, result.model, steps=refine_steps,
                                              key=jax.random.fold_in(k_train, 1),
                                              optimizer=case["refine"], progress="lines",
                                              **_points(case, refine_npts), **options)
                    losses.append(np.asarray(result.losses))
            wall = time.perf_counter() - t0
            err = pinns.relative_error(p, result.model, resolution=128)
            total = steps + refine_steps
            memory = (_step_memory(p, result.model, {**_points(case, npts), **options})
                      if case["problem"] == "poisson_highdim" else None)
            rows.append([label, f"{steps} + {refine_steps}" if case["refine"] else steps,
                         case["width"], case["depth"],
                         f"{npts} / {refine_npts}" if case["refine"] else npts, err,
                         case["anchor"],
                         case["goal"], wall, total / wall,
                         "—" if memory is None else round(memory, 1)])
            metrics[label] = err
            curves[label] = np.concatenate(losses)
    if not rows:
        raise ValueError(f"no pinn case matches --only {config.get('only')!r}; labels: "
                         + "; ".join(_label(c, c["params"], pick) for c in CASES))
    png = loss_curves(curves, out_dir / "pinn_losses.png", ylabel="total loss")
    return {
        "title": "PINNs (pinns, sciopt.optim)",
        "summary": "Relative L2 errors: " + ", ".join(f"{k} {v:.2e}" for k, v in
                                                     metrics.items()) + ".",
        "dtype": "float64",
        "tables": [{
            "title": "PINN error against the float64 reference",
            "columns": ["case", "steps", "width", "depth", "residual points", "relative L2",
                        "anchor", "goal", "wall (s)", "steps/s", "step memory (MiB)"],
            "rows": rows,
            "notes": ("Adam or MultiAdam with a cosine-decayed learning rate, fresh uniform "
                      "collocation points every step, also in the Gauss-Newton "
                      "refinement (Levenberg-Marquardt, dense Jacobian per point, its gain "
                      "ratio taken on the step's points), exact "
                      "periodic embedding in x (or the label xi for the LPINN) for the "
                      "periodic problems, tanh MLP with Glorot initialisation, float64. "
                      "Time marching (pinns.train_pinn_marching): equal windows, each "
                      "warm-started from the last, with the previous window's network as "
                      "its initial condition; steps are totals over the windows. "
                      "Errors on a space-time grid of 128 points x 21 times against the "
                      "closed form (advection; Burgers by Cole-Hopf) or our spectral "
                      "reference solved on 1024 points and read at every 8th (Allen-Cahn), "
                      "the 2D nodes, or 4096 random points of the ball (high dimension, "
                      "Laplacian by STDE with 16 sparse directions per point). Wall time "
                      "includes compilation; step memory is what XLA plans for one loss "
                      "and gradient evaluation."),
        }],
        "metrics": {"relative_l2": metrics},
        "figures": [png],
    }
