"""SIGKILL a real training process (`fit`) or iteration (`iterate`) at a random moment,
restart it with the same command, and check that the final state is bitwise identical to an
uninterrupted run."""

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

STEPS = 240
# script -> the steps its metrics file records (fit: every log_every = 10; iterate: each)
SCRIPTS = {"_resume_script.py": list(range(10, STEPS + 1, 10)),
           "_iterate_script.py": list(range(1, STEPS + 1))}


def _command(script: str, ckpt: Path, out: Path, sleep: float) -> list[str]:
    return [sys.executable, str(Path(__file__).with_name(script)), str(ckpt), str(out),
            str(STEPS), str(sleep)]


def _env() -> dict:
    return {**os.environ, "XLA_FLAGS": os.environ.get("SCIOPT_TEST_XLA_FLAGS", "")}


@pytest.mark.slow
@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_sigkill_and_resume_is_bitwise_identical(tmp_path, script):
    # Uninterrupted reference run (same program, no sleep).
    ref_out = tmp_path / "ref.npz"
    subprocess.run(_command(script, tmp_path / "ref_ckpt", ref_out, 0.0), check=True, env=_env(),
                   capture_output=True, timeout=300)

    ckpt, out = tmp_path / "ckpt", tmp_path / "out.npz"
    rng = random.Random(1234)
    kills = 0
    for _ in range(1):  # one kill at a random moment (more cost a process start each)
        proc = subprocess.Popen(_command(script, ckpt, out, 0.004), env=_env(),
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        # Wait for training to be under way (a metrics line exists), then kill at a random
        # moment: mid-chunk, mid-checkpoint-write, anywhere.
        deadline = time.monotonic() + 120
        metrics = ckpt / "metrics.jsonl"
        start_size = metrics.stat().st_size if metrics.exists() else 0
        while time.monotonic() < deadline and proc.poll() is None:
            if metrics.exists() and metrics.stat().st_size > start_size:
                break
            time.sleep(0.01)
        time.sleep(rng.uniform(0.0, 0.3))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait(timeout=60)
    assert kills >= 1, "the run finished before it could be killed; make it longer"
    assert not out.exists()

    final = subprocess.run(_command(script, ckpt, out, 0.0), env=_env(), capture_output=True,
                           text=True, timeout=300)
    assert final.returncode == 0, final.stderr
    assert "resuming from checkpoint at step" in final.stderr + final.stdout
    assert f"finished at step {STEPS}" in final.stdout

    ref, got = np.load(ref_out), np.load(out)
    names = [n for n in ref.files if n != "losses"]
    assert names == [n for n in got.files if n != "losses"]
    for n in names:
        np.testing.assert_array_equal(got[n], ref[n])  # bitwise
    # The resumed run's losses are the tail of the reference's.
    tail = got["losses"]
    np.testing.assert_array_equal(tail, ref["losses"][STEPS - len(tail):])
    # No temporary files are left behind, and the metrics have one record per step logged.
    assert [p.name for p in ckpt.iterdir() if p.name.endswith(".tmp")] == []
    steps = [int(line.split('"step": ')[1].split(",")[0])
             for line in (ckpt / "metrics.jsonl").read_text().splitlines()]
    assert steps == SCRIPTS[script]
