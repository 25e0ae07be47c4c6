"""`sciopt train-operator MODEL --data FILE`: train a neural operator on a generated data
set, report its test error, save the model, its loss curve and a prediction figure.

A `sciopt` sub-command this package provides (entry point group `sciopt.commands`), so
the core CLI never imports `operators`."""

from __future__ import annotations

from pathlib import Path

NAME = "train-operator"
HELP = "train a neural operator (fno, deeponet, multionet, dymixop) on a data file"
EPILOG = ("examples:\n"
          "  sciopt data generate burgers1d_periodic --samples 1200 --resolution 128 "
          "--times 2 --t-final 1 --param nu=0.1 --param length=1 --covariance matern "
          "--seed 0 --out data/burgers.h5\n"
          "  sciopt train-operator fno --data data/burgers.h5 --train 1000 --test 200 "
          "--steps 5000\n"
          "  sciopt train-operator dymixop --dataset burgers_128   # the tuned CPU case\n"
          "  sciopt train-operator dymixop --data data/darcy.h5 --option hidden=32 "
          "--option modes=12\n"
          "  sciopt train-operator deeponet --data data/burgers.h5 --checkpoint-dir ckpt/don\n"
          "  sciopt train-operator dymixop --data data/ns.h5 --train 160 --test 40 "
          "--rollout-steps 2   # trajectories\n"
          "  sciopt train-operator dymixop --data data/ns.h5 --train 160 --test 40 "
          "--curriculum 1:1000:20:3e-3,2:500:10:1e-3,4:300:5:5e-4,8:200:2:2.5e-4")


def configure(p) -> None:
    p.add_argument("model", help="fno, deeponet, multionet or dymixop")
    p.add_argument("--data", default=None,
                   help="an HDF5 file from 'sciopt data generate' (or --dataset)")
    p.add_argument("--dataset", default=None,
                   help="a benchmark data set (operators.DATASETS: burgers_128, "
                        "burgers_1024, darcy_29, darcy_85, navier_stokes_32): its tuned "
                        "configuration for MODEL (--target), its sizes, and its file, "
                        "generated and cached under --data-dir unless --data is given; "
                        "flags below override the configuration")
    p.add_argument("--target", default="cpu", choices=["cpu", "gpu", "quick"],
                   help="which tuned configuration --dataset takes (default cpu)")
    p.add_argument("--data-dir", default=None,
                   help="cache folder of --dataset files (default $SCIOPT_DATA, else data/)")
    p.add_argument("--train", type=int, default=None,
                   help="training samples, the first of the file (default 80%%)")
    p.add_argument("--test", type=int, default=None,
                   help="test samples, those after the training ones (default: the rest)")
    p.add_argument("--input-time", type=int, default=0,
                   help="time-dependent sets: index of the input time (default 0)")
    p.add_argument("--output-time", type=int, default=-1,
                   help="time-dependent sets: index of the output time (default the last)")
    p.add_argument("--rollout-steps", type=int, default=None, metavar="K",
                   help="time-dependent sets: train a grid model (fno, dymixop) as a time "
                        "stepper through its own K-step rollout; --train / --test then "
                        "count trajectories, the test error is the one-step error")
    p.add_argument("--curriculum", default=None, metavar="K:STEPS:BATCH:LR,...",
                   help="time-dependent sets: train a grid model through rollouts of growing "
                        "length, one comma-separated stage per K (replaces --rollout-steps, "
                        "--steps, --batch-size and --lr; --train / --test count "
                        "trajectories)")
    p.add_argument("--steps", type=int, default=None, help="optimiser steps (default 2000)")
    p.add_argument("--batch-size", type=int, default=None,
                   help="samples per step (default 20)")
    p.add_argument("--lr", type=float, default=None,
                   help="AdamW learning rate, cosine decay (default 1e-3)")
    p.add_argument("--option", action="append", default=[], metavar="NAME=VALUE",
                   help="a model constructor argument, e.g. width=32, modes=16, hidden=32 "
                        "(repeatable)")
    p.add_argument("--seed", type=int, default=0, help="initialisation / batch-order seed")
    p.add_argument("--float32", action="store_true", help="train in float32")
    p.add_argument("--checkpoint-dir", default=None,
                   help="checkpoints (a re-run resumes from the latest)")
    p.add_argument("--out", default="results/operator",
                   help="folder for MODEL.eqx, MODEL.json and the PNGs")


