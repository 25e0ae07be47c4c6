"""`sciopt data`: dataset files."""

from __future__ import annotations

import json

NAME = "data"
HELP = "work with datasets in the PDEBench HDF5 layout"
EPILOG = ("examples:\n  sciopt data generate burgers1d_periodic --samples 256 --resolution 256 "
          "--seed 0 --out data/burgers.h5\n  sciopt data inspect data/burgers.h5\n"
          "  sciopt data inspect data/burgers.h5 --json --no-verify")


def configure(p) -> None:
    from ..data import PRESETS
    from ._app import _Parser

    sub = p.add_subparsers(dest="data_command", metavar="ACTION", parser_class=_Parser,
                           required=True)
    q = sub.add_parser("inspect", help="validate a dataset file and summarise it",
                       description="Validate a dataset file (layout, attributes, checksums, "
                                   "NaN/Inf) and summarise it.",
                       epilog="examples:\n  sciopt data inspect FILE.h5\n"
                              "  sciopt data inspect FILE.h5 --json")
    q.add_argument("file", help="the HDF5 file")
    q.add_argument("--json", action="store_true", help="print JSON instead of text")
    q.add_argument("--no-verify", action="store_true",
                   help="skip reading every chunk (checksums, NaN/Inf)")
    g = sub.add_parser(
        "generate", help="solve random initial conditions and write a dataset",
        description="Draw initial conditions from a Gaussian random field, solve them with the "
                    "problem's reference solver in vmapped chunks, and write the PDEBench "
                    "layout atomically. Killed and re-run with the same arguments, it "
                    "continues from the last finished chunk.",
        epilog="examples:\n  sciopt data generate burgers1d_periodic --samples 256 "
               "--resolution 256 --seed 0 --out data/burgers.h5\n"
               "  sciopt data generate allen_cahn1d --samples 64 --resolution 128 --seed 1 "
               "--out ac.h5 --param a=2 --std 0.5\n"
               "  sciopt data generate burgers1d_periodic --samples 1200 --resolution 128 "
               "--seed 0 --out burgers_fno.h5 --param nu=0.1 --param length=1 --times 2 "
               "--covariance matern\n"
               "  sciopt data generate navier_stokes2d --preset fno --samples 100 --seed 0 "
               "--out ns.h5 --param nu=1e-3",
        formatter_class=p.formatter_class)
    g.add_argument("problem", help="a periodic 1D/2D problem or darcy2d (see 'sciopt problems')")
    g.add_argument("--samples", type=int, default=None,
                   help="number of trajectories (required unless --preset sets it)")
    g.add_argument("--resolution", type=int, default=None,
                   help="grid points per axis (even for periodic problems; required unless "
                        "--preset sets it)")
    g.add_argument("--seed", type=int, required=True, help="PRNG seed")
    g.add_argument("--out", required=True, help="output .h5 file")
    g.add_argument("--preset", default=None, choices=sorted(PRESETS),
                   help="sizes (samples, resolution, times, horizon) of a known collection; "
                        "explicit options win")
    g.add_argument("--dtype", default="float32", choices=["float32", "float64"],
                   help="stored precision (solves always run in float64; default float32 as "
                        "in PDEBench)")
    g.add_argument("--times", type=int, default=None,
                   help="saved times, including t = 0 (default 11)")
    g.add_argument("--t-final", type=float, default=None, help="final time")
    g.add_argument("--dt", type=float, default=None, help="solver time step")
    g.add_argument("--covariance", default="squared_exponential",
                   choices=["squared_exponential", "matern"],
                   help="initial-condition field: squared_exponential (--length-scale, --std) "
                        "or matern, sigma^2 (-Laplacian + tau^2)^(-alpha) (--alpha, --tau, "
                        "--sigma; defaults 2, 5, 25: the FNO paper's Burgers)")
    g.add_argument("--length-scale", type=float, default=None,
                   help="random-field correlation length, as a fraction of the period "
                        "(default 0.1)")
    g.add_argument("--std", type=float, default=None,
                   help="random-field standard deviation (default 1)")
    for name, doc in (("alpha", "Matern smoothness exponent"),
                      ("tau", "Matern inverse length scale"), ("sigma", "Matern amplitude")):
        g.add_argument(f"--{name}", type=float, default=None, help=doc)
    g.add_argument("--chunk-size", type=int, default=32, help="trajectories per chunk")
    g.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                   help="a problem parameter (repeatable)")
    g.add_argument("--overwrite", action="store_true", help="replace an existing output")


def parse_params(items: list[str]) -> dict[str, str]:
    """`["a=1", "b=x"]` -> `{"a": "1", "b": "x"}` (the registry parses the values)."""
    params = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise ValueError(f"--param takes NAME=VALUE; got {item!r}")
        params[name] = value
    return params


def run(args) -> int:
    if args.data_command == "generate":
        import jax

        from ..data import generate_dataset

        jax.config.update("jax_enable_x64", True)  # solve in float64, store as --dtype
        path = generate_dataset(
            args.out, args.problem, samples=args.samples, resolution=args.resolution,
            seed=args.seed, num_times=args.times, t_final=args.t_final, dt=args.dt,
            length_scale=args.length_scale, std=args.std, covariance=args.covariance,
            alpha=args.alpha, tau=args.tau, sigma=args.sigma, chunk_size=args.chunk_size,
            params=parse_params(args.param), preset=args.preset, dtype=args.dtype,
            overwrite=args.overwrite)
        print(f"wrote {path}")
        return 0
    from ..data import inspect_dataset

    info = inspect_dataset(args.file, verify=not args.no_verify)
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    print(f"file:       {info['file']} ({info['size_bytes']} bytes, {info['layout']} layout)")
    for name, a in info["arrays"].items():
        print(f"  {name:<14} {str(tuple(a['shape'])):<24} {a['dtype']}")
    for k, v in info["attrs"].items():
        print(f"  @{k:<13} {v}")
    if info.get("verified"):
        print(f"checksums:  ok; non-finite values: {info['nonfinite_values']}")
    return 0
