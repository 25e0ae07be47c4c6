"""Datasets in the PDEBench HDF5 layout, with sciopt's own attributes.

Layout (one file):

- `tensor`: float array `[sample, time, x, (y, (z,)) channel]`;
- `t-coordinate`: `[time]` (PDEBench's 1D files store `time + 1` values; both are read);
- `x-coordinate`, `y-coordinate`, `z-coordinate`: one per spatial axis;
- optional extra arrays with a leading sample axis (e.g. `nu`, Darcy's coefficient field);
- root attributes: `sciopt_format`, `problem`, `parameters` (JSON), `solver` (JSON), `seed`,
  `sciopt_version`, `channels` (JSON list of names).

Files written here use per-sample chunks with Fletcher-32 checksums, so a corrupted byte is
reported when read rather than returned as data. Writes are atomic.
"""

from __future__ import annotations

import dataclasses
import json
import numbers
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from .. import __version__
from .._atomic import atomic_path

FORMAT_VERSION = 1
SPACE_AXES = ("x", "y", "z")
_RESERVED = {"tensor", "t-coordinate"} | {f"{a}-coordinate" for a in SPACE_AXES}


class DatasetError(ValueError):
    """A dataset file is missing, unreadable, truncated, corrupted or not in the layout."""


@dataclasses.dataclass(frozen=True)
class PDEDataset:
    """An in-memory dataset.

    **Fields:**

    - `tensor`: `[sample, time, x..., channel]`.
    - `t`: time coordinates `[time]`.
    - `coords`: spatial coordinates by axis name (`"x"`, `"y"`, `"z"`).
    - `extras`: other per-sample arrays (leading axis = sample).
    - `attrs`: problem, parameters, solver, seed, sciopt version, channel names.
    """

    tensor: np.ndarray
    t: np.ndarray
    coords: dict[str, np.ndarray]
    extras: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)
    attrs: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def num_samples(self) -> int:
        return int(self.tensor.shape[0])

    def select(self, index: Sequence[int] | np.ndarray) -> PDEDataset:
        """The samples at `index` (coordinates and attributes shared)."""
        index = np.asarray(index)
        return dataclasses.replace(
            self, tensor=self.tensor[index],
            extras={k: v[index] for k, v in self.extras.items()},
        )


@dataclasses.dataclass(frozen=True)
class BlockArray:
    """An array given as blocks along its first axis, loaded one at a time: lets
    `write_dataset` write files larger than memory.

    **Fields:**

    - `shape`, `dtype`: of the whole array.
    - `blocks`: functions that each return the next block (the same trailing shape; the
      block lengths add up to `shape[0]`).
    """

    shape: tuple[int, ...]
    dtype: np.dtype
    blocks: Sequence[Any]


def _as_blocks(value: Any, dtype: Any = None) -> BlockArray:
    if isinstance(value, BlockArray):
        return value if dtype is None else dataclasses.replace(value, dtype=np.dtype(dtype))
    value = np.asarray(value)
    dtype = value.dtype if dtype is None else np.dtype(dtype)
    return BlockArray(value.shape, dtype, [lambda: value])


def _write_blocks(f: h5py.File, name: str, value: BlockArray, opts: dict[str, Any]) -> None:
    d = f.create_dataset(name, shape=value.shape, dtype=value.dtype,
                         chunks=(1,) + tuple(value.shape[1:]), **opts)
    start = 0
    for load in value.blocks:
        block = np.asarray(load())
        if block.shape[1:] != tuple(value.shape[1:]) or start + len(block) > value.shape[0]:
            raise DatasetError(f"block of shape {block.shape} does not fit {name!r} of shape "
                               f"{value.shape} at sample {start}")
        d[start: start + len(block)] = block.astype(value.dtype, copy=False)
        start += len(block)
    if start != value.shape[0]:
        raise DatasetError(f"blocks of {name!r} hold {start} samples, not {value.shape[0]}")


