"""Checks at the boundary of the public API, shared by every sciopt package.

Each check raises `ValueError` with a message that says what was expected, what was given,
and how to fix it. Checks on *values* work the same inside and outside a user's `jax.jit`,
`jax.vmap` or `jax.grad`:

- on concrete inputs (Python numbers, NumPy arrays, JAX arrays outside a transformation)
  they raise `ValueError` at once;
- on traced inputs they go through `equinox.error_if`, so the compiled program raises the
  same message when it runs with a bad value (an `EqxRuntimeError`), and never calls
  `bool()` on a tracer.

Numeric settings that do not fix a shape or a branch (epsilon, a temperature, a viscosity, a
step size) are stored as JAX array leaves (`real`), so a new value neither recompiles nor
blocks `vmap` / `grad` over it. Integer settings that fix shapes or loop lengths stay Python
ints (`positive_int`).
"""

from __future__ import annotations

import numbers
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Bool, Float

__all__ = [
    "array",
    "directory",
    "index",
    "is_concrete",
    "known_keys",
    "one_of",
    "output_file",
    "path",
    "positive_float",
    "positive_int",
    "positive_ints",
    "prng_key",
    "protocol",
    "real",
    "require",
    "sampler",
]


def is_concrete(*values: Any) -> bool:
    """Whether no leaf of `values` is a JAX tracer (so `bool()` / `float()` on it are safe).

    **Arguments:**

    - `values`: any pytrees.

    **Returns:** `True` outside `jit` / `vmap` / `grad` tracing of these values.
    """
    return not any(isinstance(leaf, jax.core.Tracer) for leaf in jax.tree.leaves(values))


def require(value: Any, ok: Bool[ArrayLike, "..."], message: str) -> Any:
    """Return `value` after checking that every entry of `ok` is true.


    **Arguments:**

    - `value`: the pytree the check guards (returned, with the check attached when traced).
    - `ok`: a boolean (array) condition on the inputs, or a function of no arguments that
      computes it: then it runs under `jax.ensure_compile_time_eval()`, so inputs that are
      concrete inside a caller's `jit` still raise at once.
    - `message`: the error's text: what was expected, what was given, how to fix it.

    **Returns:** `value`. Raises `ValueError(message)` at once when `ok` is concrete and
    false; when `ok` is traced, the check runs in the compiled program through
    `equinox.error_if` (which raises when it runs with a bad value).
    """
    if callable(ok):
        with jax.ensure_compile_time_eval():
            ok = ok()
    # (equinox.error_if itself runs outside ensure_compile_time_eval: under vmap there it
    # would evaluate the batched condition eagerly, and wrongly)
    if is_concrete(ok):
        if not np.all(np.asarray(ok)):  # NumPy: jnp would stage it inside a caller's jit
            raise ValueError(message)
        return value
    bad = ~jnp.all(jnp.asarray(ok))
    leaves, tree = jax.tree.flatten(value)
    if not leaves:
        return value
    leaves[0] = eqx.error_if(jnp.asarray(leaves[0]), bad, message)
    return jax.tree.unflatten(tree, leaves)


def real(
    name: str,
    value: Any,
    *,
    low: float | None = 0.0,
    low_inclusive: bool = False,
    high: float | None = None,
    high_inclusive: bool = False,
) -> Float[Array, ""]:
    """A real scalar setting as a JAX array leaf (weakly typed when given a Python number,
    so it follows the dtype of the arrays it meets), checked to be finite and in range.

    **Arguments:**

    - `name`: the setting's name, for the message.
    - `value`: a Python real, a 0-d array, or a tracer of one.
    - `low`, `high`: the bounds (`None`: unbounded); `low_inclusive`, `high_inclusive`
      whether they are allowed. The default is a positive number.

    **Returns:** a 0-d floating array. Raises `ValueError` for a non-real, non-scalar or
    (when concrete) out-of-range value; a traced value is checked by `require`.
    """
    if isinstance(value, bool) or not (isinstance(value, numbers.Real)
                                       or hasattr(value, "shape")):
        raise ValueError(f"{name} must be a real number, got {value!r} of type "
                         f"{type(value).__name__}")
    with jax.ensure_compile_time_eval():  # concrete values stay concrete inside a jit
        if isinstance(value, numbers.Real):
            arr = jnp.asarray(float(value))
        else:
            arr = jnp.asarray(value)
            if arr.shape != ():
                raise ValueError(f"{name} must be a scalar; got an array of shape {arr.shape}")
            if not jnp.issubdtype(arr.dtype, jnp.floating):
                if jnp.issubdtype(arr.dtype, jnp.bool_) or not jnp.issubdtype(arr.dtype,
                                                                                jnp.number):
                    raise ValueError(f"{name} must be a real number, got dtype {arr.dtype}")
                arr = arr.astype(jnp.result_type(float))
        ok = jnp.isfinite(arr)
        parts = ["finite"]
        if low is not None:
            ok = ok & ((arr >= low) if low_inclusive else (arr > low))
            parts.append(f"{'>=' if low_inclusive else '>'} {low:g}")
        if high is not None:
            ok = ok & ((arr <= high) if high_inclusive else (arr < high))
            parts.append(f"{'<=' if high_inclusive else '<'} {high:g}")
        shown = f"{float(arr)!r}" if is_concrete(arr) else "a traced value outside that range"
    return require(arr, ok, f"{name} must be {' and '.join(parts)}; got {shown}")


