"""The PDE registry: problems by name, with typed, validated parameters."""

from __future__ import annotations

import abc
import dataclasses
import numbers
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import equinox as eqx
import numpy as np
from jaxtyping import Array, Float

from ..geometry import AbstractDomain
from ..validate import is_concrete

_MISSING = object()

if TYPE_CHECKING:
    from ._pointwise import Characteristics, PointwiseForm
    from ._reference import DataPlan, ReferenceRun


@dataclasses.dataclass(frozen=True)
class Param:
    """A problem parameter.

    **Fields:**

    - `name`, `default`, `doc`.
    - `kind`: `float`, `int`, `str` or `bool`.
    - `check`: optional `value -> str | None`; a string is the reason the value is rejected.
    - `choices`: allowed values (for `str` parameters).
    """

    name: str
    default: Any
    doc: str
    kind: type = float
    check: Callable[[Any], str | None] | None = None
    choices: tuple[Any, ...] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.isidentifier():
            raise ValueError(f"a parameter's name must be an identifier; got {self.name!r}")
        if self.kind not in (float, int, str, bool):
            raise ValueError(f"kind of parameter {self.name!r} must be float, int, str or bool; "
                             f"got {self.kind!r}")
        if self.check is not None and not callable(self.check):
            raise ValueError(f"check of parameter {self.name!r} must be a function value -> "
                             f"reason or None; got {type(self.check).__name__}")
        if self.choices is not None and not isinstance(self.choices, tuple | list):
            raise ValueError(f"choices of parameter {self.name!r} must be a tuple; got "
                             f"{self.choices!r}")
        if not isinstance(self.doc, str):
            raise ValueError(f"doc of parameter {self.name!r} must be a string; got "
                             f"{type(self.doc).__name__}")

    def coerce(self, problem: str, value: Any) -> Any:
        where = f"parameter {self.name!r} of problem {problem!r}"
        if isinstance(value, str) and self.kind is not str:
            value = _parse(value, self.kind, where)
        if self.kind is float:
            ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
        elif self.kind is int:
            ok = isinstance(value, numbers.Integral) and not isinstance(value, bool)
        else:
            ok = isinstance(value, self.kind)
        if not ok:
            raise ValueError(f"{where} must be of type {self.kind.__name__}; got {value!r} "
                             f"({type(value).__name__})")
        value = self.kind(value)
        if self.kind is float and not np.isfinite(value):
            raise ValueError(f"{where} must be finite; got {value}")
        if self.choices is not None and value not in self.choices:
            raise ValueError(f"{where} must be one of {', '.join(map(repr, self.choices))}; "
                             f"got {value!r}")
        if self.check is not None:
            reason = self.check(value)
            if reason:
                raise ValueError(f"{where} {reason}; got {value!r}")
        return value


def _parse(text: str, kind: type, where: str) -> Any:
    try:
        if kind is bool:
            if text.lower() in ("true", "1", "yes"):
                return True
            if text.lower() in ("false", "0", "no"):
                return False
            raise ValueError
        return kind(text)
    except ValueError:
        raise ValueError(f"{where} must be of type {kind.__name__}; got {text!r}") from None


def save_schedule(t: Any, dt: float | None, default_dt: float) -> tuple[np.ndarray, int, float]:
    """Check that `t` is uniformly spaced from 0 and split each save interval into equal
    steps no longer than `dt` (default `default_dt`).

    **Returns:**

    `(t as float array, steps per save, step size)`.
    """
    t = np.asarray(t, dtype=float)
    if t.ndim != 1 or len(t) < 2 or t[0] != 0 or not np.allclose(np.diff(t), t[1]):
        raise ValueError("times must be at least two uniformly spaced values starting at 0")
    dt = default_dt if dt is None else float(dt)
    if not dt > 0:
        raise ValueError(f"dt must be positive; got {dt}")
    per_save = max(1, int(np.ceil(float(t[1]) / dt - 1e-9)))
    return t, per_save, float(t[1]) / per_save


def positive(value: Any) -> str | None:
    return None if value > 0 else "must be positive"


