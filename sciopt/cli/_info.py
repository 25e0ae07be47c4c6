"""`sciopt info`: versions, devices, precision."""

from __future__ import annotations

import json

NAME = "info"
HELP = "show sciopt, jax and jaxlib versions, the devices and whether float64 is on"
EPILOG = "examples:\n  sciopt info\n  sciopt info --json"


def configure(p) -> None:
    p.add_argument("--json", action="store_true", help="print JSON instead of text")


def run(args) -> int:
    from ..bench import environment

    env = environment()
    if args.json:
        print(json.dumps(env, indent=2))
        return 0
    for k, v in env.items():
        print(f"{k:>16}: {v}")
    return 0