def positive_int(name: str, value: Any, *, allow_zero: bool = False) -> int:
    """Return `value` as an `int` after checking it is a positive (or non-negative) integer.

    Integers fix shapes and loop lengths, so they stay static Python ints."""
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
    """Return `value` as a Python `float` after checking it is finite and positive: for
    settings that stay static because they fix a shape or a branch (use `real` otherwise)."""
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
    """Check that `value` is one of `allowed` (a choice of branch, so static)."""
    allowed = tuple(allowed)
    if value not in allowed:
        choices = ", ".join(repr(a) for a in allowed)
        raise ValueError(f"{name} must be one of {choices}; got {value!r}")
    return value


def _shape_text(shape: Sequence[int | str | None]) -> str:
    return "[" + ", ".join("*" if s is None else str(s) for s in shape) + "]"


def array(
    name: str,
    value: Any,
    *,
    ndim: int | Sequence[int] | None = None,
    shape: Sequence[int | str | None] | None = None,
    kind: Literal["float", "inexact", "int", "bool", "number"] = "float",
    finite: bool | Literal["no_nan", "not_positive_inf"] = True,
    min_size: int = 0,
    traced: bool = True,
) -> Array:
    """An array argument, converted and checked: its type, dtype, rank, shape and values.

    **Arguments:**

    - `name`: the argument's name, for the message.
    - `value`: anything `jnp.asarray` takes (a NumPy / JAX array, a nested list, a number),
      or a tracer.
    - `ndim`: the allowed rank(s).
    - `shape`: the expected shape, one entry per axis: an int (that size), `None` (any
      size) or a string (any size, named in the message, e.g. `"n"`). Implies `ndim`.
    - `kind`: `"float"` (integers and booleans are *promoted* to the default float dtype,
      never truncated; complex refused), `"inexact"` (as `"float"`, complex kept), `"int"`
      (integers only), `"bool"`, `"number"` (integers or floats, kept as given).
    - `finite`: `True` (no NaN or Inf), `"no_nan"`, `"not_positive_inf"` (NaN and +Inf
      refused, -Inf allowed: log-weights of zero), or `False` (no value check).
    - `min_size`: the least number of entries along the first axis.
    - `traced`: also check the values of a traced array (in the compiled program, through
      `equinox.error_if`); `False` checks concrete values only, for small functions called
      inside other solvers' loops, where the caller guards the values.

    **Returns:** the JAX array. Raises `ValueError` naming the argument, what was expected
    and what was given; the value check of a traced array runs through `require`.
    """
    if value is None or isinstance(value, str | bytes | Mapping) or callable(value):
        raise ValueError(f"{name} must be an array; got {type(value).__name__} {value!r:.60}")
    try:
        arr = value if isinstance(value, jax.Array) else jnp.asarray(value)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} must be an array of numbers; got {type(value).__name__} "
                         f"({err})") from None
    dtype = arr.dtype
    if kind in ("float", "inexact"):
        if (kind == "float" and jnp.issubdtype(dtype, jnp.complexfloating)) or not (
                jnp.issubdtype(dtype, jnp.number) or jnp.issubdtype(dtype, jnp.bool_)):
            raise ValueError(f"{name} must hold real numbers; got dtype {dtype}")
        if not jnp.issubdtype(dtype, jnp.inexact):
            arr = arr.astype(jnp.result_type(float))
    elif kind == "int":
        if not jnp.issubdtype(dtype, jnp.integer) or jnp.issubdtype(dtype, jnp.bool_):
            raise ValueError(f"{name} must hold integers; got dtype {dtype}")
    elif kind == "bool":
        if not jnp.issubdtype(dtype, jnp.bool_):
            raise ValueError(f"{name} must hold booleans; got dtype {dtype}")
    elif kind == "number":
        if jnp.issubdtype(dtype, jnp.complexfloating) or jnp.issubdtype(dtype, jnp.bool_) \
                or not jnp.issubdtype(dtype, jnp.number):
            raise ValueError(f"{name} must hold real numbers; got dtype {dtype}")
    else:
        raise ValueError(f"kind must be 'float', 'inexact', 'int', 'bool' or 'number'; got "
                         f"{kind!r}")
    if shape is not None:
        ndim = len(shape)
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed:
            want = _shape_text(shape) if shape is not None else (
                " or ".join(str(a) for a in allowed) + " axes")
            raise ValueError(f"{name} must be an array of shape {want}; got shape "
                             f"{tuple(arr.shape)} ({arr.ndim} axes)")
    if shape is not None:
        for axis, (want, got) in enumerate(zip(shape, arr.shape, strict=True)):
            if isinstance(want, int) and not isinstance(want, bool) and want != got:
                raise ValueError(f"{name} must have shape {_shape_text(shape)}; got "
                                 f"{tuple(arr.shape)} (axis {axis} is {got}, expected {want})")
    if min_size and (arr.ndim == 0 or arr.shape[0] < min_size):
        raise ValueError(f"{name} must hold at least {min_size} entr"
                         f"{'y' if min_size == 1 else 'ies'} along its first axis; got shape "
                         f"{tuple(arr.shape)}")
    if finite and jnp.issubdtype(arr.dtype, jnp.inexact) and arr.size and (
            traced or is_concrete(arr)):
        def ok():
            if finite is True:
                return jnp.all(jnp.isfinite(arr))
            if finite == "no_nan":
                return ~jnp.any(jnp.isnan(arr))
            return ~jnp.any(jnp.isnan(arr) | (arr == jnp.inf))
        what = {True: "NaN or Inf", "no_nan": "NaN", "not_positive_inf": "NaN or +Inf"}[finite]
        arr = require(arr, ok, f"{name} must not contain {what}; check the values passed "
                               f"(shape {tuple(arr.shape)})")
    return arr