class AbstractProblem(eqx.Module):
    """A PDE problem: equation, domain, initial/boundary conditions, parameters, reference.

    Concrete problems are registered with `register` and built with `get(name, **params)`.
    A registered class built directly checks its concrete field values against the same
    parameter rules (a traced value, inside a caller's jit / vmap / grad, is not checked).
    """

    def __check_init__(self) -> None:
        entry = next((e for e in _REGISTRY.values() if e.factory is type(self)), None)
        if entry is None:
            return
        for param in entry.params:
            value = getattr(self, param.name, _MISSING)
            if value is _MISSING or not is_concrete(value):
                continue
            if np.ndim(value) == 0 and hasattr(value, "dtype"):
                value = value.item()  # a concrete array leaf
            elif np.ndim(value) != 0:
                raise ValueError(f"parameter {param.name!r} of problem {entry.name!r} must "
                                 f"be a scalar; got shape {np.shape(value)}")
            param.coerce(entry.name, value)

    @property
    @abc.abstractmethod
    def domain(self) -> AbstractDomain:
        """The spatial domain."""

    @property
    @abc.abstractmethod
    def parameters(self) -> dict[str, Any]:
        """The parameter values this problem was built with."""

    @abc.abstractmethod
    def reference(self, coords: dict[str, Float[Array, " n"]], t: Float[Array, " t"]
                  ) -> Float[Array, "t ... c"]:
        """The reference solution on the grid `coords` (by axis) at times `t`."""

    # The capabilities below have defaults, so a new problem implements only what it
    # supports; callers (`run_reference`, `sciopt.data.generate_dataset`, the PINN
    # formulations, the CLI) ask the problem, never its class.

    def exact_solution(self, coords: dict[str, np.ndarray], t: np.ndarray | None
                       ) -> np.ndarray | None:
        """The analytic solution on the grid `coords` (by axis; `[t, x (, y)]`), or `None`
        where the problem has none (the default)."""
        return None

    def reference_run(self, resolution: int, t: np.ndarray | None, *,
                      dt: float | None = None) -> ReferenceRun:
        """The reference on the problem's natural grid of `resolution` points per axis at
        the times `t` (`None` for steady problems), as `run_reference` returns it."""
        raise ValueError(f"{type(self).__name__} has no reference runner")

    def pointwise_form(self) -> PointwiseForm | None:
        """The residual at one point, initial and boundary data, as PINN-type methods need
        them (`PointwiseForm`); `None` (the default) where the problem has no pointwise
        form they can use."""
        return None

    def characteristics(self) -> Characteristics | None:
        """The characteristics of a transport problem (for Lagrangian PINNs), or `None`
        (the default)."""
        return None

    def data_plan(self, resolution: int, *, seed: int, num_times: int,
                  t_final: float | None, dt: float | None, field: dict[str, Any],
                  default_field: bool) -> DataPlan:
        """How `sciopt.data.generate_dataset` draws inputs and solves them on `resolution`
        points per axis; `field` is the random initial condition asked for (`default_field`:
        the user left its options at their defaults)."""
        raise ValueError(f"{type(self).__name__} has no dataset generator yet (its class "
                         f"does not implement data_plan)")


@dataclasses.dataclass(frozen=True)
class _Entry:
    name: str
    factory: Callable[..., AbstractProblem]
    params: tuple[Param, ...]
    summary: str
    family: str


_REGISTRY: dict[str, _Entry] = {}


def register(name: str, factory: Callable[..., AbstractProblem], params: tuple[Param, ...], *,
             summary: str, family: str) -> None:
    """Register a problem factory under `name` (called with validated keyword parameters)."""
    for label, value in (("name", name), ("summary", summary), ("family", family)):
        if not isinstance(value, str) or not value:
            raise ValueError(f"{label} must be a non-empty string; got {value!r}")
    if not callable(factory):
        raise ValueError(f"factory must be a function or class building the problem from its "
                         f"parameters; got {type(factory).__name__}")
    if not isinstance(params, tuple | list) or not all(isinstance(p, Param) for p in params):
        raise ValueError(f"params must be a tuple of sciopt.problems.Param; got {params!r:.60}")
    if name in _REGISTRY:
        raise ValueError(f"problem {name!r} is already registered")
    _REGISTRY[name] = _Entry(name, factory, tuple(params), summary, family)


def unregister(name: str) -> None:
    """Remove the problem `name` from the registry (a plug-in's or a test's own problem)."""
    _entry(name)
    del _REGISTRY[name]


def names() -> list[str]:
    """The registered problem names, sorted."""
    return sorted(_REGISTRY)


def _entry(name: str) -> _Entry:
    if not isinstance(name, str) or name not in _REGISTRY:
        raise ValueError(f"unknown problem {name!r}; known problems: {', '.join(names())}")
    return _REGISTRY[name]


def describe(name: str) -> dict[str, Any]:
    """A JSON-serialisable description of a problem and its parameters."""
    e = _entry(name)
    return {
        "name": e.name,
        "family": e.family,
        "summary": e.summary,
        "parameters": [
            {"name": p.name, "type": p.kind.__name__, "default": p.default, "doc": p.doc}
            for p in e.params
        ],
    }


def get(name: str, **params: Any) -> AbstractProblem:
    """Build the problem `name` with `params` (others take their defaults).

    Unknown names and parameters, wrong types and out-of-range values raise `ValueError`
    that names the problem, the parameter and what is allowed.
    """
    e = _entry(name)
    known = {p.name: p for p in e.params}
    unknown = sorted(set(params) - set(known))
    if unknown:
        allowed = ", ".join(known) or "none"
        raise ValueError(f"unknown parameter(s) {', '.join(map(repr, unknown))} for problem "
                         f"{name!r}; allowed: {allowed}")
    values = {k: p.coerce(name, params.get(k, p.default)) for k, p in known.items()}
    return e.factory(**values)
