"""Wall times (median of repeats) and memory figures for benchmarks."""

from __future__ import annotations

import resource
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import jax

from ..validate import positive_int


def block(tree: Any) -> Any:
    """Wait for every array in `tree`."""
    return jax.block_until_ready(tree)


def time_call(fn: Callable[[], Any], *, repeats: int = 5, warmup: int = 1) -> dict[str, Any]:
    """Time `fn()` (blocking on its result): `warmup` untimed calls, then `repeats` timed.

    **Returns:**

    `{"median_s", "min_s", "times_s", "repeats"}`.
    """
    if not callable(fn):
        raise ValueError(f"fn must be a function of no arguments; got {type(fn).__name__}")
    repeats = positive_int("repeats", repeats)
    warmup = positive_int("warmup", warmup, allow_zero=True)
    for _ in range(warmup):
        block(fn())
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        block(fn())
        times.append(time.perf_counter() - t0)
    return {"median_s": statistics.median(times), "min_s": min(times), "times_s": times,
            "repeats": repeats}


def compiled_memory(fn: Callable, *args: Any) -> int | None:
    """Peak device memory XLA plans for `jax.jit(fn)(*args)`: arguments, outputs and
    temporaries, in bytes (`None` where the backend does not report it)."""
    try:
        stats = jax.jit(fn).lower(*args).compile().memory_analysis()
    except Exception:  # noqa: BLE001 - not every backend implements it
        return None
    if stats is None:
        return None
    return int(stats.argument_size_in_bytes + stats.output_size_in_bytes
               + stats.temp_size_in_bytes - stats.alias_size_in_bytes)


def peak_rss_bytes() -> int:
    """The process's peak resident set size so far, in bytes."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(rss if sys.platform == "darwin" else rss * 1024)


def device_peak_bytes() -> int | None:
    """Peak bytes in use on the default device, where the backend reports it (GPU/TPU)."""
    stats = jax.devices()[0].memory_stats()
    return None if not stats else int(stats.get("peak_bytes_in_use", 0)) or None
