"""Plug-ins: the sub-commands, solve methods and bench suites that installed packages
provide through Python entry points, so the core CLI imports no method package."""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points
from types import ModuleType


def plugins(group: str) -> dict[str, ModuleType]:
    """The modules registered under the entry point `group`, by entry point name (sorted).

    **Arguments:** `group`, e.g. `"sciopt.commands"`.

    **Returns:** `{name: module}`; a module that fails to import raises (a broken install
    is a bug to see, not to hide).
    """
    found = {}
    for ep in sorted(entry_points(group=group), key=lambda e: e.name):
        found[ep.name] = importlib.import_module(ep.value.split(":")[0])
    return found
