"""`sciopt solve PROBLEM --method reference`: the reference solution, its error against the
analytic solution where one exists, and a plot."""

from __future__ import annotations

import json
from pathlib import Path

NAME = "solve"
HELP = "solve a problem with a method; report the error and save a plot"
EPILOG = ("examples:\n  sciopt solve kdv1d --method reference --resolution 768\n"
          "  sciopt solve burgers1d_periodic --method reference --resolution 1024 --dt 2e-4\n"
          "  sciopt solve advection1d --param c=50 --out results/solve")


def configure(p) -> None:
    p.add_argument("problem", help="a registered problem (see 'sciopt problems')")
    p.add_argument("--method", default="reference", choices=["reference"],
                   help="the solver (more arrive with the method packages)")
    p.add_argument("--resolution", type=int, default=256, help="grid points (even)")
    p.add_argument("--times", type=int, default=11, help="saved times, including t = 0")
    p.add_argument("--dt", type=float, default=None, help="solver time step")
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                   help="a problem parameter (repeatable)")
    p.add_argument("--out", default="results/solve", help="folder for the JSON and PNG")


def run(args) -> int:
    import jax
    import matplotlib
    import numpy as np

    from .. import problems
    from .._atomic import atomic_open
    from .._validate import positive_int
    from ._data import parse_params

    jax.config.update("jax_enable_x64", True)  # references are float64
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    prob = problems.get(args.problem, **parse_params(args.param))
    resolution = positive_int("--resolution", args.resolution)
    num_times = positive_int("--times", args.times)
    if not isinstance(prob, problems.AbstractPeriodic1D):
        if not hasattr(prob, "solution"):
            raise ValueError(f"problem {args.problem!r} has no reference solver yet")
    x = (prob.grid(resolution).axes()[0] if isinstance(prob, problems.AbstractPeriodic1D)
         else np.linspace(0, 2 * np.pi, resolution, endpoint=False))
    t = np.linspace(0.0, prob.t_final, max(num_times, 2))
    kwargs = {"dt": args.dt} if isinstance(prob, problems.AbstractPeriodic1D) else {}
    u = np.asarray(prob.reference({"x": x}, t, **kwargs))[..., 0]
    record = {"problem": args.problem, "parameters": prob.parameters, "method": args.method,
              "resolution": resolution, "t_final": float(t[-1])}
    if hasattr(prob, "solution"):
        if isinstance(prob, problems.Burgers1DPeriodic):
            exact = np.stack([prob.solution(np.asarray(x), float(s)) for s in t])
        else:
            exact = np.asarray(prob.solution(np.asarray(x)[None], t[:, None]))
        err = float(np.linalg.norm(u - exact) / np.linalg.norm(exact))
        record["relative_l2_error"] = err
        print(f"{args.problem}: relative L2 error against the analytic solution {err:.3e}")
    else:
        print(f"{args.problem}: no analytic solution; reference computed")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(6, 4))
    im = ax.pcolormesh(np.asarray(x), t, u, shading="auto", cmap="RdBu_r")
    fig.colorbar(im, ax=ax, label="u")
    ax.set_xlabel("x")
    ax.set_ylabel("t")
    ax.set_title(f"{args.problem} ({args.method})")
    fig.tight_layout()
    png = out / f"{args.problem}_{args.method}.png"
    fig.savefig(png)
    plt.close(fig)
    record["figure"] = str(png)
    with atomic_open(out / f"{args.problem}_{args.method}.json", "w") as f:
        json.dump(record, f, indent=2)
    print(f"saved {png}")
    return 0
