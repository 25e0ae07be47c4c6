"""The PINN methods of `sciopt solve` (`--method pinn`, `--method lpinn`): train, compare
with the reference, save a figure and a JSON record. Found by the core CLI through the entry
point group `sciopt.solve_methods`, so the core never imports `pinns`."""

from __future__ import annotations

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
    """Train a PINN on the problem (`pinns.PINNRecipe` from the flags, run by
    `pinns.train_and_evaluate`); report its error against the reference; save a figure of
    prediction and error and a JSON record (`pinns.save_run`)."""
    import jax

    import pinns

    if args.windows is not None and args.method != "pinn":
        raise ValueError("--windows (time marching) applies to --method pinn")
    recipe = pinns.PINNRecipe(
        model=args.method, width=args.width, depth=args.depth,
        optimizer=pinns.optimizer_for(args.optimizer, args.lr), steps=args.steps,
        points=args.points, refine=args.refine and pinns.optimizer_for(args.refine),
        refine_steps=args.refine_steps, refine_points=args.refine_points,
        windows=args.windows)
    result = pinns.train_and_evaluate(prob, recipe, key=jax.random.key(args.seed),
                                      checkpoint_dir=args.checkpoint_dir)
    record = pinns.save_run(result, prob, args.problem, args.out,
                            {"learning_rate": args.lr, "seed": args.seed})
    label = {"pinn": "PINN", "lpinn": "Lagrangian PINN"}[args.method]
    print(f"{args.problem}: {label} ({recipe.describe()}) relative L2 error against the "
          f"reference {result.relative_l2:.3e}")
    print(f"saved {record['figure']}")
    return 0
