"""Benchmark of `sciopt.derivatives`: the Laplacian and biharmonic of an MLP (tanh, width 128,
4 hidden layers) against dimension, ours (exact Taylor mode, STDE) against `jax.hessian`
traces, a naive jet over all basis vectors, and folx's forward Laplacian (from the `bench`
extra) in the same process, on the same points. STDE rows draw directions per point, or
("shared") one set of directions per batch, as when one key is drawn per training step.

Anchors (issue #4, 2 CPU cores, float32, batch 32, d = 1000): Hessian trace 245 ms, folx
40.6 ms (6x), naive jet 135 ms, 16-sample Rademacher jet 1.8 ms. Goals: exact at least as fast
as folx; STDE-16 at least 100x faster than the Hessian trace; STDE still running at
d = 10000.
"""

from __future__ import annotations

from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
from jax.experimental import jet

from sciopt.bench import measure
from sciopt.bench.plots import figure, save
from sciopt.derivatives import biharmonic, laplacian  # noqa: E402

try:
    import folx
except ImportError:  # the bench extra is not installed
    folx = None

GiB = 2**30


def _mlp(d: int):
    model = eqx.nn.MLP(d, 1, 128, 4, activation=jnp.tanh, key=jax.random.key(0))
    return lambda x: model(x)[0]


def _laplacian_methods(f, d):
    def naive_jet(x):
        def one(v):
            return jet.jet(f, (x,), ((v, jnp.zeros_like(v)),))[1][1]

        return jnp.sum(jax.vmap(one)(jnp.eye(d, dtype=x.dtype)))

    def stde(n, dist):
        return lambda xs, keys: jax.vmap(lambda x, k: laplacian(
            f, x, method="stde", key=k, num_samples=n, distribution=dist))(xs, keys)

    def shared(n, dist):  # one set of directions for the whole batch (one key per step)
        return lambda xs, keys: jax.vmap(lambda x: laplacian(
            f, x, method="stde", key=keys[0], num_samples=n, distribution=dist))(xs)

    methods = {
        "ours: exact (Taylor mode)": lambda xs, keys: jax.vmap(lambda x: laplacian(f, x))(xs),
        "ours: STDE-16 (Rademacher)": stde(16, "rademacher"),
        "ours: STDE-16 (Rademacher, shared)": shared(16, "rademacher"),
        "ours: STDE-64 (Rademacher)": stde(64, "rademacher"),
        "ours: STDE-16 (sparse)": stde(16, "sparse"),
        "jax.hessian trace": lambda xs, keys: jax.vmap(
            lambda x: laplacian(f, x, method="hessian"))(xs),
        "naive jet over basis": lambda xs, keys: jax.vmap(naive_jet)(xs),
    }
    if folx is not None:
        methods["folx forward Laplacian"] = lambda xs, keys: jax.vmap(
            lambda x: folx.forward_laplacian(f)(x).laplacian)(xs)
    return methods


def _biharmonic_methods(f):
    return {
        "ours: exact (Taylor mode)": lambda xs, keys: jax.vmap(lambda x: biharmonic(f, x))(xs),
        "ours: STDE-16 (Gaussian, 4th-order jets)": lambda xs, keys: jax.vmap(
            lambda x, k: biharmonic(f, x, method="stde", key=k, num_samples=16))(xs, keys),
        "nested jax.hessian": lambda xs, keys: jax.vmap(
            lambda x: biharmonic(f, x, method="hessian"))(xs),
    }


def _sweep(kind, dims, batch, repeats, budget, methods_for):
    records = []
    for d in dims:
        f = _mlp(d)
        xs = jax.random.normal(jax.random.key(1), (batch, d), jnp.float32)
        keys = jax.random.split(jax.random.key(2), batch)
        for name, fn in methods_for(f, d).items():
            if name == "naive jet over basis" and d > 1000:
                r = {"skipped": "d x d tangents"}
            else:
                print(f"derivatives: {kind} d={d} {name}", flush=True)
                r = measure(fn, (xs, keys), repeats=repeats, budget_bytes=budget)
            records.append({"kind": kind, "d": d, "batch": batch, "method": name, **r})
    return records


def _plot(records, kind, out_dir: Path) -> str:
    fig, ax = figure(7.5, 4.5)
    methods = sorted({r["method"] for r in records if r["kind"] == kind})
    for m in methods:
        pts = [(r["d"], r["median_s"]) for r in records
               if r["kind"] == kind and r["method"] == m and "median_s" in r]
        if pts:
            ax.loglog(*zip(*pts, strict=True), marker="o", label=m)
    ax.set_xlabel("dimension d")
    ax.set_ylabel("wall time per batch (s)")
    ax.set_title(f"{kind} of an MLP (tanh, 128 x 4), float32")
    ax.legend(fontsize=7)
    return save(fig, out_dir / f"derivatives_{kind}.png")


