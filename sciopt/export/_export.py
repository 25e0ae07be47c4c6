"""Exporting compiled functions (a trained model, a solver step) as StableHLO with
`jax.export`, reloading them without their Python code, and NumPy-in / NumPy-out calls."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import PyTree

from ..validate import path as validate_path

SUFFIX = ".jaxexport"


def _spec(leaf: Any, batch: Any) -> jax.ShapeDtypeStruct:
    shape = tuple(np.shape(leaf))
    dtype = leaf.dtype if hasattr(leaf, "dtype") else np.asarray(leaf).dtype
    if np.dtype(dtype).kind not in "biufc":
        raise ValueError(f"example_args must be arrays of numbers (or jax.ShapeDtypeStruct); "
                         f"got {type(leaf).__name__} {leaf!r:.40} of dtype {dtype}")
    if batch is not None:
        if not shape:
            raise ValueError("batch_polymorphic=True needs every input to have a leading "
                             "batch axis; got a scalar")
        shape = (batch,) + shape[1:]
    return jax.ShapeDtypeStruct(shape, dtype)


def _describe(avals) -> list[dict[str, Any]]:
    return [{"shape": [d if isinstance(d, int) else str(d) for d in a.shape],
             "dtype": str(a.dtype)} for a in avals]


def _write_atomically(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def export_function(fn: Callable[..., PyTree], *example_args: PyTree, path: str | Path,
                    batch_polymorphic: bool = False,
                    platforms: tuple[str, ...] | None = None) -> Path:
    """Export `fn` (anything `jax.jit` can compile: a model's `__call__`, a solver step)
    as serialized StableHLO that a fresh process runs without `fn`'s Python code.

    The parameters a model closes over are baked into the artifact as constants. The file
    is written atomically, with a JSON description of its inputs and outputs beside it
    (`path` with suffix `.json`).

    **Arguments:**

    - `fn`: the function; its inputs and outputs are pytrees of arrays.
    - `example_args`: arrays (or `jax.ShapeDtypeStruct`s) giving the input shapes and dtypes.
    - `path`: where to write (the suffix `.jaxexport` is added when missing).
    - `batch_polymorphic`: make the leading axis of every input symbolic (one artifact for
      any batch size; `fn` must then be written for a batch, e.g. `jax.vmap(model)`).
    - `platforms`: lowering platforms, e.g. `("cpu", "cuda")` for one artifact that runs on
      both; default the current backend.

    **Returns:**

    The path written. Reload with `load_exported` (or, with JAX alone,
    `jax.export.deserialize(bytearray(path.read_bytes())).call(*args)`).
    """
    if not callable(fn):
        raise TypeError(f"fn must be callable; got {type(fn).__name__}")
    if not example_args:
        raise ValueError("give example inputs (arrays or jax.ShapeDtypeStruct) for fn")
    path = validate_path("path", path)
    if path.suffix != SUFFIX:
        path = path.with_name(path.name + SUFFIX)
    batch = jax.export.symbolic_shape("batch")[0] if batch_polymorphic else None
    specs = jax.tree.map(lambda a: _spec(a, batch), example_args)
    exported = jax.export.export(jax.jit(lambda *a: fn(*a)),  # closes over fn's arrays
                                  platforms=platforms)(*specs)
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_atomically(path, bytes(exported.serialize()))
    meta = {"format": "jax.export (StableHLO)", "jax": jax.__version__,
            "platforms": list(exported.platforms),
            "calling_convention_version": exported.calling_convention_version,
            "inputs": _describe(exported.in_avals), "outputs": _describe(exported.out_avals),
            "function": getattr(fn, "__name__", type(fn).__name__)}
    _write_atomically(path.with_suffix(".json"), json.dumps(meta, indent=2).encode())
    return path


class ExportedFunction:
    """A function reloaded from `export_function`'s file: call it with NumPy or JAX arrays
    (checked against the exported shapes and dtypes); `numpy=True` at load returns NumPy
    arrays. `exported` is the underlying `jax.export.Exported`."""

    def __init__(self, exported: jax.export.Exported, path: Path, numpy: bool):
        self.exported = exported
        self.path = path
        self.numpy = numpy

    def _check(self, args: tuple) -> list:
        leaves, tree = jax.tree.flatten((args, {}))  # the exported (args, kwargs)
        if tree != self.exported.in_tree:
            want = jax.tree.unflatten(self.exported.in_tree, ["x"] * len(
                self.exported.in_avals))[0]
            raise ValueError(f"{self.path.name} takes inputs structured as {want} (x: an "
                             f"array); got {jax.tree.unflatten(tree, ['x'] * len(leaves))[0]}")
        out = []
        for i, (leaf, aval) in enumerate(zip(leaves, self.exported.in_avals, strict=True)):
            leaf = jnp.asarray(leaf)
            fixed = [d if isinstance(d, int) else None for d in aval.shape]
            ok = leaf.ndim == len(fixed) and all(f is None or f == s
                                                 for f, s in zip(fixed, leaf.shape,
                                                                 strict=True))
            if not ok or leaf.dtype != aval.dtype:
                want = ", ".join("batch" if f is None else str(f) for f in fixed)
                raise ValueError(f"input {i} of {self.path.name} must be {aval.dtype}[{want}]; "
                                 f"got {leaf.dtype}{list(leaf.shape)}")
            out.append(leaf)
        return jax.tree.unflatten(tree, out)[0]

    def __call__(self, *args: Any) -> Any:
        result = self.exported.call(*self._check(args))
        return jax.tree.map(np.asarray, result) if self.numpy else result


def load_exported(path: str | Path, *, numpy: bool = False) -> ExportedFunction:
    """Reload a function written by `export_function`; no Python code of the original
    function (or of sciopt) is needed to run it. `numpy=True`: NumPy in, NumPy out."""
    path = validate_path("path", path)
    if not path.exists() and path.with_name(path.name + SUFFIX).exists():
        path = path.with_name(path.name + SUFFIX)
    if not path.is_file():
        raise FileNotFoundError(f"no exported function at {path}")
    try:
        exported = jax.export.deserialize(bytearray(path.read_bytes()))
    except Exception as e:  # flatbuffer / version errors come in several types
        raise ValueError(f"{path} is not a jax.export artifact (corrupt or truncated file, or "
                         f"written by an incompatible JAX): {e}") from e
    return ExportedFunction(exported, path, numpy)


def numpy_function(fn: Callable[..., PyTree]) -> Callable[..., PyTree]:
    """`fn` compiled once per input shape, taking NumPy (or any array-like) inputs and
    returning NumPy arrays: for callers outside JAX (a model, a solver, any pure function of
    arrays)."""
    compiled = jax.jit(lambda *a: fn(*a))  # a model's arrays become constants

    def call(*args: Any) -> Any:
        return jax.tree.map(np.asarray, compiled(*jax.tree.map(jnp.asarray, args)))

    call.__name__ = getattr(fn, "__name__", "numpy_function")
    call.__doc__ = f"NumPy-in / NumPy-out {call.__name__} (sciopt.export.numpy_function)."
    return call