def _check_layout(tensor_shape: tuple[int, ...], t_len: int, coord_lens: Sequence[int],
                  extras: Mapping[str, tuple[int, ...]], where: str) -> None:
    n_space = len(coord_lens)
    if len(tensor_shape) != n_space + 3:
        raise DatasetError(
            f"{where}: 'tensor' must be [sample, time, x..., channel] with {n_space} spatial "
            f"axes (one per coordinate), i.e. {n_space + 3} dimensions; got shape "
            f"{tuple(tensor_shape)}"
        )
    if t_len not in (tensor_shape[1], tensor_shape[1] + 1):
        raise DatasetError(f"{where}: 't-coordinate' has {t_len} values but 'tensor' has "
                           f"{tensor_shape[1]} time steps")
    for axis, size, n in zip(SPACE_AXES, tensor_shape[2:-1], coord_lens, strict=False):
        if size != n:
            raise DatasetError(f"{where}: '{axis}-coordinate' has {n} values but 'tensor' has "
                               f"{size} points along {axis}")
    for name, shape in extras.items():
        if not shape or shape[0] != tensor_shape[0]:
            raise DatasetError(f"{where}: extra array {name!r} must have a leading sample axis "
                               f"of {tensor_shape[0]}; got shape {tuple(shape)}")


def write_dataset(
    path: str | os.PathLike,
    tensor: np.ndarray,
    *,
    t: np.ndarray,
    coords: Mapping[str, np.ndarray],
    extras: Mapping[str, np.ndarray] | None = None,
    problem: str,
    parameters: Mapping[str, Any] | None = None,
    solver: Mapping[str, Any] | None = None,
    seed: int | None = None,
    channels: Sequence[str] | None = None,
    metadata: Mapping[str, Any] | None = None,
    overwrite: bool = False,
    dtype: Any = None,
) -> Path:
    """Write a dataset atomically in the PDEBench layout.

    **Arguments:**

    - `path`: the output file (`.h5` / `.hdf5`).
    - `tensor`: `[sample, time, x..., channel]`, an array or a `BlockArray` (written block by
      block, for files larger than memory).
    - `t`: time coordinates `[time]`.
    - `coords`: `{"x": ..., "y": ..., "z": ...}` (as many as spatial axes, in that order).
    - `extras`: per-sample arrays (e.g. `{"nu": coefficients}`), arrays or `BlockArray`s.
    - `problem`, `parameters`, `solver`, `seed`: provenance stored as attributes.
    - `channels`: names of the channels (default `u0, u1, ...`).
    - `metadata`: any other JSON-serialisable provenance (e.g. how initial conditions were
      drawn), stored as the `metadata` attribute.
    - `overwrite`: replace an existing file; otherwise an existing file is an error.
    - `dtype`: the stored floating-point type of `tensor` and the extras (default: theirs;
      PDEBench stores float32).

    **Returns:**

    The path written.
    """
    if path is None or not isinstance(path, str | os.PathLike):
        raise DatasetError(f"path must be a file path (str or os.PathLike); got "
                           f"{type(path).__name__}")
    path = Path(path)
    if path.is_dir():
        raise DatasetError(f"{path} is a directory; give the path of a file to write")
    if path.exists() and not overwrite:
        raise DatasetError(f"{path} already exists; pass overwrite=True (--overwrite) to "
                           f"replace it")
    if path.parent.exists() and not path.parent.is_dir():
        raise DatasetError(f"{path.parent} is a file, so {path} cannot be written")
    if not isinstance(problem, str) or not problem:
        raise DatasetError(f"problem must be a non-empty name; got {problem!r}")
    tensor = _as_blocks(tensor, dtype)
    if not np.issubdtype(tensor.dtype, np.floating):
        raise DatasetError(f"tensor must be a floating-point array; got dtype {tensor.dtype}")
    axes = list(coords)
    if axes != list(SPACE_AXES[: len(axes)]):
        raise DatasetError(f"coords must be given for axes {SPACE_AXES[:len(axes)]} in that "
                           f"order; got {tuple(axes)}")
    extras = {k: _as_blocks(v) for k, v in (extras or {}).items()}
    extras = {k: _as_blocks(v, dtype) if np.issubdtype(v.dtype, np.floating) else v
              for k, v in extras.items()}
    clash = _RESERVED & set(extras)
    if clash:
        raise DatasetError(f"extra arrays may not be named {sorted(clash)} (reserved)")
    t = np.asarray(t)
    _check_layout(tensor.shape, len(t), [len(np.asarray(c)) for c in coords.values()],
                  {k: v.shape for k, v in extras.items()}, str(path))
    n_channels = tensor.shape[-1]
    channels = list(channels) if channels is not None else [f"u{i}" for i in range(n_channels)]
    if len(channels) != n_channels:
        raise DatasetError(f"{len(channels)} channel names for {n_channels} channels")

    with atomic_path(path) as tmp, h5py.File(tmp, "w") as f:
        # No timestamps: the same data gives the same bytes.
        opts = {"fletcher32": True, "track_times": False}
        _write_blocks(f, "tensor", tensor, opts)
        f.create_dataset("t-coordinate", data=t, **opts)
        for axis, c in coords.items():
            f.create_dataset(f"{axis}-coordinate", data=np.asarray(c), **opts)
        for name, value in extras.items():
            _write_blocks(f, name, value, opts)
        f.attrs["sciopt_format"] = FORMAT_VERSION
        f.attrs["problem"] = problem
        f.attrs["parameters"] = json.dumps(dict(parameters or {}), sort_keys=True)
        f.attrs["solver"] = json.dumps(dict(solver or {}), sort_keys=True)
        f.attrs["seed"] = -1 if seed is None else int(seed)
        f.attrs["sciopt_version"] = __version__
        f.attrs["channels"] = json.dumps(channels)
        if metadata:
            f.attrs["metadata"] = json.dumps(dict(metadata), sort_keys=True)
    return path


