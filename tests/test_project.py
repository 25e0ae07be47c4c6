"""Project rules: layering, public API re-exports, lint."""

import ast
import importlib
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYER1 = ("operators", "pinns", "flows")


def _module(path: Path) -> tuple[str, list[str]]:
    """The dotted module name of `path` and the package its relative imports start from."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
        return ".".join(parts), parts
    return ".".join(parts), parts[:-1]


def _imports(path: Path) -> set[str]:
    """Every module (or module attribute) `path` imports, relative imports resolved, lazy
    (function-level) imports included."""
    _, package = _module(path)
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            stem = base + (node.module.split(".") if node.module else [])
            if node.module:
                names.add(".".join(stem))
            names |= {".".join(stem + [a.name]) for a in node.names}
    return names


def _sources(*folders: str):
    for folder in folders:
        yield from sorted((ROOT / folder).rglob("*.py"))


def test_layering():
    for path in _sources("sciopt"):  # the CLI included: it finds layer 1 by entry points
        bad = {m.split(".")[0] for m in _imports(path)} & set(LAYER1)
        assert not bad, f"{path} (core) imports {bad}"
    for pkg in LAYER1:
        for path in _sources(pkg):
            bad = {m.split(".")[0] for m in _imports(path)} & (set(LAYER1) - {pkg})
            assert not bad, f"{path} imports {bad}: layer-1 packages share code via sciopt"


def test_no_private_import_across_packages():
    """A private module (`pkg._mod`, `sciopt.sub._mod`) is imported only from inside the
    package that owns it; everything else goes through public re-exports."""
    ours = {"sciopt", *LAYER1}
    for path in _sources("sciopt", *LAYER1, "benchmarks", "examples"):
        name, _ = _module(path)
        for imported in _imports(path):
            parts = imported.split(".")
            if parts[0] not in ours:
                continue
            private = next((i for i, p in enumerate(parts) if p.startswith("_")
                            and not p.startswith("__")), None)
            if private is None:
                continue
            owner = ".".join(parts[:private])
            assert name == owner or name.startswith(owner + "."), (
                f"{path.relative_to(ROOT)} imports the private {imported}; re-export it "
                f"from {owner}")


def test_core_subpackages_form_no_import_cycle():
    graph: dict[str, set[str]] = {}
    for path in _sources("sciopt"):
        parts = _module(path)[0].split(".")
        if len(parts) < 2 or parts[1] in ("cli", "__init__"):
            continue
        for imported in _imports(path):
            target = imported.split(".")
            if (target[0] == "sciopt" and len(target) > 1 and target[1] != parts[1]
                    and (ROOT / "sciopt" / target[1]).is_dir()):
                graph.setdefault(parts[1], set()).add(target[1])
    assert graph.get("data") and graph.get("problems")  # the walk found the imports

    def visit(node, stack):
        assert node not in stack, f"import cycle: {' -> '.join([*stack, node])}"
        for nxt in sorted(graph.get(node, ())):
            visit(nxt, [*stack, node])

    for node in sorted(graph):
        visit(node, [])


@pytest.mark.parametrize("package", ["sciopt", "sciopt.train", "sciopt.data", "sciopt.validate",
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
