"""`sciopt problems`: the PDE registry."""

from __future__ import annotations

import json

NAME = "problems"
HELP = "list the registered PDE problems and their parameters"
EPILOG = ("examples:\n  sciopt problems\n  sciopt problems heat1d\n"
          "  sciopt problems heat1d --json")


def configure(p) -> None:
    p.add_argument("name", nargs="?", help="show one problem's parameters")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")


def run(args) -> int:
    from rich.console import Console
    from rich.table import Table

    from .. import problems

    names = [args.name] if args.name else problems.names()
    info = [problems.describe(n) for n in names]  # raises on an unknown name
    if args.json:
        print(json.dumps(info if not args.name else info[0], indent=2))
        return 0
    console = Console()
    for d in info:
        table = Table(title=f"{d['name']} ({d['family']}): {d['summary']}", title_justify="left")
        for col in ("parameter", "type", "default", "meaning"):
            table.add_column(col)
        for p in d["parameters"]:
            table.add_row(p["name"], p["type"], repr(p["default"]), p["doc"])
        console.print(table)
    return 0
