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
from collections.abc import Iterable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Bool, Float

__all__ = ["is_concrete", "one_of", "positive_float", "positive_int", "real", "require"]


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
