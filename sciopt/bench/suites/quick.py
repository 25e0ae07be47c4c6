"""The main job: a small case of every benchmark suite, and `results/report.md` that shows
where sciopt stands, suite by suite (our figure, the anchor, the goal)."""

from __future__ import annotations

import time
from pathlib import Path

from sciopt.bench import atomic_open, available_suites, environment, run_suite, suite_markdown

# Every suite the toolkit plans, in report order; those not written yet are listed as such.
SUITES = ("pdes", "inverse", "derivatives", "kernels", "pinn", "teng", "operator", "ot", "sb",
          "particles", "wgf", "train", "data")


def run(config: dict) -> dict:
    out_dir: Path = config["out_dir"]
    available = available_suites()
    env = environment()
    sections, rows, missing = [], [], []
    for name in SUITES:
        if name not in available:
            missing.append(name)
            continue
        print(f"quick: running suite {name!r} ...", flush=True)
        t0 = time.perf_counter()
        result = run_suite(name, {"quick": True, **{k: v for k, v in config.items()
                                                   if k == "repeats"}}, out_dir)
        rows.append([name, result.get("title", name), time.perf_counter() - t0,
                     result.get("summary", "")])
        sections.append(suite_markdown(name, result, env, level=2))
    table = {"title": "Suites run", "columns": ["suite", "what", "wall (s)", "headline"],
             "rows": rows,
             "notes": ("Not yet available: " + ", ".join(missing)) if missing else ""}
    header = [
        "# sciopt quick report", "",
        f"sciopt {env['sciopt']}, jax {env['jax']}, {env['device']} ({env['platform']}, "
        f"{env['cpu_count']} CPU cores).", "",
    ]
    from sciopt.bench import markdown_table

    body = header + ["## Suites", "", markdown_table(table["columns"], rows), ""]
    if missing:
        body += [table["notes"], ""]
    with atomic_open(out_dir / "report.md", "w") as f:
        f.write("\n".join(body) + "\n" + "\n".join(sections))
    print(f"quick: wrote {out_dir / 'report.md'}", flush=True)
    return {"title": "Quick report", "summary": f"ran {len(rows)} suites",
            "tables": [table], "report": str(out_dir / "report.md")}
