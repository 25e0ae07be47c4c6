"""`python -m sciopt.cli` is the `sciopt` command."""

from . import main

main()
