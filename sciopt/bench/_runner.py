"""Find and run benchmark suites (`benchmarks/<suite>.py`, each exposing `run(config)`)."""

from __future__ import annotations

import importlib.util
import os
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

from ._env import environment
from ._report import write_suite


def suite_dirs() -> list[Path]:
    """Where suites are looked for: `$SCIOPT_BENCHMARKS`, `./benchmarks`, and the
    `benchmarks/` folder beside the installed source tree."""
    dirs = []
    if os.environ.get("SCIOPT_BENCHMARKS"):
        dirs.append(Path(os.environ["SCIOPT_BENCHMARKS"]))
    dirs.append(Path.cwd() / "benchmarks")
    dirs.append(Path(__file__).resolve().parents[2] / "benchmarks")
    seen, out = set(), []
    for d in dirs:
        r = d.resolve()
        if r not in seen and r.is_dir():
            seen.add(r)
            out.append(r)
    return out


def available_suites() -> dict[str, Path]:
    """Suite name -> file, first directory wins."""
    found: dict[str, Path] = {}
    for d in suite_dirs():
        for p in sorted(d.glob("*.py")):
            if not p.name.startswith("_"):
                found.setdefault(p.stem, p)
    return found


def load_suite(name: str) -> ModuleType:
    """Import the suite module `name`."""
    suites = available_suites()
    if name not in suites:
        where = ", ".join(str(d) for d in suite_dirs()) or "no benchmarks/ folder found"
        known = ", ".join(sorted(suites)) or "none"
        raise ValueError(f"unknown benchmark suite {name!r}; available: {known} (looked in "
                         f"{where})")
    path = suites[name]
    module_name = f"sciopt_bench_{name}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    # Suites put their folder on sys.path for their `_` helpers; take it off again so that
    # a suite file never shadows a package of the same name (benchmarks/ot.py vs POT's
    # `ot`) for the rest of the process.
    saved = sys.path[:]
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path[:] = saved
    if not callable(getattr(module, "run", None)):
        raise ValueError(f"benchmark file {path} has no run(config) function")
    return module


def selectable_suites() -> list[str]:
    """Suites whose cases `--only` can select (they define `SELECTABLE = True`)."""
    return [n for n in available_suites() if getattr(load_suite(n), "SELECTABLE", False)]


def run_suite(name: str, config: dict[str, Any], out_dir: str | Path) -> dict[str, Any]:
    """Run suite `name` with `config`, write its JSON and Markdown into `out_dir`.

    `config` always carries `out_dir` (a `Path`, for the suite's figures) and `quick`;
    `config["only"]` (suites with `SELECTABLE = True`) keeps the cases whose label contains
    it.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    module = load_suite(name)
    if config.get("only") and not getattr(module, "SELECTABLE", False):
        raise ValueError(f"suite {name!r} runs all its cases; --only applies to suites with "
                         f"named cases ({', '.join(selectable_suites())})")
    config = {"quick": False, **config, "out_dir": out_dir}
    t0 = time.perf_counter()
    result = module.run(config)
    if config.get("only"):
        result["only"] = config["only"]
        result["summary"] = (f"Cases whose label contains {config['only']!r} only. "
                             + result.get("summary", ""))
    result["wall_time_s"] = time.perf_counter() - t0
    env = environment()
    write_suite(out_dir, name, result, env)
    return result
