"""The host side of every loop in `sciopt.train`: `fit` and `iterate` each compile a chunk
of steps (a `lax.scan`); `run_chunks` calls it up to `num_steps` and, between chunks,
reports progress, writes the JSON-lines metrics, checkpoints atomically and stops on a
non-finite step or the solver's own stopping rule."""

from __future__ import annotations

import dataclasses
import json
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ._checkpoint import prune_checkpoints, save_checkpoint
from ._progress import ProgressReporter


@dataclasses.dataclass(frozen=True)
class Chunk:
    """What one compiled chunk reports to `run_chunks`: the carry after it, the metric
    values of its completed steps `[done, len(names)]` (the first is the one progress
    shows), the step that went non-finite (`-1` if none) and whether the solver asked to
    stop."""

    carry: Any
    values: np.ndarray
    bad_step: int = -1
    stop: bool = False


@dataclasses.dataclass(frozen=True)
class LoopOutcome:
    """The carry after the last completed chunk, its step, the metric values of every step
    this call ran `[steps, len(names)]`, and how the loop ended: `"ok"`, `"nonfinite"`
    (`bad_step` is the step that failed; the carry is the last finite one) or
    `"terminated"`."""

    carry: Any
    step: int
    values: np.ndarray
    status: str
    bad_step: int = -1


def next_boundary(step: int, num_steps: int, chunk_size: int, every: int | None) -> int:
    """The step the chunk starting at `step` runs to: the next multiple of `chunk_size`,
    or of `every` if that comes first, at most `num_steps`."""
    nxt = (step // chunk_size + 1) * chunk_size
    if every is not None:
        nxt = min(nxt, (step // every + 1) * every)
    return min(nxt, num_steps)


def run_chunks(run_chunk: Callable[[Any, int], Chunk], carry: Any, *, step: int,
               num_steps: int, chunk_size: int, names: tuple[str, ...],
               reporter: ProgressReporter, checkpoint_dir: Path | None = None,
               checkpoint_every: int | None = None, keep_checkpoints: int = 2,
               metrics_file: Path | None = None, log_every: int = 1,
               on_chunk: Callable[[Any, int], None] | None = None) -> LoopOutcome:
    """Run `run_chunk(carry, num)` from `step` to `num_steps`, `num` steps at a time (up to
    the next multiple of `chunk_size`, or of `checkpoint_every` if that comes first).

    After each chunk: one metrics line per `log_every`-th step (and the last) with the
    step's values, the wall time and the chunk's rate; progress; a checkpoint of the carry
    (at multiples of `checkpoint_every`, default every chunk, at the end and when the
    solver stops; never after a non-finite step) keeping the newest `keep_checkpoints`;
    `on_chunk(carry, step)`. Stops at a non-finite step or when the chunk says `stop`.
    """
    collected: list[np.ndarray] = []
    status, bad_step = "ok", -1
    start = time.perf_counter()
    while step < num_steps:
        num = next_boundary(step, num_steps, chunk_size, checkpoint_every) - step
        t0 = time.perf_counter()
        chunk = run_chunk(carry, num)
        carry = chunk.carry
        values = np.asarray(chunk.values)
        done = len(values)
        elapsed = time.perf_counter() - t0
        rate = done / elapsed if elapsed > 0 else math.inf
        collected.append(values)
        if metrics_file is not None and done:
            with open(metrics_file, "a") as f:
                for j in range(done):
                    s = step + j + 1
                    if s % log_every == 0 or s == num_steps:
                        record = {"step": s, **{n: float(values[j, k])
                                                for k, n in enumerate(names)},
                                  "wall_time": round(time.perf_counter() - start, 6),
                                  "steps_per_second": round(rate, 3)}
                        f.write(json.dumps(record) + "\n")
        step += done
        if done:
            reporter.update(step, float(values[-1, 0]), rate)
        if chunk.bad_step >= 0:
            status, bad_step = "nonfinite", chunk.bad_step
            break
        if checkpoint_dir is not None and done and (
                step == num_steps or chunk.stop
                or step % (checkpoint_every or chunk_size) == 0):
            save_checkpoint(checkpoint_dir, step, carry, {"num_steps": num_steps})
            prune_checkpoints(checkpoint_dir, keep_checkpoints)
        if on_chunk is not None and done:
            on_chunk(carry, step)
        if chunk.stop:
            status = "terminated"
            break
    stacked = np.concatenate(collected) if collected else np.zeros((0, len(names)))
    return LoopOutcome(carry, step, stacked, status, bad_step)
