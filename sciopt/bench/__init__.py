"""Benchmark plumbing: timing, environment records, suite discovery and reports."""

from .._atomic import atomic_open as atomic_open
from ._env import environment as environment
from ._measure import compile_within as compile_within
from ._measure import measure as measure
from ._report import markdown_table as markdown_table
from ._report import merge_suite as merge_suite
from ._report import suite_markdown as suite_markdown
from ._report import write_suite as write_suite
from ._runner import available_suites as available_suites
from ._runner import load_suite as load_suite
from ._runner import run_suite as run_suite
from ._timing import block as block
from ._timing import compiled_memory as compiled_memory
from ._timing import device_peak_bytes as device_peak_bytes
from ._timing import peak_rss_bytes as peak_rss_bytes
from ._timing import time_call as time_call

__all__ = [
    "atomic_open",
    "available_suites",
    "block",
    "compile_within",
    "compiled_memory",
    "device_peak_bytes",
    "environment",
    "load_suite",
    "markdown_table",
    "measure",
    "merge_suite",
    "peak_rss_bytes",
    "run_suite",
    "suite_markdown",
    "time_call",
    "write_suite",
]
