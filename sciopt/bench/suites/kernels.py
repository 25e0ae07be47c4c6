"""Benchmark of `sciopt.kernels`: the Gaussian kernel matvec (and its gradient with respect
to x, y and v) and the streaming logsumexp, d = 3, float32, against a dense `jnp`
implementation (while it fits in memory) and KeOps (`pykeops`, `bench` extra) when it builds
here. Pairs per second and the memory XLA plans.

Anchors (issue #4): KeOps, Gaussian matvec on 1M points in ~1.4 s on an RTX 2080 Ti (a GPU
figure). Goal on CPU: under 1 GiB at n = m = 2e5, where a dense matrix needs 160 GB
(float32: 160 GB / 2 = 80 GB per matrix plus its gradient).
"""

from __future__ import annotations

import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from sciopt.bench import measure
from sciopt.bench.plots import figure, save
from sciopt.kernels import (  # noqa: E402
    gaussian_kernel,
    kernel_logsumexp,
    kernel_matvec,
    squared_distance_score,
)

GiB = 2**30
BANDWIDTH = 0.5


def _keops_matvec():
    """A KeOps Gaussian matvec (NumPy front end), or the reason it is unavailable."""
    try:
        from pykeops.numpy import LazyTensor
    except Exception as e:  # noqa: BLE001 - not installed or does not import
        return None, f"pykeops unavailable ({type(e).__name__})"

    def run(x, y, v):
        xi, yj = LazyTensor(x[:, None, :]), LazyTensor(y[None, :, :])
        k = (-((xi - yj) ** 2).sum(2) / (2 * BANDWIDTH**2)).exp()
        return k @ v

    try:
        probe = np.random.default_rng(0).standard_normal((8, 3)).astype(np.float32)
        run(probe, probe, probe[:, :1])
    except Exception as e:  # noqa: BLE001 - the JIT build failed here
        return None, f"pykeops did not build here ({type(e).__name__})"
    return run, None


