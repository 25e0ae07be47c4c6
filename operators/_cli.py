"""`sciopt train-operator MODEL --data FILE`: train a neural operator on a generated data
set, report its test error, save the model, its loss curve and a prediction figure.

A `sciopt` sub-command this package provides (entry point group `sciopt.commands`), so
the core CLI never imports `operators`."""

from __future__ import annotations

import json
import time
from pathlib import Path

NAME = "train-operator"
HELP = "train a neural operator (fno, deeponet, multionet, dymixop) on a data file"
EPILOG = ("examples:\n"
          "  sciopt data generate burgers1d_periodic --samples 1200 --resolution 128 "
          "--times 2 --t-final 1 --param nu=0.1 --param length=1 --covariance matern "
          "--seed 0 --out data/burgers.h5\n"
          "  sciopt train-operator fno --data data/burgers.h5 --train 1000 --test 200 "
          "--steps 5000\n"
          "  sciopt train-operator dymixop --data data/darcy.h5 --option hidden=32 "
          "--option modes=12\n"
          "  sciopt train-operator deeponet --data data/burgers.h5 --checkpoint-dir ckpt/don\n"
          "  sciopt train-operator dymixop --data data/ns.h5 --train 160 --test 40 "
          "--rollout-steps 2   # trajectories\n"
          "  sciopt train-operator dymixop --data data/ns.h5 --train 160 --test 40 "
          "--curriculum 1:1000:20:3e-3,2:500:10:1e-3,4:300:5:5e-4,8:200:2:2.5e-4")


def configure(p) -> None:
    p.add_argument("model", help="fno, deeponet, multionet or dymixop")
    p.add_argument("--data", required=True, help="an HDF5 file from 'sciopt data generate'")
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
    import jax
    import matplotlib

    jax.config.update("jax_enable_x64", not args.float32)
    matplotlib.use("Agg")
    import numpy as np

    import operators
    from sciopt.bench import atomic_open
    from sciopt.cli import parse_params
    from sciopt.validate import positive_int

    dtype = np.float32 if args.float32 else np.float64
    rollout_steps, stages = 1, None
    if args.curriculum is not None:
        stages = _stages(args.curriculum)
        given = [flag for flag, value in (("--rollout-steps", args.rollout_steps),
                                          ("--steps", args.steps),
                                          ("--batch-size", args.batch_size), ("--lr", args.lr))
                 if value is not None]
        if given:
            raise ValueError(f"--curriculum sets each stage's rollout steps, steps, batch "
                             f"size and learning rate; drop {', '.join(given)}")
    steps = args.steps if args.steps is not None else 2000
    batch_size = args.batch_size if args.batch_size is not None else 20
    lr = args.lr if args.lr is not None else 1e-3
    trajectory_mode = args.rollout_steps is not None or stages is not None
    if trajectory_mode:
        if args.rollout_steps is not None:
            rollout_steps = positive_int("--rollout-steps", args.rollout_steps)
        if args.input_time != 0 or args.output_time != -1:
            raise ValueError(f"--{'curriculum' if stages else 'rollout-steps'} trains on "
                             f"every saved time; it takes no --input-time or --output-time")
        data = operators.rollout_pairs(args.data, steps=1).astype(dtype)
        n = data.num_samples // data.attrs["windows_per_trajectory"]  # trajectories
    else:
        data = operators.operator_pairs(args.data, input_time=args.input_time,
                                        output_time=args.output_time).astype(dtype)
        n = data.num_samples
    n_train = positive_int("--train", args.train) if args.train is not None else int(0.8 * n)
    n_test = positive_int("--test", args.test) if args.test is not None else n - n_train
    if not trajectory_mode:
        train, test = data.split(n_train, n_test)
        fit_data = train
    else:
        train, test = data.split_trajectories(n_train, n_test)
        fit_data = train if rollout_steps == 1 or stages else operators.rollout_pairs(
            args.data, steps=rollout_steps).astype(dtype).split_trajectories(n_train, n_test)[0]
    options = {k: _value(v) for k, v in parse_params(args.option).items()}
    spec = operators.model_spec(args.model, train, **options)
    key_model, key_train = jax.random.split(jax.random.key(args.seed))
    model = operators.build_model(spec, key=key_model)
    print(f"{args.model}: {operators.count_parameters(model)} parameters; "
          f"{n_train} train / {n_test} test "
          f"{'trajectories' if trajectory_mode else 'samples'} on a {data.grid} grid")
    start = time.perf_counter()
    if stages:
        result = operators.train_rollout_curriculum(
            model, args.data, stages, trajectories=n_train, key=key_train,
            checkpoint_dir=args.checkpoint_dir)
        steps = result.step
    else:
        result = operators.train_operator(model, fit_data, steps=steps, key=key_train,
                                          batch_size=batch_size, learning_rate=lr,
                                          checkpoint_dir=args.checkpoint_dir,
                                          rollout_steps=rollout_steps)
    wall = time.perf_counter() - start
    model = result.model
    record = {"model": args.model, "spec": spec, "data": str(args.data),
              "train_samples": n_train, "test_samples": n_test, "steps": steps,
              "rollout_steps": rollout_steps, "curriculum": stages,
              "parameters": operators.count_parameters(model), "train_seconds": wall,
              "train_relative_l2": operators.evaluate(model, train),
              "test_relative_l2": operators.evaluate(model, test),
              "inference_seconds_per_sample": operators.inference_seconds(model, test)}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    saved = operators.save_model(out / f"{args.model}.eqx", model, spec,
                                 {"test_relative_l2": record["test_relative_l2"]})
    spectrum = operators.error_spectrum(model, test)
    record["error_spectrum"] = {k: v.tolist() for k, v in spectrum.items()}
    record["figures"] = _figures(out, args.model, model, test, np.asarray(result.losses),
                                 spectrum)
    with atomic_open(out / f"{args.model}.json", "w") as f:
        json.dump(record, f, indent=2)
    print(f"{args.model}: test relative L2 {record['test_relative_l2']:.3e} (train "
          f"{record['train_relative_l2']:.3e}) after {steps} steps in {wall:.1f} s; "
          f"inference {1e3 * record['inference_seconds_per_sample']:.3f} ms/sample")
    print(f"saved {saved}, {out / (args.model + '.json')} and the figures")
    return 0


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


