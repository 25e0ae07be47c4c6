"""Benchmark suites (`sciopt bench SUITE`), each a module with `run(config) -> dict`,
found through the entry point group `sciopt.bench_suites`."""
