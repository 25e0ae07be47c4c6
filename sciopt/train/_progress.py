"""Progress output: a live bar on a terminal, plain periodic lines otherwise."""

from __future__ import annotations

import sys
import time
from typing import IO


def _fmt_loss(loss: float) -> str:
    return f"{loss:.4e}"


class ProgressReporter:
    """Reports `step / total`, the loss and steps per second.

    **Arguments:**

    - `total`: the final step.
    - `initial`: the step the run starts (or resumes) from.
    - `mode`: `"auto"` (bar on a terminal, lines otherwise), `"bar"`, `"lines"` or `"off"`.
    - `every_seconds`: the least time between two plain lines.
    - `stream`: where to write (default `sys.stderr`).
    - `description`: the label; `unit`: what is counted (`"step"`, `"sample"`, ...).
    """

    def __init__(self, total: int, initial: int = 0, *, mode: str = "auto",
                 every_seconds: float = 5.0, stream: IO[str] | None = None,
                 description: str = "fit", unit: str = "step"):
        self.total = total
        self.unit = unit
        self.stream = stream if stream is not None else sys.stderr
        if mode == "auto":
            mode = "bar" if getattr(self.stream, "isatty", lambda: False)() else "lines"
        self.mode = mode
        self.every_seconds = every_seconds
        self.description = description
        self._last_line = -float("inf")
        self._bar = None
        if mode == "bar":
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self._bar = Progress(
                TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                TextColumn("loss {task.fields[loss]}"), TextColumn("{task.fields[rate]} it/s"),
                TimeElapsedColumn(), TimeRemainingColumn(),
                console=Console(file=self.stream), transient=False,
            )
            self._task = self._bar.add_task(description, total=total, completed=initial,
                                            loss="-", rate="-")
            self._bar.start()

    def update(self, step: int, loss: float | None, steps_per_second: float, *,
               note: str = "") -> None:
        """Report that `step` of `total` is done (`loss` may be `None` outside training;
        `note` is appended to the loss, e.g. a gradient norm)."""
        loss_text = ("-" if loss is None else _fmt_loss(loss)) + (f"  {note}" if note else "")
        if self.mode == "bar":
            self._bar.update(self._task, completed=step, loss=loss_text,
                             rate=f"{steps_per_second:.1f}")
        elif self.mode == "lines":
            now = time.monotonic()
            if now - self._last_line >= self.every_seconds or step >= self.total:
                self._last_line = now
                loss_part = "" if loss is None else f"  loss {loss_text}"
                print(f"{self.description}: {self.unit} {step}/{self.total}{loss_part}  "
                      f"{steps_per_second:.1f} {self.unit}s/s", file=self.stream, flush=True)

    def message(self, text: str) -> None:
        if self.mode == "off":
            return
        if self._bar is not None:
            self._bar.console.print(text)
        else:
            print(text, file=self.stream, flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
