"""Benchmark of `sciopt.data`: HDF5 write/read throughput in the PDEBench layout (with
per-chunk checksums and atomic renames) against plain h5py without them, full verification,
and the streaming batch loader."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import h5py
import numpy as np

from sciopt.bench import time_call  # noqa: E402
from sciopt.bench.plots import figure, save
from sciopt.data import inspect_dataset, iterate_batches, read_dataset, write_dataset  # noqa: E402


def run(config: dict) -> dict:
    quick = config.get("quick", False)
    out_dir: Path = config["out_dir"]
    repeats = config.get("repeats", 3)
    samples, steps, nx = (64, 21, 256) if quick else (512, 41, 1024)
    rng = np.random.default_rng(0)
    tensor = rng.standard_normal((samples, steps, nx, 1))
    t = np.linspace(0, 1, steps)
    x = np.linspace(0, 1, nx, endpoint=False)
    mb = tensor.nbytes / 2**20
    tmp = Path(tempfile.mkdtemp(prefix="sciopt-bench-data-"))
    try:
        ours = tmp / "ours.h5"
        plain = tmp / "plain.h5"

        def write_ours():
            write_dataset(ours, tensor, t=t, coords={"x": x}, problem="random", seed=0,
                          overwrite=True)

        def write_plain():
            with h5py.File(plain, "w") as f:
                f["tensor"] = tensor
                f["t-coordinate"] = t
                f["x-coordinate"] = x

        def read_plain():
            with h5py.File(plain, "r") as f:
                return f["tensor"][...]

        w_ours = time_call(write_ours, repeats=repeats)
        w_plain = time_call(write_plain, repeats=repeats)
        r_ours = time_call(lambda: read_dataset(ours).tensor, repeats=repeats)
        r_plain = time_call(read_plain, repeats=repeats)
        verify = time_call(lambda: inspect_dataset(ours, verify=True), repeats=repeats)
        batch = 16
        n_batches = samples // batch

        def stream():
            last = None
            for b in iterate_batches(ours, batch, seed=0):
                last = b["tensor"]
            return last

        loader = time_call(stream, repeats=repeats)
        same = bool(np.array_equal(read_dataset(ours).tensor, tensor))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    rows = [
        ["write (sciopt: checksums + atomic)", w_ours["median_s"], mb / w_ours["median_s"],
         w_plain["median_s"] / w_ours["median_s"]],
        ["write (plain h5py)", w_plain["median_s"], mb / w_plain["median_s"], 1.0],
        ["read + validate (sciopt)", r_ours["median_s"], mb / r_ours["median_s"],
         r_plain["median_s"] / r_ours["median_s"]],
        ["read (plain h5py)", r_plain["median_s"], mb / r_plain["median_s"], 1.0],
        ["inspect --verify (sciopt)", verify["median_s"], mb / verify["median_s"], None],
        [f"iterate_batches (batch {batch}, shuffled)", loader["median_s"],
         mb / loader["median_s"], None],
    ]
    fig, ax = figure()
    ax.barh([r[0] for r in rows], [r[2] for r in rows])
    ax.set_xlabel("MiB / s (higher is better)")
    ax.set_title(f"HDF5 throughput, {mb:.0f} MiB float64")
    png = save(fig, out_dir / "data_throughput.png")
    return {
        "title": "Datasets (sciopt.data, PDEBench HDF5 layout)",
        "summary": (f"{samples} samples x {steps} times x {nx} points, float64 ({mb:.1f} MiB); "
                    f"round trip exact: {same}. Ratios are plain h5py time / sciopt time "
                    f"(1 = no overhead)."),
        "dtype": "float64",
        "config": {"samples": samples, "time_steps": steps, "nx": nx, "repeats": repeats},
        "tables": [{"title": "Throughput",
                    "columns": ["operation", "median wall (s)", "MiB/s", "speed vs plain h5py"],
                    "rows": rows,
                    "notes": f"{n_batches} batches per epoch; median of {repeats} repeats."}],
        "metrics": {"round_trip_exact": same, "write_ratio": rows[0][3],
                    "read_ratio": rows[2][3]},
        "figures": [png],
    }
