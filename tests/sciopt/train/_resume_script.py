"""A training run driven by the resume test as a real subprocess.

usage: python _resume_script.py CKPT_DIR OUT.npz NUM_STEPS SLEEP_SECONDS

Each step calls a host callback that sleeps, so that the test can kill the process in the
middle of a run; the callback is present (with sleep 0) in the uninterrupted run too, so both
runs execute the same compiled program.
"""

import sys
import time

import jax

jax.config.update("jax_enable_x64", True)

import equinox as eqx  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402

from sciopt._atomic import atomic_open  # noqa: E402
from sciopt.train import ArrayBatches, fit  # noqa: E402

ckpt_dir, out, num_steps, sleep = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])


def nap(_):
    if sleep:
        time.sleep(sleep)


def loss(model, batch, key):
    x, y = batch
    jax.debug.callback(nap, x[0, 0])
    noise = 1e-3 * jax.random.normal(key, y.shape, y.dtype)  # uses the per-step key
    mse = jnp.mean((jax.vmap(model)(x) - y - noise) ** 2)
    return mse, {"mse": mse}


key = jax.random.key(0)
x = jnp.linspace(-1, 1, 96)[:, None]
data = ArrayBatches((x, jnp.sin(3 * x)), 16)  # 6 batches per epoch: epochs turn over often
model = eqx.nn.MLP(1, 1, 16, 2, activation=jnp.tanh, key=key)
result = fit(loss, model, optax.adam(3e-3), data, num_steps, key=jax.random.key(7),
             chunk_size=10, checkpoint_dir=ckpt_dir, checkpoint_every=20, progress="lines")
leaves = jax.tree_util.tree_leaves(eqx.filter(result.model, eqx.is_array))
with atomic_open(out, "wb") as f:
    np.savez(f, *[np.asarray(leaf) for leaf in leaves], losses=result.losses)
print(f"finished at step {result.step}", flush=True)
