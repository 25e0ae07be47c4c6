"""The `sciopt` command-line interface. Sub-commands and `sciopt solve` methods of the
method packages are plug-ins found through entry points (`sciopt.commands`,
`sciopt.solve_methods`): the core imports no method package."""

import sys

from ._app import build_parser as build_parser
from ._data import parse_params as parse_params
from ._plugins import plugins as plugins


def main() -> None:
    """Console entry point."""
    from ._app import main as _main

    sys.exit(_main())