def _figures(out: Path, name: str, model, test, losses, spectrum) -> list[str]:
    import jax.numpy as jnp
    import matplotlib.pyplot as plt
    import numpy as np

    import operators

    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.semilogy(losses)
    ax.set_xlabel("step")
    ax.set_ylabel("mean relative L2 (batch)")
    ax.set_title(f"{name}: training loss")
    fig.tight_layout()
    curve = out / f"{name}_loss.png"
    fig.savefig(curve, dpi=120)
    plt.close(fig)

    pred = np.asarray(operators.predict(model, jnp.asarray(test.inputs[:1]),
                                        jnp.asarray(test.coords)))[0, 0]
    true = test.outputs[0, 0]
    panels = [("input", test.inputs[0, 0]), ("reference", true), ("prediction", pred),
              ("error", pred - true)]
    fig, axes = plt.subplots(1, 4, figsize=(14, 3.2))
    for ax, (title, field) in zip(axes, panels, strict=True):
        if field.ndim == 1:
            ax.plot(test.coords[:, 0], field)
        else:
            im = ax.imshow(field.T, origin="lower", cmap="RdBu_r" if title == "error"
                           else "viridis")
            fig.colorbar(im, ax=ax, shrink=0.8)
        ax.set_title(title)
    fig.suptitle(f"{name}: first test sample")
    fig.tight_layout()
    sample = out / f"{name}_sample.png"
    fig.savefig(sample, dpi=120)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.semilogy(spectrum["wavenumber"], spectrum["error"], label="test error")
    ax.semilogy(spectrum["wavenumber"], spectrum["target"], "k--", lw=0.8, label="target")
    if np.min(spectrum["error"]) > 0:  # the target's round-off tail would squash the error
        ax.set_ylim(bottom=0.1 * np.min(spectrum["error"]))
    ax.set_xlabel("wavenumber shell |k|")
    ax.set_ylabel("rms amplitude per shell")
    ax.set_title(f"{name}: error spectrum (operators.error_spectrum)")
    ax.legend()
    fig.tight_layout()
    shells = out / f"{name}_spectrum.png"
    fig.savefig(shells, dpi=120)
    plt.close(fig)
    return [str(curve), str(sample), str(shells)]
