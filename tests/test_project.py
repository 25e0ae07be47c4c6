"""Project rules: layering, public API re-exports, lint."""

import ast
import importlib
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYER1 = ("operators", "pinns", "flows")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_layering():
    for path in (ROOT / "sciopt").rglob("*.py"):
        if "cli" in path.relative_to(ROOT / "sciopt").parts:
            continue  # the CLI may import layer 1, lazily
        bad = _imports(path) & set(LAYER1)
        assert not bad, f"{path} (core) imports {bad}"
    for pkg in LAYER1:
        for path in (ROOT / pkg).rglob("*.py"):
            bad = _imports(path) & (set(LAYER1) - {pkg})
            assert not bad, f"{path} imports {bad}: layer-1 packages share code via sciopt"


@pytest.mark.parametrize("package", ["sciopt", "sciopt.train", "sciopt.data",
                                     "sciopt.geometry", "sciopt.problems",
                                     "sciopt.distributed", "sciopt.bench", "sciopt.derivatives",
                                     "sciopt.kernels", "sciopt.solvers", *LAYER1])
def test_public_names_are_documented(package):
    module = importlib.import_module(package)
    assert module.__doc__
    for name in dir(module):
        obj = getattr(module, name)
        if name.startswith("_") or not callable(obj) or getattr(obj, "__module__", "") in (
                None, "typing") or not str(getattr(obj, "__module__", "")).startswith(
                package.split(".")[0]):
            continue
        assert obj.__doc__, f"{package}.{name} has no docstring"


@pytest.mark.skipif(shutil.which("ruff") is None, reason="ruff is not installed")
def test_ruff_passes():
    proc = subprocess.run(["ruff", "check", "--quiet", str(ROOT)], capture_output=True,
                          text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
