"""Tests run in float64: every tolerance below is written for double precision.

The test problems are small, so the suite's time is mostly XLA compilation: LLVM's
expensive optimisation passes are switched off for the test run (compiles are about a third
faster; the kernels run a few per cent slower). Subprocesses started by tests inherit the
setting through the environment."""

import os

os.environ["XLA_FLAGS"] = " ".join([
    os.environ.get("XLA_FLAGS", ""),
    "--xla_backend_optimization_level=0",
    "--xla_llvm_disable_expensive_passes=true",
]).strip()

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)
