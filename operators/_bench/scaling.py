"""Weak scaling of data-parallel training over forced host devices (and a real GPU's devices
when there are several): the same per-device batch on 1, 2 and 4 devices, so the global
batch grows with the device count and ideal scaling keeps the time per step constant.

Each device count runs in its own process (XLA fixes the host device count at start-up):
`sciopt.train.fit` of an FNO on shifted-and-squared 1D pairs with `mesh=data_mesh(D)`
(batch sharded, parameters replicated, gradients all-reduced; compiled once, timed after),
and
`sciopt.kernels.kernel_matvec` on a particle cloud sharded over the mesh. Wall times are
medians of repeats after compilation. On a CPU the forced devices share the machine's
cores, so the figures measure the overhead of the sharded program, not a speed-up.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sciopt.bench.plots import figure, save

_WORKER = r"""
import json, os, sys, time
devices, per_device, steps, repeats, particles = (int(v) for v in sys.argv[1:6])
import jax
jax.config.update("jax_enable_x64", True)
import numpy as np, jax.numpy as jnp
import operators
from sciopt import kernels
from sciopt.bench import time_call
from sciopt.distributed import data_mesh
from sciopt.train import ArrayBatches, fit
import optax

assert jax.device_count() == devices, jax.devices()
mesh = data_mesh(devices)
rng = np.random.default_rng(0)
n = 64
batch = per_device * devices
a = rng.standard_normal((4 * batch, 1, n))
data = operators.OperatorData(a, np.roll(a, 3, axis=-1) ** 2 + a,
                              np.linspace(0, 1, n, endpoint=False)[:, None])
model = operators.FNO(1, 1, modes=8, width=16, layers=3, projection=32, key=jax.random.key(0))
source = ArrayBatches((jnp.asarray(data.inputs), jnp.asarray(data.outputs)), batch)
optimizer = optax.adam(1e-3)


def loss(m, b, key):  # one loss and optimiser object, so repeated fits reuse the compile
    x, y = b
    return jnp.mean(operators.relative_l2(jax.vmap(m)(x), y))


def train():
    return fit(loss, model, optimizer, source, steps, key=jax.random.key(1), mesh=mesh,
               chunk_size=steps, progress="off").losses

t_train = time_call(train, repeats=repeats)["median_s"] / steps
m = particles * devices  # targets, split over the devices; the sources stay `particles`
x = jax.random.normal(jax.random.key(2), (m, 3))
y = jax.random.normal(jax.random.key(3), (particles, 3))
v = jax.random.normal(jax.random.key(4), (particles,))
kern = kernels.GaussianKernel(1.0)
xs = jax.device_put(x, jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec("data")))
matvec = jax.jit(lambda x: kernels.kernel_matvec(kern, x, y, v, mesh=mesh))
t_kernel = time_call(lambda: matvec(xs), repeats=repeats)["median_s"]
print("RESULT " + json.dumps({"devices": devices, "train_s_per_step": t_train,
                              "global_batch": batch, "kernel_s": t_kernel,
                              "particles": m}))
"""


def _run(devices: int, per_device: int, steps: int, repeats: int, particles: int) -> dict:
    env = dict(os.environ)
    env["XLA_FLAGS"] = (env.get("XLA_FLAGS", "")
                        + f" --xla_force_host_platform_device_count={devices}").strip()
    proc = subprocess.run([sys.executable, "-c", _WORKER, str(devices), str(per_device),
                           str(steps), str(repeats), str(particles)], env=env,
                          capture_output=True, text=True, timeout=1800)
    if proc.returncode != 0:
        raise RuntimeError(f"scaling worker with {devices} devices failed:\n"
                           f"{proc.stderr[-3000:]}")
    line = next(s for s in proc.stdout.splitlines() if s.startswith("RESULT "))
    return json.loads(line[7:])


def run(config: dict) -> dict:
    quick = config.get("quick", False)
    out_dir: Path = config["out_dir"]
    repeats = config.get("repeats", 3 if quick else 5)
    counts = (1, 2) if quick else (1, 2, 4)
    per_device, steps, particles = (8, 20, 2048) if quick else (16, 100, 8192)
    results = [_run(d, per_device, steps, repeats, particles) for d in counts]
    base = results[0]
    rows = []
    for r in results:
        r["train_efficiency"] = base["train_s_per_step"] / r["train_s_per_step"]
        r["kernel_efficiency"] = base["kernel_s"] / r["kernel_s"]
        rows.append([r["devices"], r["global_batch"], 1e3 * r["train_s_per_step"],
                     r["train_efficiency"], r["particles"], 1e3 * r["kernel_s"],
                     r["kernel_efficiency"]])
    fig, ax = figure()
    d = [r["devices"] for r in results]
    ax.plot(d, [r["train_efficiency"] for r in results], "o-", label="FNO training step")
    ax.plot(d, [r["kernel_efficiency"] for r in results], "s-", label="kernel matvec")
    ax.axhline(1.0, color="k", lw=0.8, ls="--", label="ideal")
    ax.set(xlabel="devices (forced host devices)", ylabel="weak-scaling efficiency t(1) / t(D)",
           xticks=d, title="Weak scaling, fixed work per device")
    ax.legend()
    png = save(fig, out_dir / "scaling_weak.png")
    return {
        "title": "Weak scaling over devices (sciopt.distributed, fit, kernels)",
        "summary": "Efficiency t(1)/t(D) at fixed work per device: training "
                   + ", ".join(f"{r['devices']} dev {r['train_efficiency']:.2f}"
                               for r in results)
                   + "; kernel matvec "
                   + ", ".join(f"{r['devices']} dev {r['kernel_efficiency']:.2f}"
                               for r in results) + ".",
        "dtype": "float64",
        "tables": [{
            "title": "Weak scaling",
            "columns": ["devices", "global batch", "train ms/step", "train efficiency",
                        "particles", "kernel matvec ms", "kernel efficiency"],
            "rows": rows,
            "notes": (f"FNO (width 16, 8 modes, 3 layers) on 64-point 1D pairs, {per_device} "
                      f"samples per device per step, {steps} steps per timed call; Gaussian "
                      f"kernel matvec from {particles} 3D sources to {particles} targets "
                      f"per device (targets sharded over the mesh, sources streamed on every "
                      f"device). Each device count in its own process. "
                      f"Forced host devices share the CPU's cores: these figures show the "
                      f"cost of the sharded program, not a speed-up; on a multi-GPU node "
                      f"the same script measures real scaling."),
        }],
        "metrics": {"weak_scaling": {str(r["devices"]): {k: v for k, v in r.items()}
                                     for r in results}},
        "figures": [png],
    }
