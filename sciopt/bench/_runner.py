"""Find and run benchmark suites: those installed packages ship (entry points
`sciopt.bench_suites`) and a user's own `<suite>.py` files, each exposing `run(config)`."""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import time
from importlib.metadata import entry_points
from pathlib import Path
from types import ModuleType
from typing import Any

from ._env import environment
from ._report import write_suite


def suite_dirs() -> list[Path]:
    """Folders of a user's own suite files (`<suite>.py` with `run(config)`):
    `$SCIOPT_BENCHMARKS`, then `./benchmarks`."""
    dirs = []
    if os.environ.get("SCIOPT_BENCHMARKS"):
        dirs.append(Path(os.environ["SCIOPT_BENCHMARKS"]))
    dirs.append(Path.cwd() / "benchmarks")
    seen, out = set(), []
    for d in dirs:
        r = d.resolve()
        if r not in seen and r.is_dir():
            seen.add(r)
            out.append(r)
    return out


def available_suites() -> dict[str, str]:
    """Suite name -> where it comes from: the suites installed packages ship (entry point
    group `sciopt.bench_suites`, a module name), then suite files in `suite_dirs()` (a
    path); the first found wins."""
    found: dict[str, str] = {ep.name: ep.value for ep in
                             sorted(entry_points(group="sciopt.bench_suites"),
                                    key=lambda e: e.name)}
    for d in suite_dirs():
        for p in sorted(d.glob("*.py")):
            if not p.name.startswith("_"):
                found.setdefault(p.stem, str(p))
    return found


def load_suite(name: str) -> ModuleType:
    """Import the suite module `name`."""
    suites = available_suites()
    if name not in suites:
        where = ", ".join(str(d) for d in suite_dirs()) or "no benchmarks/ folder"
        known = ", ".join(sorted(suites)) or "none"
        raise ValueError(f"unknown benchmark suite {name!r}; available: {known} (installed "
                         f"suites, and suite files in {where})")
    source = suites[name]
    if not source.endswith(".py"):
        module = importlib.import_module(source.split(":")[0])
    else:
        module_name = f"sciopt_bench_{name}"
        if module_name in sys.modules:
            return sys.modules[module_name]
        spec = importlib.util.spec_from_file_location(module_name, source)
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
    if not callable(getattr(module, "run", None)):
        raise ValueError(f"benchmark suite {name} ({source}) has no run(config) function")
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
