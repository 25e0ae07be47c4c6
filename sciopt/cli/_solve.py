"""`sciopt solve PROBLEM --method reference`: the reference solution, its error against the
analytic solution where one exists, and a plot."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ._plugins import plugins

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
    methods = solve_methods()
    p.add_argument("--method", default="reference",
                   choices=["reference", "inverse", *methods],
                   help="reference: the float64 reference solve; inverse: the problem's worked "
                        "inverse problem (darcy2d: permeability from 100 noisy pressures; "
                        "advection1d: the initial condition, with diffusion 0.02, from 8 "
                        "sensors; mbb_beam: SIMP topology optimisation); "
                        + "; ".join(f"{name}: {module.METHODS[name]}"
                                    for name, module in methods.items()))
    p.add_argument("--max-steps", type=int, default=300,
                   help="optimiser steps / iterations (inverse)")
    p.add_argument("--resolution", type=int, default=None,
                   help="grid points per axis (periodic: even; default 256 in 1D, 64 in 2D)")
    p.add_argument("--times", type=int, default=11, help="saved times, including t = 0")
    p.add_argument("--dt", type=float, default=None, help="solver time step")
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                   help="a problem parameter (repeatable)")
    p.add_argument("--out", default="results/solve", help="folder for the JSON and PNG")
    for module in dict.fromkeys(methods.values()):  # each plug-in adds its options once
        module.configure(p)


def solve_methods() -> dict[str, Any]:
    """The solve methods that installed packages provide (entry point group
    `sciopt.solve_methods`): method name -> its module (`METHODS`, `configure(parser)`,
    `run(args, problem)`)."""
    out = {}
    for module in plugins("sciopt.solve_methods").values():
        out |= {name: module for name in module.METHODS}
    return out


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
    methods = solve_methods()
    if args.method in methods:
        return methods[args.method].run(args, prob)
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
