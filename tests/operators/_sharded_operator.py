"""Run by test_training.py in a subprocess with 4 forced CPU devices: train an FNO
data-parallel on a 4-device mesh and on one device from the same start, and print the
largest differences of the loss curves and parameters as JSON. (Sharding is the fit loop's,
the same for every model; the FNO compiles in half DyMixOp's time.)"""

import json
import os
import sys

# Keep the flags the test run set (conftest) and force 4 host devices.
os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "")
                           + " --xla_force_host_platform_device_count=4")

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)

import equinox as eqx  # noqa: E402
import numpy as np  # noqa: E402

import operators  # noqa: E402
from sciopt.distributed import data_mesh  # noqa: E402

assert jax.device_count() == 4, jax.devices()
rng = np.random.default_rng(0)
grid = np.linspace(0.0, 1.0, 16, endpoint=False)
a = rng.standard_normal((24, 1, 16))
# A smooth nonlinear target: a shifted, squared copy of the input.
data = operators.OperatorData(a, np.roll(a, 3, axis=-1) ** 2 + a, grid[:, None])
options = {"fno": {"width": 6, "layers": 2, "modes": 4, "projection": 8}}


def leaves(m):
    return [np.asarray(v) for v in jax.tree_util.tree_leaves(eqx.filter(m, eqx.is_array))]


out = {"devices": jax.device_count()}
for name, opts in options.items():
    model = operators.build_model(operators.model_spec(name, data, **opts),
                                  key=jax.random.key(0))
    runs = [operators.train_operator(model, data, steps=12, key=jax.random.key(1),
                                     batch_size=8, learning_rate=1e-2, progress="off",
                                     mesh=mesh) for mesh in (None, data_mesh(4))]
    one, four = runs
    out[f"{name}_loss"] = float(np.max(np.abs(np.asarray(one.losses)
                                              - np.asarray(four.losses))))
    out[f"{name}_rel"] = max(float(np.max(np.abs(p - q)) / max(np.max(np.abs(p)), 1e-300))
                             for p, q in zip(leaves(one.model), leaves(four.model),
                                             strict=True))
    out[f"{name}_decrease"] = float(one.losses[-1] / one.losses[0])
print(json.dumps(out))
sys.stdout.flush()
