"""The worked examples of docs/architecture.md run as written: "Add a method" (a new
iterative method on `sciopt.train.iterate`) and "Add a suite" (a user's benchmark suite run
by `sciopt bench`)."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np

DOC = Path(__file__).resolve().parents[1] / "docs" / "architecture.md"


def _block(heading: str) -> str:
    """The first ```python block under the `## heading` of the architecture page."""
    text = DOC.read_text()
    section = text.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    found = re.search(r"```python\n(.*?)```", section, re.S)
    assert found, f"no python block under {heading!r}"
    return found.group(1)


def test_add_a_method_example_runs_and_resumes(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code = _block("Add a method")
    env: dict = {}
    exec(compile(code, "architecture.md: Add a method", "exec"), env)  # noqa: S102
    result = env["result"]
    mmd = result.metrics["mmd2"]
    assert result.step == 200 and mmd[-1] < mmd[0] - 0.3  # the flow reduces the MMD
    # the cloud moved towards the target (mean (2, 0)) from the origin
    mean = np.asarray(result.state).mean(0)
    assert 1.2 < mean[0] < 2.0 and abs(mean[1]) < 0.2
    assert len(list((tmp_path / "mmd_checkpoints").glob("step_*.ckpt"))) == 2
    # the same steps as one pure scan, and a rerun resumes at the end
    from sciopt.train import iterate, scan_iterate

    state, _ = scan_iterate(env["flow"], 200, key=env["jax"].random.key(2))
    np.testing.assert_allclose(state, result.state, rtol=1e-10, atol=1e-12)
    again = iterate(env["flow"], 200, key=env["jax"].random.key(2),
                    checkpoint_dir="mmd_checkpoints", progress="off")
    assert again.resumed_from == 200
    np.testing.assert_array_equal(np.asarray(again.state), np.asarray(result.state))


def test_add_a_suite_example_runs_through_sciopt_bench(tmp_path):
    (tmp_path / "benchmarks").mkdir()
    (tmp_path / "benchmarks" / "mmd_steps.py").write_text(_block("Add a suite"))
    env = {**os.environ, "SCIOPT_BENCHMARKS": ""}
    listed = subprocess.run([sys.executable, "-m", "sciopt.cli", "bench", "--list"], cwd=tmp_path,
                            capture_output=True, text=True, env=env, timeout=300)
    assert listed.returncode == 0 and "mmd_steps" in listed.stdout
    run = subprocess.run([sys.executable, "-m", "sciopt.cli", "bench", "mmd_steps", "--quick",
                          "--out", "out"], cwd=tmp_path, capture_output=True, text=True,
                         env=env, timeout=300)
    assert run.returncode == 0, run.stderr
    record = json.loads((tmp_path / "out" / "mmd_steps.json").read_text())
    rows = record["tables"][0]["rows"]
    assert [r[0] for r in rows] == [64, 128] and all(r[1] > 0 for r in rows)
    assert "jax_version" in json.dumps(record) or "jax" in json.dumps(record["environment"])
    assert (tmp_path / "out" / "mmd_steps.md").exists()
