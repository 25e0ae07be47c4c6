"""Benchmark outputs: `results/<suite>.json`, `results/<suite>.md` and `results/report.md`."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .._atomic import atomic_open
from ..validate import directory
from ..validate import path as as_path


def _cell(v: Any) -> str:
    if isinstance(v, float):
        if math.isnan(v):
            return "—"
        if v != 0 and (abs(v) >= 1e4 or abs(v) < 1e-3):
            return f"{v:.3e}"
        return f"{v:.4g}"
    return "—" if v is None else str(v)


def markdown_table(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A GitHub-flavoured Markdown table."""
    head = "| " + " | ".join(columns) + " |"
    rule = "|" + "|".join(" --- " for _ in columns) + "|"
    body = ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return "\n".join([head, rule, *body])


def suite_markdown(suite: str, result: dict[str, Any], env: dict[str, Any],
                   level: int = 1) -> str:
    """The Markdown section for one suite's result."""
    for label, value in (("result", result), ("env", env)):
        if not isinstance(value, dict):
            raise ValueError(f"{label} must be a dict (a suite's record); got "
                             f"{type(value).__name__}")
    h = "#" * level
    lines = [f"{h} {result.get('title', suite)}", ""]
    if result.get("summary"):
        lines += [result["summary"], ""]
    lines += [f"Device: {env['device']} ({env['platform']}, {env['device_count']} device(s), "
              f"{env['cpu_count']} CPU cores); jax {env['jax']}; dtype "
              f"{result.get('dtype', '—')}.", ""]
    if result.get("skipped"):
        lines += [f"Skipped: {result['skipped']}", ""]
    for table in result.get("tables", []):
        lines += [f"{h}# {table['title']}", "", markdown_table(table["columns"], table["rows"]),
                  ""]
        if table.get("notes"):
            lines += [table["notes"], ""]
    for fig in result.get("figures", []):
        lines += [f"![{Path(fig).stem}]({Path(fig).name})", ""]
    return "\n".join(lines)


def write_suite(out_dir: Path, suite: str, result: dict[str, Any], env: dict[str, Any]
                ) -> tuple[Path, Path]:
    """Write `<suite>.json` and `<suite>.md` atomically into `out_dir`."""
    out_dir = directory("out_dir", out_dir)
    if not isinstance(suite, str) or not suite or "/" in suite or os.sep in suite:
        raise ValueError(f"suite must be a suite's name; got {suite!r}")
    text = suite_markdown(suite, result, env)  # checks the record before any write
    out_dir.mkdir(parents=True, exist_ok=True)
    record = {"suite": suite, "environment": env, **result}
    json_path, md_path = out_dir / f"{suite}.json", out_dir / f"{suite}.md"
    with atomic_open(json_path, "w") as f:
        json.dump(record, f, indent=2, default=float)
        f.write("\n")
    with atomic_open(md_path, "w") as f:
        f.write(text + "\n")
    return json_path, md_path


def _row_key(row: Sequence[Any]) -> tuple[Any, ...]:
    """A row's identity: its leading text cells (e.g. data set and model)."""
    key = []
    for cell in row:
        if not isinstance(cell, str):
            break
        key.append(cell)
    return tuple(key)


def _read_record(source: Path, suite: str) -> dict[str, Any]:
    path = source / f"{suite}.json" if source.is_dir() else source
    try:
        record = json.loads(path.read_text())
    except FileNotFoundError:
        raise ValueError(f"no {suite} record at {path}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"{path} is not a readable benchmark record: {err}") from None
    if not isinstance(record, dict) or record.get("suite") != suite:
        found = record.get("suite") if isinstance(record, dict) else None
        raise ValueError(f"{path} is a record of suite {found!r}, not {suite!r}")
    return record


def merge_suite(out_dir: Path, suite: str, sources: Sequence[str | Path]
                ) -> dict[str, Any]:
    """Merge records of `suite` (folders holding `<suite>.json`, or the files) into one
    record in `out_dir`: `<suite>.json`, `<suite>.md` and the records' figures.

    For a long suite run in parts (`sciopt bench operator --only ...` per data set). Rows of
    tables with the same title are matched by their leading text cells (e.g. data set and
    model); a later record's row replaces an earlier one in place, and a `record` column
    names the folder each row comes from. Metrics merge the same way, by key; the plots of
    the records that still give rows are copied as `<folder>-<name>.png`. Every source is
    read and checked before anything is written.

    **Returns:** the merged record's result part (as a suite's `run` returns it), with
    `merged_from`.
    """
    out_dir = directory("out_dir", out_dir)
    if isinstance(sources, str | bytes) or not sources:
        raise ValueError("--merge needs at least one record folder")
    sources = [as_path(f"sources[{i}]", s) for i, s in enumerate(sources)]
    paths = [Path(s) for s in sources]
    records = [_read_record(p, suite) for p in paths]
    names = []
    for p in paths:
        name = (p.resolve() if p.is_dir() else p.resolve().parent).name
        names.append(name if name not in names else f"{name}-{len(names) + 1}")
    tables: dict[str, dict[str, Any]] = {}
    metrics: dict[str, Any] = {}
    figures: list[tuple[Path, str]] = []
    for path, name, record in zip(paths, names, records, strict=True):
        for table in record.get("tables", []):
            merged = tables.setdefault(table["title"], {
                "title": table["title"], "columns": [*table["columns"], "record"],
                "rows": {}, "notes": table.get("notes")})
            if merged["columns"][:-1] != list(table["columns"]):
                raise ValueError(f"table {table['title']!r} has other columns in {path}")
            for row in table["rows"]:
                merged["rows"][_row_key(row)] = [*row, name]
            merged["notes"] = table.get("notes") or merged["notes"]
        for key, value in record.get("metrics", {}).items():
            if isinstance(value, dict) and isinstance(metrics.get(key), dict):
                metrics[key] = {**metrics[key], **value}
            else:
                metrics[key] = value
        folder = path if path.is_dir() else path.parent
        figures += [(name, folder / Path(f).name, f"{name}-{Path(f).name}")
                    for f in record.get("figures", [])]
    envs = [r.get("environment", {}) for r in records]
    devices = sorted({f"{e.get('device', '?')} (jax {e.get('jax', '?')})" for e in envs})
    result = {
        "title": records[-1].get("title", suite) + " (merged records)",
        "summary": (f"Merged from {len(records)} records ({', '.join(names)}; later ones "
                    f"replace earlier rows), measured on: {'; '.join(devices)}."),
        "dtype": records[-1].get("dtype"),
        "tables": [{**t, "rows": list(t["rows"].values())} for t in tables.values()],
        "metrics": metrics,
        "figures": [],
        "merged_from": [str(p) for p in paths],
        "wall_time_s": sum(float(r.get("wall_time_s", 0.0)) for r in records),
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    kept = {row[-1] for t in tables.values() for row in t["rows"].values()}
    for name, src, dest in figures:  # the plots of records that still give rows
        if name in kept and src.is_file():
            data = src.read_bytes()
            with atomic_open(out_dir / dest, "wb") as f:
                f.write(data)
            result["figures"].append(str(out_dir / dest))
    write_suite(out_dir, suite, result, envs[-1])
    return result
