"""Checkpoint files: one self-checking file per saved step, written atomically.

Layout: the magic line `SCIOPT-CHECKPOINT 1`, a JSON header line (step, fingerprint of the
state's structure, SHA-256 of the payload, metadata), then the payload written by
`equinox.tree_serialise_leaves`.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import warnings
from pathlib import Path
from typing import Any

import equinox as eqx
import jax
import jax.tree_util as jtu
import numpy as np
from jaxtyping import PyTree

from .. import __version__
from .._atomic import atomic_open
from ..validate import directory as as_directory
from ..validate import output_file
from ..validate import path as as_path

_MAGIC = b"SCIOPT-CHECKPOINT 1\n"
_NAME = re.compile(r"^step_(\d{10})\.ckpt$")


class CheckpointError(ValueError):
    """A checkpoint file is unreadable, corrupted, or was written for another state."""


def fingerprint(tree: PyTree) -> str:
    """A short hash of a pytree's structure, shapes and dtypes (not its values)."""
    leaves, treedef = jtu.tree_flatten(tree)
    parts = [str(treedef)]
    for leaf in leaves:
        if isinstance(leaf, jax.Array | np.ndarray | np.generic):
            parts.append(f"{leaf.dtype}{tuple(leaf.shape)}")
        else:
            parts.append(type(leaf).__name__)
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def checkpoint_path(directory: str | Path, step: int) -> Path:
    return Path(directory) / f"step_{step:010d}.ckpt"


def save_checkpoint(directory: str | Path, step: int, state: PyTree,
                    meta: dict[str, Any] | None = None) -> Path:
    """Write `state` as the checkpoint for `step`, atomically. Returns the file's path."""
    directory = as_directory("directory", directory)
    if isinstance(step, bool) or not isinstance(step, int | np.integer) or step < 0:
        raise ValueError(f"step must be a non-negative integer; got {step!r}")
    return write_state(checkpoint_path(directory, step), state, step=step, meta=meta)


def write_state(path: str | Path, state: PyTree, *, step: int = 0,
                meta: dict[str, Any] | None = None) -> Path:
    """Write `state` (any pytree of arrays) to the file `path` atomically, in the
    checkpoint format: a header with the structure's fingerprint, a checksum and `meta`,
    then the leaves (`equinox.tree_serialise_leaves`). `load_checkpoint` reads it back."""
    path = output_file("path", path, overwrite=True)
    if meta is not None and not isinstance(meta, dict):
        raise ValueError(f"meta must be a dict; got {type(meta).__name__}")
    try:
        json.dumps(meta or {})
    except (TypeError, ValueError) as err:
        raise ValueError(f"meta must be JSON-serialisable ({err})") from None
    buffer = io.BytesIO()
    eqx.tree_serialise_leaves(buffer, state)
    payload = buffer.getvalue()
    header = {
        "step": int(step),
        "fingerprint": fingerprint(state),
        "sha256": hashlib.sha256(payload).hexdigest(),
        "sciopt_version": __version__,
        "meta": meta or {},
    }
    path = Path(path)
    with atomic_open(path, "wb") as f:
        f.write(_MAGIC)
        f.write(json.dumps(header).encode() + b"\n")
        f.write(payload)
    return path


def read_header(path: str | Path) -> tuple[dict[str, Any], bytes]:
    """Read and verify a checkpoint's header and payload (checksum included)."""
    path = as_path("path", path)
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise CheckpointError(f"cannot read checkpoint {path}: {e.strerror}") from None
    if not raw.startswith(_MAGIC):
        raise CheckpointError(f"{path} is not a sciopt checkpoint (bad magic line)")
    end = raw.find(b"\n", len(_MAGIC))
    try:
        header = json.loads(raw[len(_MAGIC):end])
    except (ValueError, UnicodeDecodeError):
        raise CheckpointError(f"checkpoint {path} has a corrupted header") from None
    if not isinstance(header, dict) or not isinstance(header.get("step"), int) or not \
            isinstance(header.get("fingerprint"), str) or not isinstance(
                header.get("meta", {}), dict):
        raise CheckpointError(f"checkpoint {path} has a corrupted header (expected a JSON "
                              f"object with an integer step, a fingerprint and a checksum)")
    payload = raw[end + 1:]
    if hashlib.sha256(payload).hexdigest() != header.get("sha256"):
        raise CheckpointError(
            f"checkpoint {path} is truncated or corrupted (checksum mismatch)"
        )
    return header, payload


def load_checkpoint(path: str | Path, like: PyTree) -> tuple[int, PyTree, dict[str, Any]]:
    """Load a checkpoint into the structure of `like`. Returns `(step, state, meta)`."""
    header, payload = read_header(path)
    expected = fingerprint(like)
    if header["fingerprint"] != expected:
        raise CheckpointError(
            f"checkpoint {path} was written for a different model, optimiser or data source "
            f"(structure {header['fingerprint']}, this run has {expected}); use another "
            f"checkpoint directory or start with resume=False in an empty one"
        )
    state = eqx.tree_deserialise_leaves(io.BytesIO(payload), like)
    return int(header["step"]), state, header.get("meta", {})


def list_checkpoints(directory: str | Path) -> list[tuple[int, Path]]:
    """The checkpoint files in `directory`, newest step first (temporary files ignored)."""
    directory = as_path("directory", directory)
    if not directory.is_dir():
        return []
    found = []
    for p in directory.iterdir():
        m = _NAME.match(p.name)
        if m:
            found.append((int(m.group(1)), p))
    return sorted(found, reverse=True)


def latest_checkpoint(directory: str | Path) -> Path | None:
    """The newest checkpoint in `directory` that passes its checksum, or `None`.

    A newer file that fails its checksum (a disk error; never a killed write, which leaves
    only a temporary file) is skipped with a warning.
    """
    for _, path in list_checkpoints(directory):
        try:
            read_header(path)
        except CheckpointError as e:
            warnings.warn(f"skipping {e}", stacklevel=2)
            continue
        return path
    return None


def remove_stale_temporaries(directory: str | Path) -> None:
    """Delete temporary files left by a checkpoint write that was killed mid-way.

    Only call this when no other process writes checkpoints into `directory`.
    """
    directory = Path(directory)
    if directory.is_dir():
        for p in directory.glob(".step_*.ckpt.*.tmp"):
            p.unlink(missing_ok=True)


def prune_checkpoints(directory: str | Path, keep: int) -> None:
    """Delete all but the newest `keep` checkpoints."""
    for _, path in list_checkpoints(directory)[keep:]:
        path.unlink(missing_ok=True)