def index(name: str, value: Any, size: int, *, of: str = "entries") -> int:
    """An index into an axis of `size` entries (negative counts from the end), as a
    non-negative Python int; raises `ValueError` when it is not an integer or out of range."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer index; got {value!r} of type "
                         f"{type(value).__name__}")
    value = int(value)
    if not -size <= value < size:
        raise ValueError(f"{name} must be in [{-size}, {size - 1}] (there are {size} {of}); "
                         f"got {value}")
    return value % size


def known_keys(name: str, mapping: Any, allowed: Iterable[str]) -> dict[str, Any]:
    """`mapping` as a dict after checking that it is a mapping whose keys are all in
    `allowed` (a misspelt key is an error, not ignored). `None` gives `{}`."""
    if mapping is None:
        return {}
    if not isinstance(mapping, Mapping):
        raise ValueError(f"{name} must be a mapping (a dict); got {type(mapping).__name__}")
    allowed = tuple(allowed)
    unknown = [k for k in mapping if k not in allowed]
    if unknown:
        raise ValueError(f"{name} has unknown key(s) {', '.join(map(repr, unknown))}; the "
                         f"known keys are {', '.join(map(repr, allowed))}")
    return dict(mapping)


def path(name: str, value: Any) -> Path:
    """A path argument (str or os.PathLike) as a `Path`; anything else is refused."""
    return _as_path(name, value)


def _as_path(name: str, value: Any) -> Path:
    if not isinstance(value, str | os.PathLike) or (isinstance(value, str) and not value):
        raise ValueError(f"{name} must be a path (str or os.PathLike); got "
                         f"{type(value).__name__} {value!r:.60}")
    return Path(value)


def directory(name: str, value: Any) -> Path:
    """A directory argument (created later if missing): refused when the path exists and is
    not a directory, or when one of its parents is a file."""
    path = _as_path(name, value)
    if path.exists() and not path.is_dir():
        raise ValueError(f"{name} must be a directory; {str(path)!r} exists and is a file")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise ValueError(f"{name}: {str(parent)!r} is a file, so {str(path)!r} cannot "
                                 "be a directory")
            break
    return path


def output_file(name: str, value: Any, *, overwrite: bool) -> Path:
    """A file to be written: refused when the path is a directory, when it exists and
    `overwrite` is false, or when its parent is a file."""
    path = _as_path(name, value)
    if path.is_dir():
        raise ValueError(f"{name}: {str(path)!r} is a directory; give a file path")
    if path.exists() and not overwrite:
        raise FileExistsError(f"{name}: {str(path)!r} exists; pass overwrite=True to "
                              "replace it")
    directory(f"{name}'s folder", path.parent if str(path.parent) else ".")
    return path


def positive_ints(name: str, value: Any, *, lengths: Iterable[int] | None = None
                  ) -> tuple[int, ...]:
    """One positive int or a sequence of them (e.g. Fourier modes per axis), as a tuple;
    `lengths` are the allowed numbers of entries."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        out: tuple[int, ...] = (positive_int(name, value),)
    elif isinstance(value, Sequence) and not isinstance(value, str | bytes):
        out = tuple(positive_int(f"{name}[{i}]", v) for i, v in enumerate(value))
    else:
        raise ValueError(f"{name} must be a positive integer or a sequence of them; got "
                         f"{value!r} of type {type(value).__name__}")
    if lengths is not None and len(out) not in tuple(lengths):
        raise ValueError(f"{name} must have {' or '.join(map(str, lengths))} entries; got "
                         f"{len(out)}: {value!r}")
    return out


