"""Run by test_pinn.py with 4 forced CPU devices: train a small PINN (Adam, then
Gauss-Newton) with its collocation points sharded over a 4-device mesh and on one device
from the same start; print the largest differences of the losses and parameters as JSON."""

import json
import os

# Keep the flags the test run set (conftest) and force 4 host devices.
os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "")
                           + " --xla_force_host_platform_device_count=4")

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)

import equinox as eqx  # noqa: E402
import numpy as np  # noqa: E402

import pinns  # noqa: E402
from sciopt import problems  # noqa: E402
from sciopt.distributed import data_mesh  # noqa: E402

p = problems.get("heat1d", modes=1)
model = pinns.pinn_for(p, width=8, depth=2, periodic_modes=1, key=jax.random.key(0))
runs = []
for mesh in (None, data_mesh(4)):
    losses, m = [], model
    for optimizer, steps in (("adam", 15), ("gauss-newton", 3)):
        r = pinns.train_pinn(p, m, steps=steps, key=jax.random.key(1), optimizer=optimizer,
                             learning_rate=1e-2, progress="off", mesh=mesh,
                             residual_points=64, initial_points=32)
        m = r.model
        losses.append(np.asarray(r.losses))
    runs.append((np.concatenate(losses), [np.asarray(v) for v in
                                           jax.tree_util.tree_leaves(eqx.filter(m, eqx.is_array))]))
(l1, p1), (l4, p4) = runs
try:
    pinns.pinn_loss(p, residual_points=66, mesh=data_mesh(4))
    message = ""
except ValueError as e:
    message = str(e)
print(json.dumps({
    "devices": jax.device_count(),
    "loss_rel": float(np.max(np.abs(l1 - l4) / np.abs(l1))),
    "param_rel": max(float(np.max(np.abs(a - b)) / np.max(np.abs(a))) for a, b in
                     zip(p1, p4, strict=True)),
    "decrease": float(l1[-1] / l1[0]), "bad_count": message}))
