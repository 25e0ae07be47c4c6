"""`sciopt bench SUITE`: run a benchmark suite and write results/<suite>.json, .md and PNGs."""

from __future__ import annotations

from pathlib import Path

from ..validate import positive_int

NAME = "bench"
HELP = "run a benchmark suite; write results/<suite>.json, a Markdown table and PNG plots"
EPILOG = ("examples:\n  sciopt bench quick              # the main job: every suite, small\n"
          "  sciopt bench train --repeats 7\n"
          "  sciopt bench pinn --only allen_cahn1d --out results/allen_cahn\n"
          "  sciopt bench operator --merge results/part1 results/part2 --out results/all\n"
          "  sciopt bench --list")


def configure(p) -> None:
    p.add_argument("suite", nargs="?", help="suite name (see --list)")
    p.add_argument("--list", action="store_true", help="list the available suites")
    p.add_argument("--out", default="results", help="output folder (default: results)")
    p.add_argument("--repeats", type=int, default=None,
                   help="timed repeats per case (median reported)")
    p.add_argument("--quick", action="store_true", help="run the suite's small configuration")
    p.add_argument("--only", default=None, metavar="TEXT",
                   help="run only the cases whose label contains TEXT (suites that list "
                        "cases: pinn, operator)")
    p.add_argument("--merge", nargs="+", default=None, metavar="DIR",
                   help="run nothing: merge the suite's records in these folders (a long "
                        "suite run in --only parts) into one table in --out; later folders' "
                        "rows replace earlier ones")


def run(args) -> int:
    from ..bench import available_suites, run_suite

    if args.list or args.suite is None:
        suites = available_suites()
        if not suites:
            raise ValueError("no benchmark suites found: reinstall sciopt (pip install .), "
                             "or set SCIOPT_BENCHMARKS=/path/to/your/suites")
        for name, path in suites.items():
            print(f"{name:<14} {path}")
        return 0
    if args.merge:
        if args.quick or args.only or args.repeats is not None:
            raise ValueError("--merge runs nothing; it takes no --quick, --only or --repeats")
        from ..bench import merge_suite

        merge_suite(Path(args.out), args.suite, args.merge)
        print(f"sciopt bench {args.suite}: merged {len(args.merge)} records into {args.out}/")
        return 0
    config = {"quick": bool(args.quick)}
    if args.only:
        config["only"] = args.only
    if args.repeats is not None:
        config["repeats"] = positive_int("--repeats", args.repeats)
    result = run_suite(args.suite, config, args.out)
    print(f"sciopt bench {args.suite}: done in {result['wall_time_s']:.1f} s; results in "
          f"{args.out}/")
    return 0