def protocol(name: str, value: Any, attributes: Sequence[str], what: str) -> Any:
    """Check that `value` offers the `attributes` a role needs (duck typing: any object
    that has them serves, not only our classes).

    **Arguments:**

    - `name`: the argument's name, for the message.
    - `value`: the object given.
    - `attributes`: the methods or fields the role uses.
    - `what`: the role in words, e.g. `"a problem (sciopt.problems.get)"`.

    **Returns:** `value`; raises `ValueError` naming the argument, the role and what was
    given.
    """
    missing = [a for a in attributes if not hasattr(value, a)]
    if missing:
        raise ValueError(f"{name} must be {what}, with {', '.join(attributes)}; got "
                         f"{type(value).__name__} {value!r:.60}")
    return value


def prng_key(name: str, value: Any) -> Any:
    """A JAX random key (`jax.random.key(...)` or a legacy `jax.random.PRNGKey(...)`)."""
    arr = value if isinstance(value, jax.Array | jax.core.Tracer) else None
    if arr is not None:
        if jnp.issubdtype(arr.dtype, jax.dtypes.prng_key):
            return value
        if arr.dtype == jnp.uint32 and arr.shape[-1:] == (2,):
            return value
    raise ValueError(f"{name} must be a PRNG key (jax.random.key(0)); got "
                     f"{type(value).__name__} {value!r:.60}")


def sampler(name: str, fn: Any, shape: tuple[int, ...], *, pairs: bool = False) -> Any:
    """Check a traceable sampler `fn(key, n)` without running it (`jax.eval_shape`): it
    must return an array of `shape` (`pairs`: a pair of them) of floating dtype."""
    if not callable(fn):
        raise ValueError(f"{name} must be a function (key, n) -> samples; got "
                         f"{type(fn).__name__}")
    try:
        out = jax.eval_shape(lambda k: fn(k, shape[0]), jax.random.key(0))
    except Exception as err:  # the user's function fails on its own: say which argument
        raise ValueError(f"{name}(key, {shape[0]}) fails when traced: {type(err).__name__}: "
                         f"{str(err).splitlines()[0] if str(err) else ''}") from err
    parts = out if pairs and isinstance(out, tuple | list) and len(out) == 2 else (
        None if pairs else (out,))
    if parts is None:
        raise ValueError(f"{name}(key, n) must return a pair (x0, x1); got "
                         f"{jax.tree.structure(out)}")
    for part in parts:
        if not hasattr(part, "shape") or tuple(part.shape) != tuple(shape) or not \
                jnp.issubdtype(part.dtype, jnp.floating):
            got = (f"shape {tuple(part.shape)}, dtype {part.dtype}" if hasattr(part, "shape")
                   else type(part).__name__)
            raise ValueError(f"{name}(key, {shape[0]}) must return floating samples of shape "
                             f"{tuple(shape)} (the model's dimension); got {got}")
    return fn
