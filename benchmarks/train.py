"""Benchmark of `sciopt.train.fit`: steps per second of the chunked `lax.scan` loop against
the loop most scripts write (a Python `for` over a jitted step), the cost of checkpoints, and
the memory XLA plans for one step.

Same model, optimiser, batches and step count for every variant; wall times are medians of
repeats.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

sys.path.insert(0, str(Path(__file__).parent))
from _plot import figure, save  # noqa: E402

from sciopt.bench import compiled_memory, peak_rss_bytes, time_call  # noqa: E402
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


def run(config: dict) -> dict:
    quick = config.get("quick", False)
    out_dir: Path = config["out_dir"]
    repeats = config.get("repeats", 3 if quick else 5)
    steps = 500 if quick else 3000
    width, depth, n, batch = 64, 3, 4096, 256
    dtype = jnp.float32
    optimizer = optax.adam(1e-3)
    model, data, loss = _problem(width, depth, n, batch, dtype)
    key = jax.random.key(1)

    def ours(chunk, ckpt_dir=None, every=None):
        def call():
            if ckpt_dir is not None:
                shutil.rmtree(ckpt_dir, ignore_errors=True)
            return fit(loss, model, optimizer, data, steps, key=key, chunk_size=chunk,
                       checkpoint_dir=ckpt_dir, checkpoint_every=every, progress="off").losses
        return call

    loop, step_fn, step_args = _python_loop(loss, model, optimizer, data, steps, key)
    rows, rates = [], {}
    base = time_call(loop, repeats=repeats)
    rates["python loop + jit step"] = steps / base["median_s"]
    variants = [("fit, chunk 100", ours(100)), ("fit, chunk 500", ours(500))]
    tmp = Path(tempfile.mkdtemp(prefix="sciopt-bench-"))
    try:
        variants.append((f"fit, chunk 100, checkpoint every {steps // 10}",
                         ours(100, tmp / "ck", steps // 10)))
        timings = {name: time_call(fn, repeats=repeats) for name, fn in variants}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    rows.append(["python loop + jit step", base["median_s"], steps / base["median_s"], 1.0])
    for name, t in timings.items():
        rate = steps / t["median_s"]
        rates[name] = rate
        rows.append([name, t["median_s"], rate, rate / rates["python loop + jit step"]])

    losses = fit(loss, model, optimizer, data, steps, key=key, chunk_size=100,
                 progress="off").losses
    step_mem = compiled_memory(step_fn, *step_args)

    fig, ax = figure()
    ax.semilogy(np.arange(1, steps + 1), losses)
    ax.set_xlabel("step")
    ax.set_ylabel("MSE")
    ax.set_title(f"fit: MLP {width}x{depth}, batch {batch}, Adam")
    loss_png = save(fig, out_dir / "train_loss.png")
    fig, ax = figure()
    names = list(rates)
    ax.barh(names, [rates[k] for k in names])
    ax.set_xlabel("steps / s (higher is better)")
    ax.set_title("fit loop throughput")
    rate_png = save(fig, out_dir / "train_throughput.png")

    speedup = rates["fit, chunk 100"] / rates["python loop + jit step"]
    ck_name = variants[-1][0]
    overhead = rates["fit, chunk 100"] / rates[ck_name] - 1
    return {
        "title": "Training loop (sciopt.train.fit)",
        "summary": (f"{steps} Adam steps of an MLP regression (width {width}, depth {depth}, "
                    f"batch {batch}, {n} samples, float32): fit runs {speedup:.2f}x the steps/s "
                    f"of a Python loop over a jitted step; checkpoints every {steps // 10} steps "
                    f"cost {100 * overhead:.1f}%."),
        "dtype": "float32",
        "config": {"steps": steps, "width": width, "depth": depth, "batch": batch,
                   "samples": n, "repeats": repeats},
        "tables": [{
            "title": "Throughput",
            "columns": ["variant", "median wall (s)", "steps/s", "vs python loop"],
            "rows": rows,
            "notes": (f"Median of {repeats} repeats after one warm-up call. Memory XLA plans "
                      f"for one step: {step_mem} bytes; process peak RSS "
                      f"{peak_rss_bytes() / 2**20:.0f} MiB. Final loss {losses[-1]:.3e}."),
        }],
        "metrics": {"speedup_vs_python_loop": speedup, "checkpoint_overhead": overhead,
                    "final_loss": float(losses[-1]), "step_memory_bytes": step_mem,
                    "peak_rss_bytes": peak_rss_bytes(), "steps_per_second": rates},
        "figures": [loss_png, rate_png],
    }