def _as_path(path: Any) -> Path:
    if not isinstance(path, str | os.PathLike) or path == "":
        raise DatasetError(f"path must be a file path (str or os.PathLike); got "
                           f"{type(path).__name__} {path!r:.40}")
    return Path(path)


def _open(path: Path) -> h5py.File:
    if not path.exists():
        raise DatasetError(f"{path}: no such file")
    if path.is_dir():
        raise DatasetError(f"{path} is a directory, not an HDF5 file")
    try:
        return h5py.File(path, "r")
    except OSError as e:
        reason = str(e).split("(", 1)[-1].rstrip(")") if "(" in str(e) else str(e)
        raise DatasetError(f"{path} is not a readable HDF5 file ({reason}); the file is "
                           f"truncated, corrupted or of another format") from None


def _read(f: h5py.File, name: str, path: Path, index: Any = ()) -> np.ndarray:
    try:
        return f[name][index]
    except OSError as e:
        raise DatasetError(f"{path}: dataset {name!r} cannot be read ({e}); the file is "
                           f"corrupted") from None


def _decode_attrs(f: h5py.File, path: Path) -> dict[str, Any]:
    attrs: dict[str, Any] = {}
    for k, v in f.attrs.items():
        if isinstance(v, bytes):
            v = v.decode()
        if isinstance(v, np.generic):
            v = v.item()
        if k in ("parameters", "solver", "channels", "metadata") and isinstance(v, str):
            try:
                v = json.loads(v)
            except ValueError:
                raise DatasetError(f"{path}: attribute {k!r} is not valid JSON") from None
        attrs[k] = v
    if "sciopt_format" in attrs:
        missing = {"problem", "parameters", "solver", "seed"} - set(attrs)
        if missing:
            raise DatasetError(f"{path}: sciopt attributes missing: {sorted(missing)}")
        if attrs["sciopt_format"] > FORMAT_VERSION:
            raise DatasetError(f"{path} uses dataset format {attrs['sciopt_format']}; this "
                               f"sciopt reads up to {FORMAT_VERSION}; upgrade sciopt")
    return attrs


def _layout(f: h5py.File, path: Path) -> tuple[list[str], list[str]]:
    """Validate shapes and dtypes; return (spatial axes, extra array names)."""
    if "tensor" not in f:
        raise DatasetError(f"{path} has no 'tensor' dataset (PDEBench layout); it holds "
                           f"{sorted(f.keys())}")
    if "t-coordinate" not in f or "x-coordinate" not in f:
        raise DatasetError(f"{path} lacks 't-coordinate' or 'x-coordinate'")
    axes = [a for a in SPACE_AXES if f"{a}-coordinate" in f]
    tensor = f["tensor"]
    if not np.issubdtype(tensor.dtype, np.floating):
        raise DatasetError(f"{path}: 'tensor' must be floating point; got {tensor.dtype}")
    shape = tensor.shape
    if len(shape) == len(axes) + 2:  # PDEBench files without a channel axis
        shape = shape + (1,)
    extras = [k for k, v in f.items() if k not in _RESERVED and isinstance(v, h5py.Dataset)]
    _check_layout(shape, f["t-coordinate"].shape[0],
                  [f[f"{a}-coordinate"].shape[0] for a in axes],
                  {k: f[k].shape for k in extras}, str(path))
    return axes, extras


