"""Shared matplotlib set-up for the benchmark suites (files starting with `_` are not
suites)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def figure(width: float = 6.0, height: float = 4.0):
    fig, ax = plt.subplots(figsize=(width, height), dpi=110)
    ax.grid(True, which="both", alpha=0.3)
    return fig, ax


def save(fig, path: Path) -> str:
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return str(path)
