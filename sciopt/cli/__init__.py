"""The `sciopt` command-line interface (the only core module that may import layer 1,
lazily)."""

import sys

from ._app import build_parser as build_parser


def main() -> None:
    """Console entry point."""
    from ._app import main as _main

    sys.exit(_main())
