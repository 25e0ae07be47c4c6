"""Benchmark outputs: `results/<suite>.json`, `results/<suite>.md` and `results/report.md`."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .._atomic import atomic_open


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
    out_dir.mkdir(parents=True, exist_ok=True)
    record = {"suite": suite, "environment": env, **result}
    json_path, md_path = out_dir / f"{suite}.json", out_dir / f"{suite}.md"
    with atomic_open(json_path, "w") as f:
        json.dump(record, f, indent=2, default=float)
        f.write("\n")
    with atomic_open(md_path, "w") as f:
        f.write(suite_markdown(suite, result, env) + "\n")
    return json_path, md_path
