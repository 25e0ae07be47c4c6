"""Run by test_multiprocess.py as one of two processes on localhost (CPU collectives
through gloo): start the run with `sciopt.distributed.initialize`, check each process's
share of the data assembles into the global array, train a small FNO data-parallel over
both processes, and print the final parameters' checksum and loss as JSON."""

import json
import sys

from sciopt import distributed

process_id, port = int(sys.argv[1]), sys.argv[2]
info = distributed.initialize(f"localhost:{port}", 2, process_id)

import equinox as eqx  # noqa: E402
import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

import operators  # noqa: E402

assert info.process_count == 2 and len(info.devices) == 2 and len(info.local_devices) == 1
mesh = distributed.data_mesh()

# Each process holds only its rows; the global array is the whole set.
rows = np.arange(12.0).reshape(6, 2)
part = distributed.process_shard(rows)
whole = distributed.global_array(part, mesh)
total = jax.jit(lambda a: jnp.sum(a**2),
                out_shardings=jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec()))(
    whole)

rng = np.random.default_rng(0)
grid = np.linspace(0.0, 1.0, 16, endpoint=False)
a = rng.standard_normal((24, 1, 16))
data = operators.OperatorData(a, np.roll(a, 3, axis=-1) ** 2 + a, grid[:, None])
model = operators.build_model(operators.model_spec("fno", data, width=6, modes=4, layers=2,
                                                   projection=8), key=jax.random.key(0))
result = operators.train_operator(model, data, steps=12, key=jax.random.key(1), batch_size=8,
                                  learning_rate=1e-2, progress="off", mesh=mesh)
leaves = [np.asarray(v) for v in jax.tree_util.tree_leaves(eqx.filter(result.model,
                                                                     eqx.is_array))]
print("RESULT " + json.dumps({
    "process": info.process_index, "part": part.tolist(), "sum_of_squares": float(total),
    "losses": np.asarray(result.losses).tolist(),
    "parameters": [v.ravel().tolist() for v in leaves]}), flush=True)
