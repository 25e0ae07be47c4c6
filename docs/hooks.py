"""mkdocs hooks: publish the measured benchmark tables (benchmarks/results/**.md and their
PNG plots) in the site, and list them with each suite's summary on docs/benchmarks.md, so
the site shows the files the suites wrote rather than copies."""

import json
from pathlib import Path

from mkdocs.structure.files import File

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
MARKER = "<!-- results -->"


def on_files(files, config):
    for path in sorted(RESULTS.rglob("*")):
        if path.suffix in (".md", ".png"):
            files.append(File(str(path.relative_to(ROOT)), str(ROOT), config["site_dir"],
                              config["use_directory_urls"]))
    return files


def on_page_markdown(markdown, page, config, files):
    if page.file.src_uri != "benchmarks.md" or MARKER not in markdown:
        return markdown
    lines = []
    for machine in sorted(p for p in RESULTS.iterdir() if p.is_dir()):
        lines += [f"## `{machine.name}`", ""]
        for record in sorted(machine.rglob("*.json")):
            data = json.loads(record.read_text())
            if not isinstance(data, dict) or "suite" not in data:
                continue  # not a suite's record (e.g. a list of frames)
            table = record.with_suffix(".md").relative_to(ROOT)
            env = data.get("environment", {})
            lines.append(f"- **[{data.get('title', record.stem)}]({table.as_posix()})** "
                         f"({env.get('device', '?')}, jax {env.get('jax', '?')}): "
                         f"{data.get('summary', '')}")
        lines.append("")
    return markdown.replace(MARKER, "\n".join(lines))
