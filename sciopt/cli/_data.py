"""`sciopt data`: dataset files."""

from __future__ import annotations

import json

NAME = "data"
HELP = "work with datasets in the PDEBench HDF5 layout"
EPILOG = ("examples:\n  sciopt data inspect data/heat1d.h5\n"
          "  sciopt data inspect data/heat1d.h5 --json --no-verify")


def configure(p) -> None:
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


def run(args) -> int:
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
