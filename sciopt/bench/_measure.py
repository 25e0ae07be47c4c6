"""Shared measurement helper for the benchmark suites: compile, check the planned memory
against a budget, then time (median of repeats)."""

from __future__ import annotations

import math

import jax

from ._timing import time_call


def compile_within(fn, args, budget_bytes: float):
    """`(compiled, planned_bytes)` for `jax.jit(fn)` on `args`; `compiled` is `None` when
    XLA plans more than `budget_bytes` (planned bytes `None` where not reported)."""
    compiled = jax.jit(fn).lower(*args).compile()
    stats = compiled.memory_analysis()
    if stats is None:
        return compiled, None
    memory = int(stats.argument_size_in_bytes + stats.output_size_in_bytes
                 + stats.temp_size_in_bytes - stats.alias_size_in_bytes)
    return (None if memory > budget_bytes else compiled), memory


def measure(fn, args, *, repeats: int, budget_bytes: float) -> dict:
    """Compile `jax.jit(fn)` for `args`; if XLA plans more than `budget_bytes`, skip it;
    otherwise time it. Returns `{"median_s", "memory_bytes"}` or `{"skipped": reason}`."""
    try:
        compiled, memory = compile_within(fn, args, budget_bytes)
    except Exception as e:  # noqa: BLE001 - report, do not crash the suite
        return {"skipped": f"does not compile: {type(e).__name__}"}
    if compiled is None:
        return {"skipped": f"needs {memory / 2**30:.1f} GiB (budget "
                           f"{budget_bytes / 2**30:.0f} GiB)", "memory_bytes": memory}
    # Short calls are noisy on shared machines: repeat until ~0.5 s is timed (at most 50).
    first = time_call(lambda: compiled(*args), repeats=1, warmup=0)["median_s"]
    repeats = max(repeats, min(50, math.ceil(0.5 / max(first, 1e-6))))
    timing = time_call(lambda: compiled(*args), repeats=repeats, warmup=0)  # compiled above
    return {"median_s": timing["median_s"], "times_s": timing["times_s"],
            "memory_bytes": memory}
