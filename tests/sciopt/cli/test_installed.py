"""The suites and plug-in commands ship with the package: a plain (not editable) install,
used from an empty folder, lists every suite and runs one."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
SUITES = {"data", "derivatives", "inverse", "kernels", "pdes", "quick", "train", "operator",
          "scaling", "pinn", "teng", "ot", "particles", "sb", "wgf"}


@pytest.mark.slow
def test_a_plain_install_lists_and_runs_suites_from_an_empty_folder(tmp_path):
    target, work, source = tmp_path / "site", tmp_path / "empty", tmp_path / "source"
    work.mkdir()
    # Build from a copy of the sources, so the build leaves nothing in the checkout (and
    # no stale build/ there can leak into the wheel)
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    for name in ("sciopt", "operators", "pinns", "flows"):
        shutil.copytree(ROOT / name, source / name, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    # --no-deps: the dependencies are this environment's; the package itself is installed
    # as a wheel, not linked to the source tree
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--target", str(target), str(source)], check=True, timeout=300)
    env = {**os.environ, "PYTHONPATH": str(target)}

    def sciopt(*argv):
        proc = subprocess.run([sys.executable, "-m", "sciopt.cli", *argv], cwd=work, env=env,
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    listed = {line.split()[0] for line in sciopt("bench", "--list").splitlines()}
    assert listed == SUITES
    assert "train-operator" in sciopt("--help")  # a plug-in command of operators
    sciopt("bench", "data", "--quick", "--out", "results")
    record = json.loads((work / "results" / "data.json").read_text())
    assert record["suite"] == "data" and (work / "results" / "data.md").exists()
    where = subprocess.run([sys.executable, "-c", "import sciopt.bench as b; "
                            "print(b.load_suite('data').__file__)"], cwd=work, env=env,
                           capture_output=True, text=True, check=True).stdout
    assert where.startswith(str(target))  # the installed copy, not the source tree
