"""Every public callable, one wrong argument at a time (`tests/_sweep.py`): each wrong call
raises from our own code (a message for the user) or returns a result with no NaN, and
leaves no partial file. The callables are split over three test files so that pytest-xdist
runs them side by side; this one also checks that every public callable is swept or
exempt for a stated reason. `python -m tests._sweep first|more|methods` prints the
counts."""

import importlib
import pkgutil

import sciopt

from ._sweep import sweep, valid_calls
from ._sweep_more import EXEMPT, method_calls, more_calls


def public_callables() -> set[str]:
    """`package.name` of every callable in the `__all__` of `flows`, `operators`, `pinns`
    and the public `sciopt.*` modules."""
    modules = ["flows", "operators", "pinns"] + [
        f"sciopt.{m.name}" for m in pkgutil.iter_modules(sciopt.__path__)
        if not m.name.startswith("_")]
    names = set()
    for name in modules:
        module = importlib.import_module(name)
        for attr in getattr(module, "__all__", []):
            if callable(getattr(module, attr)):
                names.add(f"{name.removeprefix('sciopt.')}.{attr}")
    return names


def test_every_public_callable_is_swept_or_exempt(tmp_path):
    swept = {name for calls in (valid_calls(tmp_path / "a"), more_calls(tmp_path / "b"),
                                method_calls(tmp_path / "c")) for name, _, _ in calls}
    public = public_callables()
    assert len(public) > 250
    missing = sorted(public - swept - set(EXEMPT))
    assert not missing, f"public callables neither swept nor exempt: {missing}"
    stale = sorted(set(EXEMPT) - public)
    assert not stale, f"exempt names that are not public callables: {stale}"


def test_one_wrong_argument_per_parameter(tmp_path):
    callables, tried, failures = sweep(tmp_path)
    assert callables >= 90 and tried >= 1500
    assert not failures, "\n".join(failures)
