"""`sciopt solve PROBLEM --method reference`: the reference solution, its error against the
analytic solution where one exists, and a plot."""

from __future__ import annotations

import json
from pathlib import Path

NAME = "solve"
HELP = "solve a problem with a method; report the error and save a plot"
EPILOG = ("examples:\n  sciopt solve kdv1d --method reference --resolution 768\n"
          "  sciopt solve burgers1d_periodic --method reference --resolution 1024 --dt 2e-4\n"
          "  sciopt solve advection1d --param c=50 --out results/solve\n"
          "  sciopt solve navier_stokes2d --resolution 64 --param nu=0.05\n"
          "  sciopt solve darcy2d --resolution 65\n"
          "  sciopt solve poisson_highdim --param dim=1000 --resolution 41\n"
          "  sciopt solve darcy2d --method inverse --param length_scale=0.2\n"
          "  sciopt solve advection1d --param c=50 --param initial=gaussian --method lpinn "
          "--steps 3000 --width 32 --refine gauss-newton --refine-steps 100")


def configure(p) -> None:
    p.add_argument("problem", help="a registered problem (see 'sciopt problems')")
    p.add_argument("--method", default="reference",
                   choices=["reference", "inverse", "pinn", "lpinn"],
                   help="reference: the float64 reference solve; inverse: the problem's worked "
                        "inverse problem (darcy2d: permeability from 100 noisy pressures; "
                        "advection1d: the initial condition, with diffusion 0.02, from 8 "
                        "sensors; mbb_beam: SIMP topology optimisation); pinn: train a "
                        "physics-informed network and compare it with the reference; lpinn: "
                        "a Lagrangian PINN (advection1d, burgers1d_periodic)")
    p.add_argument("--max-steps", type=int, default=300,
                   help="optimiser steps / iterations (inverse)")
    p.add_argument("--optimizer", default="adam",
                   choices=["adam", "multiadam", "lbfgs", "gauss-newton"],
                   help="PINN optimiser")
    p.add_argument("--refine", default=None, choices=["lbfgs", "gauss-newton"],
                   help="after --steps of --optimizer, refine the PINN with this method on a "
                        "fixed collocation set")
    p.add_argument("--refine-steps", type=int, default=100, help="steps of --refine")
    p.add_argument("--refine-points", type=int, default=None,
                   help="residual points per --refine step (default --points; Gauss-Newton "
                        "wants more residuals than network parameters)")
    p.add_argument("--points", type=int, default=1024,
                   help="PINN residual collocation points per step")
    p.add_argument("--steps", type=int, default=5000,
                   help="PINN training steps (per window with --windows)")
    p.add_argument("--windows", type=int, default=None,
                   help="PINN: time marching over this many windows (pinns."
                        "train_pinn_marching; --refine and --refine-steps apply per window)")
    p.add_argument("--lr", type=float, default=1e-3, help="PINN learning rate (cosine decay)")
    p.add_argument("--width", type=int, default=64, help="PINN width")
    p.add_argument("--depth", type=int, default=4, help="PINN hidden layers")
    p.add_argument("--seed", type=int, default=0, help="PINN initialisation / sampling seed")
    p.add_argument("--checkpoint-dir", default=None,
                   help="PINN checkpoints (a re-run resumes from the latest)")
    p.add_argument("--resolution", type=int, default=None,
                   help="grid points per axis (periodic: even; default 256 in 1D, 64 in 2D)")
    p.add_argument("--times", type=int, default=11, help="saved times, including t = 0")
    p.add_argument("--dt", type=float, default=None, help="solver time step")
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                   help="a problem parameter (repeatable)")
    p.add_argument("--out", default="results/solve", help="folder for the JSON and PNG")


def run(args) -> int:
    import jax
    import matplotlib

    from .. import problems
    from .._atomic import atomic_open
    from ._data import parse_params

    jax.config.update("jax_enable_x64", True)  # references are float64
    matplotlib.use("Agg")

    prob = problems.get(args.problem, **parse_params(args.param))
    if args.method == "inverse":
        return _inverse(args, prob)
    if args.method in ("pinn", "lpinn"):
        return _pinn(args, prob)
    if args.resolution is None:
        args.resolution = 256 if prob.domain.dim == 1 else 64
    result = problems.run_reference(prob, args.resolution, num_times=args.times, dt=args.dt)
    record = {"problem": args.problem, "parameters": prob.parameters, "method": args.method,
              "resolution": args.resolution, "kind": result.kind}
    if result.t is not None:
        record["t_final"] = float(result.t[-1])
    err = result.relative_l2_error
    if result.kind == "slice":
        record["laplacian_check"] = result.extras["laplacian_check"]
        print(f"{args.problem}: exact solution in d = {result.extras['dim']}; closed-form and "
              f"Taylor-mode Laplacians vs the dense Hessian trace: "
              f"{result.extras['laplacian_check']:.3e} (relative)")
    elif err is not None:
        record["relative_l2_error"] = err
        print(f"{args.problem}: relative L2 error against the analytic solution {err:.3e}")
    else:
        print(f"{args.problem}: no analytic solution; reference computed")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    png = out / f"{args.problem}_{args.method}.png"
    problems.plot_reference(result, f"{args.problem} ({args.method})", png)
    record["figure"] = str(png)
    with atomic_open(out / f"{args.problem}_{args.method}.json", "w") as f:
        json.dump(record, f, indent=2)
    print(f"saved {png}")
    return 0


