"""The fault matrix of everything that writes files: a dataset (`write_dataset`, the writer of
`sciopt data generate`), a saved operator model (`save_model`, the writer of
`train-operator`), a checkpoint (`save_checkpoint`, the writer of `fit` / `iterate`) and a
benchmark record (`write_suite`, the writer of `sciopt bench`), each under

- a full disk (the write fails with ENOSPC midway),
- a read-only target (the temporary file cannot be created),
- two processes rewriting the same file at once in a loop, each killed (SIGKILL) at a
  random moment.

Whatever happens, the target is either absent or a complete file that its reader accepts
(never a partial one), no temporary file is left where a reader would take it, and a rerun
finishes the job."""

import errno
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from sciopt import _atomic

WRITERS = ("dataset", "model", "checkpoint", "record")

# One script for every writer: `write(kind, target, version)` writes a complete file whose
# content depends on `version`; `read(kind, target)` reads it back with the library's own
# reader and returns the version (raising on anything partial or corrupted).
_LIB = textwrap.dedent('''
    import json, sys
    from pathlib import Path
    import numpy as np
    import jax, jax.numpy as jnp

    def write(kind, target, version):
        target = Path(target)
        if kind == "dataset":
            from sciopt.data import write_dataset
            tensor = np.full((2, 2, 64, 1), float(version))
            write_dataset(target, tensor, t=np.array([0.0, 1.0]),
                          coords={"x": np.linspace(0, 1, 64)}, problem="p", overwrite=True)
        elif kind == "model":
            import operators
            spec = {"model": "fno", "args": {"in_channels": 1, "out_channels": 1,
                    "modes": [4], "width": 8, "layers": 1, "projection": 8}}
            model = operators.build_model(spec, key=jax.random.key(0))
            operators.save_model(target, model, spec, {"version": version})
        elif kind == "checkpoint":
            from sciopt.train import write_state
            write_state(target, {"w": jnp.full(4096, float(version))}, step=version)
        else:
            from sciopt.bench._report import write_suite
            write_suite(target.parent, target.stem, {"title": "t", "summary": str(version),
                        "tables": [], "version": version},
                        {"device": "cpu", "platform": "cpu", "jax": jax.__version__,
                         "device_count": 1, "cpu_count": 1})

    def read(kind, target):
        target = Path(target)
        if kind == "dataset":
            from sciopt.data import read_dataset
            values = np.unique(read_dataset(target).tensor)
            assert values.size == 1
            return int(values[0])
        if kind == "model":
            import operators
            return operators.load_model(target)[1]["version"]
        if kind == "checkpoint":
            from sciopt.train import load_checkpoint
            step, state, _ = load_checkpoint(target, {"w": jnp.zeros(4096)})
            assert bool(jnp.all(state["w"] == step))
            return step
        return json.loads(target.read_text())["version"]
''')

_LOOP = _LIB + textwrap.dedent('''
    kind, target, first = sys.argv[1], sys.argv[2], int(sys.argv[3])
    write(kind, target, first)  # compiled and written once before the faults start
    print("ready", flush=True)
    version = first + 2
    while True:
        write(kind, target, version)
        version += 2
''')


def _target(tmp: Path, kind: str) -> Path:
    name = {"dataset": "set.h5", "model": "model.eqx", "checkpoint": "state.ckpt",
            "record": "suite.json"}[kind]
    return tmp / name


def _run(code: str, *args: str, **kw) -> subprocess.Popen:
    # same precision as this process (the tests run in float64), so files agree
    env = {**os.environ, "XLA_FLAGS": os.environ.get("SCIOPT_TEST_XLA_FLAGS", ""),
           "JAX_ENABLE_X64": "1"}
    return subprocess.Popen([sys.executable, "-c", code, *args], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)


_NAMESPACE: dict = {}


def _library() -> dict:
    if not _NAMESPACE:
        exec(compile(_LIB, "<writers>", "exec"), _NAMESPACE)
    return _NAMESPACE


def _read_back(kind: str, target: Path) -> int:
    """The version in `target`, read by the library's own reader (which refuses anything
    partial or corrupted)."""
    return _library()["read"](kind, target)


def _strays(folder: Path) -> list[Path]:
    """Files a reader could mistake for the target: anything but the targets themselves
    and the hidden `.tmp` files that a killed writer leaves (which readers ignore)."""
    return [p for p in folder.iterdir() if p.suffix == ".tmp" and not p.name.startswith(".")]


def _write_here(kind: str, target: Path, version: int) -> None:
    _library()["write"](kind, target, version)


@pytest.mark.parametrize("kind", WRITERS)
def test_a_full_disk_or_a_read_only_target_leaves_the_old_file(kind, tmp_path, monkeypatch):
    target = _target(tmp_path, kind)
    _write_here(kind, target, 1)
    before = target.read_bytes()

    def no_space(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(_atomic.os, "fsync", no_space)
    with pytest.raises(OSError, match="No space left"):
        _write_here(kind, target, 3)
    monkeypatch.undo()
    assert target.read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]

    def read_only(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", str(tmp_path))

    monkeypatch.setattr(_atomic.tempfile, "mkstemp", read_only)
    with pytest.raises(PermissionError):
        _write_here(kind, target, 5)
    monkeypatch.undo()
    assert target.read_bytes() == before
    _write_here(kind, target, 7)  # the rerun finishes the job
    assert _read_back(kind, target) == 7


@pytest.mark.parametrize("kind", WRITERS)
def test_sigkill_and_two_concurrent_writers_never_leave_a_partial_file(kind, tmp_path):
    target = _target(tmp_path, kind)
    rng = np.random.default_rng(WRITERS.index(kind))
    # two writers of the same file (odd and even versions), killed at a random moment
    writers = [_run(_LOOP, kind, str(target), str(first)) for first in (1, 2)]
    for proc in writers:
        assert proc.stdout.readline().strip() == "ready"
    time.sleep(float(rng.uniform(0.3, 1.5)))
    writers[0].send_signal(signal.SIGKILL)  # one dies, the other keeps writing
    time.sleep(float(rng.uniform(0.1, 0.8)))
    assert _read_back(kind, target) >= 1  # a complete file while a write is under way
    writers[1].send_signal(signal.SIGKILL)
    for proc in writers:
        proc.wait(timeout=60)
    assert _read_back(kind, target) >= 1  # one writer's complete file, never a partial one
    assert not _strays(tmp_path)
    _write_here(kind, target, 9)  # the rerun finishes the job
    assert _read_back(kind, target) == 9