def _plot_memory(records, out_dir: Path) -> str:
    fig, ax = figure(7.5, 4.5)
    for m in sorted({r["method"] for r in records if r["kind"] == "laplacian"}):
        pts = [(r["d"], r["memory_bytes"] / 2**20) for r in records
               if r["kind"] == "laplacian" and r["method"] == m and r.get("memory_bytes")
               and "median_s" in r]
        if pts:
            ax.loglog(*zip(*pts, strict=True), marker="o", label=m)
    ax.set_xlabel("dimension d")
    ax.set_ylabel("memory planned by XLA (MiB)")
    ax.set_title("Laplacian: peak memory")
    ax.legend(fontsize=7)
    return save(fig, out_dir / "derivatives_memory.png")


def run(config: dict) -> dict:
    quick = config.get("quick", False)
    out_dir: Path = config["out_dir"]
    repeats = config.get("repeats", 3 if quick else 5)
    budget = config.get("memory_budget_gib", 8) * GiB
    batch = 32
    lap_dims = [10, 100, 1000] if quick else [10, 100, 1000, 10000]
    bih_dims = [10, 100] if quick else [10, 100, 1000]
    records = _sweep("laplacian", lap_dims, batch, repeats, budget, _laplacian_methods)
    records += _sweep("biharmonic", bih_dims, 4, repeats, budget,
                      lambda f, d: _biharmonic_methods(f))

    def cell(r):
        return r["median_s"] * 1e3 if "median_s" in r else r["skipped"]

    tables = []
    for kind in ("laplacian", "biharmonic"):
        dims = lap_dims if kind == "laplacian" else bih_dims
        methods = list(dict.fromkeys(r["method"] for r in records if r["kind"] == kind))
        rows = []
        for m in methods:
            by_d = {r["d"]: r for r in records if r["kind"] == kind and r["method"] == m}
            rows.append([m, *[cell(by_d[d]) for d in dims]])
        tables.append({"title": f"{kind.capitalize()}: wall time (ms) per batch of "
                                f"{32 if kind == 'laplacian' else 4} points",
                       "columns": ["method", *[f"d={d}" for d in dims]], "rows": rows})

    at = {r["method"]: r for r in records if r["kind"] == "laplacian" and r["d"] == 1000}
    hess = at["jax.hessian trace"].get("median_s")
    ratio_rows = []
    anchors = {  # (anchor figure, goal) from the issue
               "ours: exact (Taylor mode)": ("folx: 6x", ">= folx"),
               "ours: STDE-16 (Rademacher)": ("136x (1.8 ms)", ">= 100x"),
               "ours: STDE-16 (sparse)": ("136x (1.8 ms)", ">= 100x"),
               "ours: STDE-16 (Rademacher, shared)": ("136x (1.8 ms)", ">= 100x"),
               "ours: STDE-64 (Rademacher)": ("—", "—"),
               "folx forward Laplacian": ("6x (40.6 ms)", "—"),
               "naive jet over basis": ("1.8x (135 ms)", "—")}
    metrics = {}
    for m, r in at.items():
        if m == "jax.hessian trace" or "median_s" not in r or hess is None:
            continue
        speedup = hess / r["median_s"]
        metrics[f"speedup_vs_hessian_d1000[{m}]"] = speedup
        anchor, goal = anchors.get(m, ("—", "—"))
        ratio_rows.append([m, r["median_s"] * 1e3, speedup, anchor, goal])
    if "folx forward Laplacian" in at and "median_s" in at["folx forward Laplacian"]:
        metrics["exact_vs_folx_d1000"] = (at["folx forward Laplacian"]["median_s"]
                                          / at["ours: exact (Taylor mode)"]["median_s"])
    tables.insert(0, {
        "title": "Laplacian at d = 1000, batch 32: speed-up over the Hessian trace "
                 "(measured in this run)",
        "columns": ["method", "ms", "x faster than jax.hessian", "anchor", "goal"],
        "rows": ratio_rows,
        "notes": ("folx is not installed (pip install -e '.[bench]'): its row is missing."
                  if folx is None else "folx ran in the same process on the same points."),
    })
    figures = [_plot(records, "laplacian", out_dir), _plot(records, "biharmonic", out_dir),
               _plot_memory(records, out_dir)]
    summary = "Laplacian at d=1000 (batch 32, float32): " + ", ".join(
        f"{m.replace('ours: ', '')} {s:.1f}x" for m, s in
        ((k.split("[")[1][:-1], v) for k, v in metrics.items() if k.startswith("speedup")))
    summary += " faster than the jax.hessian trace"
    if "exact_vs_folx_d1000" in metrics:
        summary += f"; exact is {metrics['exact_vs_folx_d1000']:.2f}x folx's speed"
    return {"title": "Taylor-mode derivatives (sciopt.derivatives)", "summary": summary + ".",
            "dtype": "float32", "config": {"batch": batch, "laplacian_dims": lap_dims,
                                           "biharmonic_dims": bih_dims, "repeats": repeats,
                                           "memory_budget_gib": budget / GiB},
            "tables": tables, "records": records, "metrics": metrics, "figures": figures}