def _inverse(args, prob) -> int:
    """Run the problem's worked inverse problem; save its figure and a JSON record."""
    from .. import inverse
    from .._atomic import atomic_open

    run = inverse.run_inverse(args.problem, prob, resolution=args.resolution,
                              max_steps=args.max_steps)
    r, plot, record, line = run.result, run.plot, run.record, run.summary
    out = Path(args.out)
    png = plot(r, out / f"{args.problem}_inverse.png")
    record = {"problem": args.problem, "parameters": prob.parameters, "method": "inverse",
              **record, "wall_s": r.wall_s, "figure": str(png)}
    if hasattr(r, "optimisation"):
        record |= {"steps": r.optimisation.steps, "converged": r.optimisation.converged}
    with atomic_open(out / f"{args.problem}_inverse.json", "w") as f:
        json.dump(record, f, indent=2)
    print(f"{args.problem}: {line} ({r.wall_s:.1f} s)")
    print(f"saved {png}")
    return 0


def _pinn(args, prob) -> int:
    """Train a PINN on the problem; report its error against the reference; save a figure
    of prediction and error and a JSON record."""
    import jax

    import pinns

    from .. import problems
    from .._atomic import atomic_open

    key_model, key_train = jax.random.split(jax.random.key(args.seed))
    # Building the model first gives a clear error before any work.
    if args.method == "lpinn":
        model = pinns.lpinn_for(prob, width=args.width, depth=args.depth, key=key_model)
    else:
        model = pinns.pinn_for(prob, width=args.width, depth=args.depth, key=key_model)
    def points(n):
        extra = {"boundary_points": max(64, n // 4)} if args.method == "pinn" else {}
        return dict(residual_points=n, initial_points=max(64, n // 4), **extra)

    ckpt = Path(args.checkpoint_dir) if args.checkpoint_dir else None
    if args.windows is not None and args.method != "pinn":
        raise ValueError("--windows (time marching) applies to --method pinn")
    if args.windows is not None:
        result = pinns.train_pinn_marching(prob, model, windows=args.windows, steps=args.steps,
                                           key=key_train, optimizer=args.optimizer,
                                           learning_rate=args.lr, refine=args.refine,
                                           refine_steps=args.refine_steps,
                                           checkpoint_dir=ckpt, **points(args.points))
    else:
        result = pinns.train_pinn(prob, model, steps=args.steps, key=key_train,
                                  optimizer=args.optimizer, learning_rate=args.lr,
                                  checkpoint_dir=ckpt, **points(args.points))
    if args.refine and args.windows is None:
        result = pinns.train_pinn(prob, result.model, steps=args.refine_steps,
                                  key=jax.random.fold_in(key_train, 1),
                                  optimizer=args.refine,
                                  checkpoint_dir=ckpt / "refine" if ckpt else None,
                                  **points(args.refine_points or args.points))
    error = pinns.relative_error(prob, result.model)
    shown = pinns.predict_on_reference(prob, result.model, resolution=args.resolution or 128)
    out = Path(args.out)
    label = {"pinn": "PINN", "lpinn": "Lagrangian PINN"}[args.method]
    recipe = args.optimizer + (f" + {args.refine}" if args.refine else "")
    if args.windows is not None:
        recipe = f"time marching, {args.windows} windows: {recipe}"
    png = out / f"{args.problem}_{args.method}.png"
    problems.plot_reference(shown, f"{args.problem}: {label} ({recipe}), relative L2 "
                                   f"{error:.2e}", png)
    record = {"problem": args.problem, "parameters": prob.parameters, "method": args.method,
              "optimizer": args.optimizer, "steps": args.steps, "refine": args.refine,
              "refine_steps": args.refine_steps if args.refine else 0,
              "residual_points": args.points, "refine_points": args.refine_points,
              "width": args.width,
              "depth": args.depth, "learning_rate": args.lr, "relative_l2_error": error,
              "windows": args.windows,
              "final_loss": float(result.losses[-1]) if len(result.losses) else None,
              "status": getattr(result, "status", "ok"), "figure": str(png)}
    with atomic_open(out / f"{args.problem}_{args.method}.json", "w") as f:
        json.dump(record, f, indent=2)
    print(f"{args.problem}: {label} ({recipe}) relative L2 error against the reference "
          f"{error:.3e}")
    print(f"saved {png}")
    return 0
