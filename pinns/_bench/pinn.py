"""Benchmark of the PINN stack (`pinns`, `sciopt.optim.multi_adam`): relative L2 error
against our float64 references, wall time and steps.

Cases (issue #7): advection c = 50 with a Gaussian initial condition (the known PINN
failure), viscous Burgers nu = 0.01/pi (PINNacle's vanilla PINN: 1.45e-2), Allen-Cahn in
jaxpi's setting (jaxpi 5.37e-5 after long GPU training), a multiscale Helmholtz case
(PINNacle's a = 1, b = 4) with MultiAdam against Adam at equal steps, and the
high-dimensional two-body Poisson problem with the STDE Laplacian; the Lagrangian PINN on
the advection case, refined with Gauss-Newton.
The cases are library data (`pinns.BENCHMARK_CASES`, each a `PINNRecipe` with its quick
size) run through the library's recipe (`pinns.train_and_evaluate`); this suite adds the
step memory and the report.
"""

from __future__ import annotations

from pathlib import Path

import equinox as eqx
import jax

import pinns  # noqa: E402
from sciopt import problems  # noqa: E402
from sciopt.bench.plots import loss_curves

SELECTABLE = True  # `sciopt bench pinn --only TEXT` runs the cases whose label contains TEXT


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


def _label(case: pinns.PINNCase, params: dict) -> str:
    r = case.recipe
    shown = {k: v for k, v in r.loss_options.items() if k != "weights"}
    if r.hard_boundary:
        shown["hard_boundary"] = True
    return (case.problem + "".join(f" {k}={v}" for k, v in params.items())
            + f" {r.model.upper()} [{r.describe()}"
            + "".join(f", {k}={v}" for k, v in shown.items()) + "]")


def run(config: dict) -> dict:
    quick = config.get("quick", False)
    out_dir: Path = config["out_dir"]
    rows, metrics, curves = [], {}, {}
    with jax.enable_x64(True):
        for case in pinns.BENCHMARK_CASES:
            params = (case.quick_params if quick and case.quick_params is not None
                      else case.params)
            if quick and case.quick[0] == 0:
                continue  # a full-size case only
            recipe = case.quick_recipe() if quick else case.recipe
            label = _label(case, params)
            if config.get("only") and config["only"] not in label:
                continue
            print(f"pinn: {label}, {recipe.steps} + {recipe.refine_steps} steps", flush=True)
            p = problems.get(case.problem, **params)
            result = pinns.train_and_evaluate(p, recipe, key=jax.random.key(0),
                                              progress="lines")
            npts, refine_npts = recipe.points, recipe.refine_points or recipe.points
            options = dict(recipe.loss_options)
            memory = (_step_memory(p, result.model,
                                   {**recipe.point_options(npts), **options})
                      if case.problem == "poisson_highdim" else None)
            total = result.steps + result.refine_steps
            rows.append([label, (f"{result.steps} + {result.refine_steps}" if recipe.refine
                                 else result.steps),
                         recipe.width, recipe.depth,
                         f"{npts} / {refine_npts}" if recipe.refine else npts,
                         result.relative_l2, case.anchor, case.goal, result.wall_s,
                         total / result.wall_s, "—" if memory is None else round(memory, 1)])
            metrics[label] = result.relative_l2
            curves[label] = result.losses
    if not rows:
        raise ValueError(f"no pinn case matches --only {config.get('only')!r}; labels: "
                         + "; ".join(_label(c, c.params) for c in pinns.BENCHMARK_CASES))
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
