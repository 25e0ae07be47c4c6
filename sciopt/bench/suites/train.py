"""Benchmark of `sciopt.train.fit`: steps per second of the chunked `lax.scan` loop against
the loop most scripts write (a Python `for` over a jitted step), the cost of checkpoints, and
the memory XLA plans for one step.

Same model, optimiser, batches and step count for every variant; wall times are medians of
repeats.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

from sciopt.bench import compiled_memory, peak_rss_bytes, time_call  # noqa: E402
from sciopt.bench.plots import figure, save
from sciopt.train import ArrayBatches, fit  # noqa: E402


def _problem(width: int, depth: int, n: int, batch: int, dtype):
    key = jax.random.key(0)
    x = jnp.linspace(-1, 1, n, dtype=dtype)[:, None]
    y = jnp.sin(4 * x) * jnp.exp(-x**2)
    model = eqx.nn.MLP(1, 1, width, depth, activation=jnp.tanh, key=key, dtype=dtype)
    data = ArrayBatches((x, y), batch)

    def loss(m, b, k):
        xb, yb = b
        return jnp.mean((jax.vmap(m)(xb) - yb) ** 2)

    return model, data, loss


def _python_loop(loss, model, optimizer, data, steps, key):
    """The loop most training scripts write: one jitted step per Python iteration."""
    params, static = eqx.partition(model, eqx.is_inexact_array)

    @jax.jit
    def step(params, opt_state, data_state):
        batch, data_state = data.next(data_state)
        value, grads = jax.value_and_grad(
            lambda p: loss(eqx.combine(p, static), batch, key))(params)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, data_state, value

    def run():
        p, s, d = params, optimizer.init(params), data.init(key)
        for _ in range(steps):
            p, s, d, value = step(p, s, d)
        return value

    return run, step, (params, optimizer.init(params), data.init(key))


def _case(label, width, depth, n, batch, steps, repeats, tmp):
    """Time every variant on one problem. Returns table rows, steps/s by variant, losses."""
    optimizer = optax.adam(1e-3)
    model, data, loss = _problem(width, depth, n, batch, jnp.float32)
    key = jax.random.key(1)

    def ours(chunk, ckpt_dir=None, every=None):
        def call():
            if ckpt_dir is not None:
                shutil.rmtree(ckpt_dir, ignore_errors=True)
            return fit(loss, model, optimizer, data, steps, key=key, chunk_size=chunk,
                       checkpoint_dir=ckpt_dir, checkpoint_every=every, progress="off").losses
        return call

    loop, step_fn, step_args = _python_loop(loss, model, optimizer, data, steps, key)
    base = time_call(loop, repeats=repeats)
    rates = {"python loop + jit step": steps / base["median_s"]}
    rows = [[label, "python loop + jit step", base["median_s"], rates["python loop + jit step"],
             1.0]]
    variants = [("fit, chunk 100", ours(100)), ("fit, chunk 500", ours(500)),
                (f"fit, chunk 100, checkpoint every {steps // 10}",
                 ours(100, tmp / f"ck-{label}", steps // 10))]
    for name, fn in variants:
        t = time_call(fn, repeats=repeats)
        rates[name] = steps / t["median_s"]
        rows.append([label, name, t["median_s"], rates[name],
                     rates[name] / rates["python loop + jit step"]])
    losses = ours(100)()
    return rows, rates, losses, compiled_memory(step_fn, *step_args), variants[-1][0]


def run(config: dict) -> dict:
    quick = config.get("quick", False)
    out_dir: Path = config["out_dir"]
    repeats = config.get("repeats", 3 if quick else 5)
    steps = 500 if quick else 3000
    cases = {  # label: (width, depth, samples, batch)
        "small (PINN-sized)": (32, 2, 1024, 32),
        "medium": (64, 3, 4096, 256),
    }
    tmp = Path(tempfile.mkdtemp(prefix="sciopt-bench-"))
    rows, results = [], {}
    try:
        for label, (width, depth, n, batch) in cases.items():
            case_rows, rates, losses, mem, ck_name = _case(label, width, depth, n, batch, steps,
                                                           repeats, tmp)
            rows += case_rows
            results[label] = {"steps_per_second": rates, "final_loss": float(losses[-1]),
                              "step_memory_bytes": mem, "losses": losses,
                              "speedup_vs_python_loop": rates["fit, chunk 100"]
                              / rates["python loop + jit step"],
                              "checkpoint_overhead": rates["fit, chunk 100"] / rates[ck_name] - 1}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    fig, ax = figure()
    for label, r in results.items():
        ax.semilogy(np.arange(1, steps + 1), r.pop("losses"), label=label)
    ax.set_xlabel("step")
    ax.set_ylabel("MSE")
    ax.legend()
    ax.set_title("fit: MLP regression, Adam 1e-3")
    loss_png = save(fig, out_dir / "train_loss.png")
    fig, ax = figure(9.0, 4.5)
    names = [f"{r[0]}: {r[1]}" for r in rows]
    ax.barh(names, [r[3] for r in rows])
    ax.set_xlabel("steps / s (higher is better)")
    ax.set_title("fit loop throughput")
    rate_png = save(fig, out_dir / "train_throughput.png")

    headline = "; ".join(
        f"{label}: fit {r['speedup_vs_python_loop']:.2f}x the steps/s of a Python loop over a "
        f"jitted step, checkpoints every {steps // 10} steps cost "
        f"{100 * r['checkpoint_overhead']:.0f}%" for label, r in results.items())
    return {
        "title": "Training loop (sciopt.train.fit)",
        "summary": f"{steps} Adam steps of an MLP regression (float32). {headline}.",
        "dtype": "float32",
        "config": {"steps": steps, "repeats": repeats,
                   "cases": {k: dict(zip(("width", "depth", "samples", "batch"), v,
                                         strict=True)) for k, v in cases.items()}},
        "tables": [{
            "title": "Throughput",
            "columns": ["case", "variant", "median wall (s)", "steps/s", "vs python loop"],
            "rows": rows,
            "notes": (f"Median of {repeats} repeats after one warm-up call; same model, data, "
                      f"optimiser and steps for every variant. Memory XLA plans for one step: "
                      + ", ".join(f"{k} {v['step_memory_bytes']} B" for k, v in results.items())
                      + f"; process peak RSS {peak_rss_bytes() / 2**20:.0f} MiB."),
        }],
        "metrics": {"cases": results, "peak_rss_bytes": peak_rss_bytes()},
        "figures": [loss_png, rate_png],
    }