def _sample_index(samples: Any, n: int, path: Path) -> tuple[Any, Any]:
    """`(what h5py reads, how to reorder it)` for `samples`: a slice (any step), or integer
    indices in any order, negative ones counted from the end, repeats allowed (h5py itself
    reads only increasing, unique indices)."""
    if samples is None:
        return slice(None), slice(None)
    if isinstance(samples, slice):
        for part in ("start", "stop", "step"):
            value = getattr(samples, part)
            if value is not None and (isinstance(value, bool)
                                      or not isinstance(value, numbers.Integral)):
                raise DatasetError(f"samples: the slice's {part} must be an integer; got "
                                   f"{value!r}")
        if samples.step == 0:
            raise DatasetError("samples: a slice step of 0")
        idx = np.arange(n)[samples]
        if samples.step is None or samples.step > 0:
            return slice(*samples.indices(n)), slice(None)
    else:
        if isinstance(samples, str | bytes) or not isinstance(
                samples, Sequence | np.ndarray) and not hasattr(samples, "__array__"):
            raise DatasetError(f"samples must be a slice or a sequence of integer indices; got "
                               f"{type(samples).__name__}")
        idx = np.asarray(samples)
        if idx.ndim != 1 or not (idx.size == 0 or np.issubdtype(idx.dtype, np.integer)):
            raise DatasetError(f"samples must be a 1D sequence of integer indices; got "
                               f"{samples!r:.80}")
        bad = idx[(idx < -n) | (idx >= n)]
        if bad.size:
            raise DatasetError(f"samples: index {int(bad[0])} is out of range for {path}, which "
                               f"holds {n} samples (valid: {-n} to {n - 1})")
        idx = idx.astype(np.int64) % max(n, 1)
    if idx.size == 0:
        return slice(0, 0), slice(None)
    unique, inverse = np.unique(idx, return_inverse=True)
    return unique, inverse


def read_dataset(path: str | os.PathLike, *, samples: slice | Sequence[int] | None = None
                 ) -> PDEDataset:
    """Read and validate a dataset file.

    **Arguments:**

    - `path`: the file.
    - `samples`: a slice or integer indices (any order, negative from the end) to read
      only some samples, in that order.

    **Returns:**

    A `PDEDataset`. Raises `DatasetError` naming the file and the problem if the file is
    missing, truncated, corrupted or not in the layout.
    """
    path = _as_path(path)
    with _open(path) as f:
        axes, extras = _layout(f, path)
        attrs = _decode_attrs(f, path)
        index, order = _sample_index(samples, f["tensor"].shape[0], path)
        tensor = _read(f, "tensor", path, index)[order]
        if tensor.ndim == len(axes) + 2:
            tensor = tensor[..., None]
        return PDEDataset(
            tensor=tensor,
            t=_read(f, "t-coordinate", path),
            coords={a: _read(f, f"{a}-coordinate", path) for a in axes},
            extras={k: _read(f, k, path, index)[order] for k in extras},
            attrs=attrs,
        )


def inspect_dataset(path: str | os.PathLike, *, verify: bool = True) -> dict[str, Any]:
    """Summarise a dataset file (shapes, dtypes, attributes); with `verify`, read every
    chunk so that checksums and NaN/Inf values are checked.

    **Returns:**

    A JSON-serialisable dictionary.
    """
    path = _as_path(path)
    with _open(path) as f:
        axes, extras = _layout(f, path)
        attrs = _decode_attrs(f, path)
        info: dict[str, Any] = {
            "file": str(path),
            "size_bytes": path.stat().st_size,
            "layout": "sciopt" if "sciopt_format" in attrs else "PDEBench",
            "arrays": {k: {"shape": list(v.shape), "dtype": str(v.dtype)}
                       for k, v in f.items() if isinstance(v, h5py.Dataset)},
            "spatial_axes": axes,
            "attrs": attrs,
        }
        if verify:
            nonfinite = 0
            for k in ["tensor", *extras]:
                for i in range(f[k].shape[0]):
                    block = _read(f, k, path, i)
                    if np.issubdtype(block.dtype, np.floating):
                        nonfinite += int(np.size(block) - np.count_nonzero(np.isfinite(block)))
            info["nonfinite_values"] = nonfinite
            info["verified"] = True
    return info
