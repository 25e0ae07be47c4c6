"""Run by test_sharding.py in a subprocess with 4 forced CPU devices: fit on a 4-device mesh
and on one device, and print the largest differences as JSON."""

import json
import os
import sys
import tempfile

# Keep the flags the test run set (conftest) and force 4 host devices.
os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "")
                           + " --xla_force_host_platform_device_count=4")

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)

import equinox as eqx  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402

from sciopt.data import iterate_batches, write_dataset  # noqa: E402
from sciopt.distributed import data_mesh  # noqa: E402
from sciopt.train import ArrayBatches, SampledBatches, fit  # noqa: E402

assert jax.device_count() == 4, jax.devices()
key = jax.random.key(0)
x = jnp.linspace(-1, 1, 64)[:, None]
model = eqx.nn.MLP(1, 1, 16, 2, activation=jnp.tanh, key=key)


def loss(m, b, k):
    xb, yb = b
    return jnp.mean((jax.vmap(m)(xb) - yb) ** 2)


def leaves(m):
    return [np.asarray(v) for v in jax.tree_util.tree_leaves(eqx.filter(m, eqx.is_array))]


def compare(source):
    one = fit(loss, model, optax.adam(1e-2), source, 40, key=key, chunk_size=8,
              progress="off")
    four = fit(loss, model, optax.adam(1e-2), source, 40, key=key, chunk_size=8,
               mesh=data_mesh(4), progress="off")
    rel = max(float(np.max(np.abs(a - b)) / max(np.max(np.abs(a)), 1e-300))
              for a, b in zip(leaves(one.model), leaves(four.model), strict=True))
    return rel, float(np.max(np.abs(one.losses - four.losses)))


out = {}
out["array_rel"], out["array_loss"] = compare(ArrayBatches((x, jnp.sin(3 * x)), 16))
out["sampled_rel"], out["sampled_loss"] = compare(
    SampledBatches(lambda k: ((u := jax.random.uniform(k, (32, 1))), jnp.cos(2 * u))))
out["devices"] = jax.device_count()

try:
    fit(loss, model, optax.adam(1e-2), ArrayBatches((x, jnp.sin(x)), 6), 2, key=key,
        mesh=data_mesh(4), progress="off")
    out["indivisible"] = "no error"
except ValueError as e:
    out["indivisible"] = str(e)

with tempfile.TemporaryDirectory() as d:
    path = write_dataset(f"{d}/a.h5", np.random.default_rng(0).standard_normal((16, 2, 8, 1)),
                         t=np.arange(2.0), coords={"x": np.arange(8.0)}, problem="random")
    batch = next(iterate_batches(path, 8, seed=0, mesh=data_mesh(4)))["tensor"]
    out["loader_shards"] = len(batch.sharding.device_set)
    out["loader_shard_shape"] = list(batch.addressable_shards[0].data.shape)
print(json.dumps(out))
sys.stdout.flush()