def run(config: dict) -> dict:
    quick = config.get("quick", False)
    out_dir: Path = config["out_dir"]
    repeats = config.get("repeats", 3)
    budget = config.get("memory_budget_gib", 4) * GiB
    sizes = [1000, 4000, 10000] if quick else [1000, 10000, 50000, 200000]
    k = gaussian_kernel(BANDWIDTH)
    score = squared_distance_score(2 * BANDWIDTH**2)

    def dense_matvec(x, y, v):
        return k.block(x, y) @ v

    def grad_of(f):
        return jax.grad(lambda x, y, v: jnp.sum(f(x, y, v) ** 2), argnums=(0, 1, 2))

    methods = {
        "ours: kernel_matvec": lambda x, y, v: kernel_matvec(k, x, y, v),
        "ours: kernel_matvec gradient (x, y, v)": grad_of(lambda x, y, v:
                                                          kernel_matvec(k, x, y, v)),
        "ours: kernel_logsumexp": lambda x, y, v: kernel_logsumexp(score, x, y, v),
        "dense jnp matvec": dense_matvec,
        "dense jnp matvec gradient": grad_of(dense_matvec),
    }
    keops, keops_note = _keops_matvec()
    records = []
    for n in sizes:
        keys = jax.random.split(jax.random.key(n), 3)
        x = jax.random.normal(keys[0], (n, 3), jnp.float32)
        y = jax.random.normal(keys[1], (n, 3), jnp.float32)
        v = jax.random.normal(keys[2], (n,), jnp.float32)
        reps = 1 if n >= 100000 else repeats
        for name, fn in methods.items():
            print(f"kernels: n=m={n} {name}", flush=True)
            r = measure(fn, (x, y, v), repeats=reps, budget_bytes=budget)
            records.append({"n": n, "method": name, **r})
        if keops is not None:
            xs, ys, vs = (np.asarray(a) for a in (x, y, v[:, None]))
            keops(xs, ys, vs)  # compile for these shapes
            times = []
            for _ in range(reps):
                t0 = time.perf_counter()
                keops(xs, ys, vs)
                times.append(time.perf_counter() - t0)
            records.append({"n": n, "method": "KeOps (pykeops, CPU)",
                            "median_s": float(np.median(times)), "memory_bytes": None})
    # Accuracy of the blocked matvec against the dense one, float64, where dense fits.
    x64 = np.random.default_rng(0).standard_normal((2000, 3))
    w64 = np.random.default_rng(1).standard_normal(2000)
    with jax.enable_x64(True):
        ours = np.asarray(kernel_matvec(k, jnp.asarray(x64), jnp.asarray(x64), jnp.asarray(w64),
                                        block_size=300))
        ref = np.asarray(k.block(jnp.asarray(x64), jnp.asarray(x64)) @ jnp.asarray(w64))
    max_err = float(np.max(np.abs(ours - ref)) / np.max(np.abs(ref)))

    names = list(dict.fromkeys(r["method"] for r in records))
    rows = []
    for m in names:
        row = [m]
        for n in sizes:
            r = next((r for r in records if r["n"] == n and r["method"] == m), None)
            if r is None:
                row.append("—")
            elif "median_s" in r:
                row.append(f"{r['median_s'] * 1e3:.4g} ms, {n * n / r['median_s'] / 1e6:.0f} "
                           f"Mpairs/s")
            else:
                row.append(r["skipped"])
        rows.append(row)
    mem_rows = []
    for m in names:
        mem_rows.append([m] + [
            (f"{r['memory_bytes'] / 2**20:.1f}" if r.get("memory_bytes") else "—")
            for n in sizes
            for r in [next((r for r in records if r["n"] == n and r["method"] == m), {})]])

    def fig_for(key, ylabel, fname, title):
        fig, ax = figure(7.5, 4.5)
        for m in names:
            pts = [(r["n"], key(r)) for r in records if r["method"] == m and key(r)]
            if pts:
                ax.loglog(*zip(*pts, strict=True), marker="o", label=m)
        ax.set_xlabel("n = m points (d = 3)")
        ax.set_ylabel(ylabel)
        ax.set_title(title)
        ax.legend(fontsize=7)
        return save(fig, out_dir / fname)

    figures = [
        fig_for(lambda r: r.get("median_s"), "wall time (s)", "kernels_time.png",
                "Gaussian kernel reductions, float32"),
        fig_for(lambda r: (r["memory_bytes"] / 2**20 if r.get("memory_bytes")
                           and "median_s" in r else None),
                "memory planned by XLA (MiB)", "kernels_memory.png", "Peak memory"),
    ]
    largest = max(sizes)
    ours_mem = {r["method"]: r.get("memory_bytes") for r in records if r["n"] == largest}
    speed = {}
    for n in sizes:
        o = next(r for r in records if r["n"] == n and r["method"] == "ours: kernel_matvec")
        d = next(r for r in records if r["n"] == n and r["method"] == "dense jnp matvec")
        if "median_s" in o and "median_s" in d:
            speed[n] = d["median_s"] / o["median_s"]
    summary = (f"At n = m = {largest}: matvec plans "
               f"{(ours_mem.get('ours: kernel_matvec') or 0) / 2**20:.1f} MiB, its gradient "
               f"{(ours_mem.get('ours: kernel_matvec gradient (x, y, v)') or 0) / 2**20:.1f} "
               f"MiB (goal < 1024 MiB). Speed vs dense where dense fits: "
               + ", ".join(f"n={n}: {s:.2f}x" for n, s in speed.items())
               + f". Relative error vs dense (float64): {max_err:.1e}.")
    notes = keops_note or "KeOps ran on the CPU in the same process, same points."
    return {
        "title": "Particle interactions (sciopt.kernels)",
        "summary": summary,
        "dtype": "float32",
        "config": {"sizes": sizes, "d": 3, "bandwidth": BANDWIDTH, "repeats": repeats,
                   "memory_budget_gib": budget / GiB},
        "tables": [
            {"title": "Wall time and throughput", "columns": ["method",
                                                              *[f"n=m={n}" for n in sizes]],
             "rows": rows, "notes": notes + " Dense rows are skipped once the planned memory "
             f"exceeds {budget / GiB:.0f} GiB."},
            {"title": "Memory planned by XLA (MiB)", "columns": ["method",
                                                                 *[f"n=m={n}" for n in sizes]],
             "rows": mem_rows},
        ],
        "records": records,
        "metrics": {"memory_bytes_at_largest": ours_mem, "speed_vs_dense": speed,
                    "relative_error_vs_dense_f64": max_err},
        "figures": figures,
    }
