"""The fault matrix end to end, through the commands users run: `sciopt data generate`,
`sciopt train-operator` (training through `fit`, its checkpoints, `save_model`) and
`sciopt bench`.

- SIGKILL at a random moment of the work (a separate process), then the same command
  again: the target is absent or complete until the rerun, which finishes the job (data
  generation from its finished chunks, training from its latest checkpoint).
- A full disk (every fsync fails with ENOSPC) and a read-only target (no temporary file can
  be made): the command exits non-zero with a one-line error naming the cause, leaves no
  partial target, and the rerun on a healthy disk finishes.
- Two `data generate` runs into one file at once: one works, the other refuses at once.

(`tests/test_fault_matrix.py` drives each writer directly, two concurrent writers included.)
"""

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from sciopt import _atomic, data
from sciopt.cli._app import main


def _env() -> dict:
    return {**os.environ, "XLA_FLAGS": os.environ.get("SCIOPT_TEST_XLA_FLAGS", ""),
            "JAX_ENABLE_X64": "1"}


def _start(argv: list[str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "sciopt.cli", *argv], env=_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for(condition, proc: subprocess.Popen, timeout: float = 120) -> None:
    end = time.monotonic() + timeout
    while not condition():
        assert proc.poll() is None, f"finished before the fault: {proc.communicate()}"
        assert time.monotonic() < end, "the work never started"
        time.sleep(0.05)


def _operator_data(tmp: Path) -> Path:
    x = np.linspace(0, 1, 32, endpoint=False)
    rng = np.random.default_rng(0)
    u0 = np.sin(2 * np.pi * (x[None] + rng.uniform(size=(24, 1))))
    tensor = np.stack([u0, 0.8 * u0], 1)[..., None]  # [n, t, x, c]
    return data.write_dataset(tmp / "pairs.h5", tensor, t=np.array([0.0, 1.0]),
                              coords={"x": x}, problem="burgers1d_periodic")


def _commands(kind: str, tmp: Path) -> tuple[list[str], Path, object, object]:
    """`(argv, target, started, check)`: the command, the file it produces, a test that
    its work is under way (then a kill lands mid-work), and a reader of the target that
    refuses anything partial."""
    if kind == "data":
        out = tmp / "gen.h5"
        argv = ["data", "generate", "burgers1d_periodic", "--samples", "12", "--resolution",
                "32", "--times", "3", "--seed", "0", "--chunk-size", "2", "--out", str(out)]
        partial = tmp / "gen.h5.partial"
        return (argv, out, lambda: partial.is_dir() and any(partial.glob("chunk*")),
                lambda: data.read_dataset(out).tensor.shape[0] == 12)
    if kind == "operator":
        source = _operator_data(tmp)
        out, ckpt = tmp / "op", tmp / "ckpt"
        argv = ["train-operator", "fno", "--data", str(source), "--steps", "600",
                "--batch-size", "4", "--option", "width=8", "--option", "modes=4",
                "--option", "layers=1", "--checkpoint-dir", str(ckpt), "--out", str(out)]

        def check():
            import operators

            model, _ = operators.load_model(out / "fno.eqx")
            return json.loads((out / "fno.json").read_text())["steps"] == 600 and model

        return argv, out / "fno.eqx", lambda: ckpt.is_dir() and any(ckpt.iterdir()), check
    out = tmp / "bench"
    argv = ["bench", "data", "--quick", "--repeats", "1", "--out", str(out)]
    return (argv, out / "data.json", lambda: True,
            lambda: json.loads((out / "data.json").read_text())["suite"] == "data")


def _no_partial(tmp: Path, target: Path, check) -> None:
    if target.exists():
        assert check()  # a complete file, never a partial one
    strays = [p for p in tmp.rglob("*.tmp") if not p.name.startswith(".")]
    assert not strays


@pytest.mark.parametrize("kind", ["data", "operator", "bench"])
def test_a_killed_command_leaves_no_partial_file_and_its_rerun_finishes(kind, tmp_path):
    argv, target, started, check = _commands(kind, tmp_path)
    proc = _start(argv)
    _wait_for(started, proc)
    time.sleep(float(np.random.default_rng(len(kind)).uniform(0.0, 0.5)))
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    _no_partial(tmp_path, target, check)
    rerun = _start(argv)
    out, err = rerun.communicate(timeout=600)
    assert rerun.returncode == 0, err
    assert check()
    _no_partial(tmp_path, target, check)


@pytest.mark.parametrize("kind", ["data", "operator", "bench"])
def test_a_full_disk_or_a_read_only_target_fails_cleanly_and_the_rerun_finishes(
        kind, tmp_path, monkeypatch, capsys):
    argv, target, _, check = _commands(kind, tmp_path)

    def no_space(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    def read_only(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", str(tmp_path))

    for module, attr, fault, words in ((_atomic.os, "fsync", no_space, "No space left"),
                                       (_atomic.tempfile, "mkstemp", read_only,
                                        "Permission denied")):
        monkeypatch.setattr(module, attr, fault)
        assert main(argv) != 0
        monkeypatch.undo()
        err = capsys.readouterr().err.strip().splitlines()
        assert err and words in err[-1] and "Traceback" not in "\n".join(err)
        assert not target.exists()
        _no_partial(tmp_path, target, check)
    assert main(argv) == 0
    assert check()


def test_two_generators_of_one_file_one_works_the_other_refuses(tmp_path):
    argv, target, started, check = _commands("data", tmp_path)
    argv[argv.index("--samples") + 1] = "60"  # long enough to be caught at work
    argv[argv.index("--resolution") + 1] = "512"
    # The second process imports first and waits for a line on stdin, so that it starts
    # while the first one is solving.
    second = subprocess.Popen(
        [sys.executable, "-c", "import sys; from sciopt.cli._app import main; "
         "sys.stdin.readline(); sys.exit(main(sys.argv[1:]))", *argv], env=_env(),
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = _start(argv)
    _wait_for(started, first)
    _, err = second.communicate("go\n", timeout=120)
    assert second.returncode != 0 and "wait for it to finish" in err
    assert first.poll() is None  # the first one still works, undisturbed
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=60)
    _no_partial(tmp_path, target, check)
