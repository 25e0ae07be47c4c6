"""Run by test_sharded.py with 4 forced CPU devices: sharded kernel reductions (and their
gradients) against single-device ones; prints the largest differences as JSON."""

import json
import os

# Keep the flags the test run set (conftest) and force 4 host devices.
os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "")
                           + " --xla_force_host_platform_device_count=4")

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

from sciopt.distributed import data_mesh  # noqa: E402
from sciopt.kernels import gaussian_kernel, kernel_logsumexp, kernel_matvec  # noqa: E402

keys = jax.random.split(jax.random.key(0), 3)
x = jax.random.normal(keys[0], (50, 3))  # 50 rows: not a multiple of 4 devices
y = jax.random.normal(keys[1], (33, 3))
v = jax.random.normal(keys[2], (33, 2))
mesh = data_mesh(4)
k = gaussian_kernel(0.8)


def score(a, b):
    return -jnp.sum((a - b) ** 2) / 0.2


out = {}
for name, op, fn in (("matvec", kernel_matvec, k), ("logsumexp", kernel_logsumexp, score)):
    def loss(x, y, v, mesh=None, op=op, fn=fn):
        return jnp.sum(jnp.sin(op(fn, x, y, v, block_size=8, mesh=mesh)))

    one = op(fn, x, y, v, block_size=8)
    four = jax.jit(lambda x, y, v, op=op, fn=fn: op(fn, x, y, v, block_size=8, mesh=mesh))(
        x, y, v)
    g1 = jax.grad(loss, argnums=(0, 1, 2))(x, y, v)
    g4 = jax.jit(jax.grad(lambda x, y, v: loss(x, y, v, mesh), argnums=(0, 1, 2)))(x, y, v)
    out[name] = float(np.max(np.abs(one - four)))
    out[name + "_grad"] = max(float(np.max(np.abs(a - b))) for a, b in zip(g1, g4,
                                                                            strict=True))
print(json.dumps(out))
