"""The `sciopt` command: argument parsing and the error boundary.

Every error a user can cause (unknown names, bad values, missing or corrupt files) ends as
one line on stderr and exit status 2; `--debug` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .. import __version__


class UsageError(Exception):
    """A command-line usage error (exit status 2)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, no usage dump
        raise UsageError(f"{self.prog}: {message} (see '{self.prog} --help')")


class _Formatter(argparse.RawDescriptionHelpFormatter):
    pass


def _subcommand(sub, name: str, help: str, epilog: str) -> argparse.ArgumentParser:
    return sub.add_parser(name, help=help, description=help, epilog=epilog,
                          formatter_class=_Formatter)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="sciopt",
        description="sciopt: scientific machine learning and PDE-constrained optimization "
                    "in JAX.",
        epilog="examples:\n  sciopt info\n  sciopt problems heat1d\n  sciopt bench quick\n"
               "  sciopt data inspect data/heat1d.h5",
        formatter_class=_Formatter,
    )
    parser.add_argument("--version", action="version", version=f"sciopt {__version__}")
    parser.add_argument("--debug", action="store_true",
                        help="show full tracebacks instead of one-line errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    from . import _bench, _data, _info, _problems, _solve
    from ._plugins import plugins

    # the core's commands, then those installed packages provide (`sciopt.commands`)
    for module in (_info, _problems, _solve, _bench, _data,
                   *plugins("sciopt.commands").values()):
        p = _subcommand(sub, module.NAME, module.HELP, module.EPILOG)
        module.configure(p)
        p.set_defaults(handler=module.run)
    return parser


def _one_line(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return " ".join(text.split())


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `sciopt` command. Returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return 0
        return int(args.handler(args) or 0)
    except SystemExit as e:  # --help / --version
        return int(e.code or 0) if isinstance(e.code, int) else 0
    except KeyboardInterrupt:
        print("sciopt: interrupted", file=sys.stderr)
        return 130
    except (UsageError, ValueError, OSError, LookupError, TypeError, FloatingPointError) as e:
        if debug:
            raise
        prefix = "" if isinstance(e, UsageError) else "sciopt: error: "
        print(prefix + _one_line(e), file=sys.stderr)
        return 2
    except Exception as e:  # a bug, not bad input: still one line unless --debug
        if debug:
            raise
        print(f"sciopt: internal error: {type(e).__name__}: {_one_line(e)} (rerun with --debug "
              f"for the traceback)", file=sys.stderr)
        return 1
