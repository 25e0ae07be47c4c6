"""The PINN methods of `sciopt solve` (`--method pinn`, `--method lpinn`): train, compare
with the reference, save a figure and a JSON record. Found by the core CLI through the entry
point group `sciopt.solve_methods`, so the core never imports `pinns`."""

from __future__ import annotations

import json
from pathlib import Path

METHODS = {"pinn": "train a physics-informed network and compare it with the reference",
           "lpinn": "a Lagrangian PINN (advection1d, burgers1d_periodic)"}


def configure(p) -> None:
    """Add the PINN options to `sciopt solve`."""
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


def run(args, prob) -> int:
    """Train a PINN on the problem; report its error against the reference; save a figure
    of prediction and error and a JSON record."""
    import jax

    import pinns
    from sciopt import problems
    from sciopt.bench import atomic_open

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
