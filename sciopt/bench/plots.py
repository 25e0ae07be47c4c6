"""Shared matplotlib set-up for the benchmark suites: a figure with a grid, saving, loss
curves. Importing it selects matplotlib's non-interactive Agg backend."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def figure(width: float = 6.0, height: float = 4.0):
    """A figure and axes of `width` x `height` inches with a light grid."""
    fig, ax = plt.subplots(figsize=(width, height), dpi=110)
    ax.grid(True, which="both", alpha=0.3)
    return fig, ax


def save(fig, path: Path) -> str:
    """Save `fig` to `path` (tight layout), close it; returns the path as a string."""
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return str(path)


def loss_curves(curves: dict, path: Path, *, ylabel: str, smooth: bool = False,
                size: tuple[float, float] = (6.0, 4.0)) -> str:
    """One semilog line per `label -> losses`; `smooth` averages over ~1% of the steps."""
    fig, ax = figure(*size)
    for label, losses in curves.items():
        if smooth:
            window = max(1, len(losses) // 100)
            losses = np.convolve(losses, np.ones(window) / window, mode="valid")
        ax.semilogy(losses, label=label)
    ax.set_xlabel("step")
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=6)
    return save(fig, path)
