"""Checks at the boundary of the public API: each raises `ValueError` with a message that
says what was expected, what was given, and how to fix it."""

from __future__ import annotations

import numbers
from collections.abc import Iterable
from typing import Any


def positive_int(name: str, value: Any, *, allow_zero: bool = False) -> int:
    """Return `value` as an `int` after checking it is a positive (or non-negative) integer."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(
            f"{name} must be an integer, got {value!r} of type {type(value).__name__}"
        )
    value = int(value)
    lower = 0 if allow_zero else 1
    if value < lower:
        kind = "a non-negative" if allow_zero else "a positive"
        raise ValueError(f"{name} must be {kind} integer, got {value}")
    return value


def positive_float(name: str, value: Any, *, allow_zero: bool = False) -> float:
    """Return `value` as a `float` after checking it is finite and positive."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a real number, got {value!r} of type "
                         f"{type(value).__name__}")
    value = float(value)
    if not value == value or value in (float("inf"), float("-inf")):
        raise ValueError(f"{name} must be finite, got {value}")
    if value < 0 or (value == 0 and not allow_zero):
        kind = "non-negative" if allow_zero else "positive"
        raise ValueError(f"{name} must be {kind}, got {value}")
    return value


def one_of(name: str, value: Any, allowed: Iterable[Any]) -> Any:
    """Check that `value` is one of `allowed`."""
    allowed = tuple(allowed)
    if value not in allowed:
        choices = ", ".join(repr(a) for a in allowed)
        raise ValueError(f"{name} must be one of {choices}; got {value!r}")
    return value