def run(args) -> int:
    import dataclasses

    import jax
    import matplotlib

    jax.config.update("jax_enable_x64", not args.float32)
    matplotlib.use("Agg")
    import numpy as np

    import operators
    from sciopt.cli import parse_params
    from sciopt.validate import positive_int

    dtype = np.float32 if args.float32 else np.float64
    config, dataset = _base_config(args)
    options = {k: _value(v) for k, v in parse_params(args.option).items()}
    stages = _stages(args.curriculum) if args.curriculum is not None else config.curriculum
    flags = {"--rollout-steps": args.rollout_steps, "--steps": args.steps,
             "--batch-size": args.batch_size, "--lr": args.lr}
    given = [flag for flag, value in flags.items() if value is not None]
    if stages and given:
        who = ("--curriculum" if args.curriculum is not None
               else f"the tuned configuration of {args.dataset}")
        raise ValueError(f"{who} sets each stage's rollout steps, steps, batch size and "
                         f"learning rate; drop {', '.join(given)}")
    for flag, value in flags.items():
        if value is not None and flag != "--lr":
            positive_int(flag, value)
    changes = {"steps": args.steps, "batch_size": args.batch_size, "learning_rate": args.lr,
               "rollout_steps": args.rollout_steps}
    config = dataclasses.replace(
        config, options={**config.options, **options}, curriculum=stages and tuple(stages),
        **{k: v for k, v in changes.items() if v is not None})
    trajectory_mode = (config.curriculum is not None or args.rollout_steps is not None
                       or (dataset is not None and dataset.time_stepping))
    source = args.data
    if source is None:
        quick = dataset.quick_sizes if args.target == "quick" else None
        source = dataset.file(sum(quick or dataset.sizes), data_dir=args.data_dir)
    if trajectory_mode:
        if args.input_time != 0 or args.output_time != -1:
            raise ValueError("rollout training (--rollout-steps, --curriculum or a "
                             "time-stepping --dataset) trains on every saved time; it takes "
                             "no --input-time or --output-time")
        data = operators.rollout_pairs(source, steps=1).astype(dtype)
        n = data.num_samples // data.attrs["windows_per_trajectory"]  # trajectories
    else:
        data = operators.operator_pairs(source, input_time=args.input_time,
                                        output_time=args.output_time).astype(dtype)
        n = data.num_samples
    sizes = None
    if dataset is not None and args.data is None:
        sizes = dataset.quick_sizes if args.target == "quick" else None
        sizes = sizes or dataset.sizes
    n_train = (positive_int("--train", args.train) if args.train is not None
               else sizes[0] if sizes else int(0.8 * n))
    n_test = (positive_int("--test", args.test) if args.test is not None
              else sizes[1] if sizes else n - n_train)
    train, test = (data.split_trajectories(n_train, n_test) if trajectory_mode
                   else data.split(n_train, n_test))
    key_model, key_train = jax.random.split(jax.random.key(args.seed))
    print(f"{args.model}: {n_train} train / {n_test} test "
          f"{'trajectories' if trajectory_mode else 'samples'} on a {data.grid} grid; "
          f"{config.total_steps} steps")
    result = operators.train_and_evaluate(args.model, train, test, config,
                                          model_key=key_model, train_key=key_train,
                                          source=source, checkpoint_dir=args.checkpoint_dir)
    record = operators.save_run(result, test, args.out, {
        "data": str(source), "dataset": args.dataset, "train_samples": n_train,
        "test_samples": n_test})
    print(f"{args.model}: {result.parameters} parameters; test relative L2 "
          f"{result.test_relative_l2:.3e} (train {result.train_relative_l2:.3e}) after "
          f"{result.steps} steps in {result.wall_s:.1f} s; inference "
          f"{1e3 * result.inference_s:.3f} ms/sample")
    print(f"saved {record['saved']}, {Path(args.out) / (args.model + '.json')} and the "
          f"figures")
    return 0


def _base_config(args):
    """The configuration the flags start from: the tuned one of `--dataset` (with the
    data set), else the defaults (2000 steps, batch 20, lr 1e-3)."""
    import operators

    if args.dataset is None:
        if args.data is None:
            raise ValueError("give --data FILE, or --dataset NAME (one of "
                             f"{', '.join(operators.DATASETS)}) for a benchmark set and its "
                             f"tuned configuration")
        return operators.TrainingConfig({}, 2000, 20, 1e-3), None
    config = operators.tuned_config(args.dataset, args.model, target=args.target)
    return config, operators.DATASETS[args.dataset]


def _stages(text: str) -> list[tuple[int, int, int, float]]:
    """`--curriculum K:STEPS:BATCH:LR,...` as `train_rollout_curriculum` stages."""
    stages = []
    for part in text.split(","):
        fields = part.strip().split(":")
        try:
            if len(fields) != 4:
                raise ValueError
            stages.append((int(fields[0]), int(fields[1]), int(fields[2]), float(fields[3])))
        except ValueError:
            raise ValueError(f"--curriculum: cannot read stage {part.strip()!r} as "
                             f"K:STEPS:BATCH:LR (e.g. 2:500:10:1e-3)") from None
    return stages


def _value(text: str):
    """A constructor argument from the command line: an int, a float, `true` / `false`, a
    comma-separated list of ints (e.g. `modes=12,12`) or a string."""
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    for parse in (int, float):
        try:
            return parse(text)
        except ValueError:
            pass
    if "," in text:
        try:
            return [int(v) for v in text.split(",")]
        except ValueError:
            raise ValueError(f"--option: cannot read {text!r} as a list of integers") from None
    return text
