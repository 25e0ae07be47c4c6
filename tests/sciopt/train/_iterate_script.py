"""An `iterate` run driven by the resume test as a real subprocess (see _resume_script.py).

usage: python _iterate_script.py CKPT_DIR OUT.npz NUM_STEPS SLEEP_SECONDS

The solver is a noisy damped rotation of a few points with a step-size-like setting as an
array leaf; each step calls a host callback that sleeps, so the test can kill the process
mid-run (the uninterrupted run has the callback too, with sleep 0).
"""

import sys
import time

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

from sciopt.bench import atomic_open  # noqa: E402
from sciopt.train import AbstractIterativeSolver, iterate  # noqa: E402

ckpt_dir, out, num_steps, sleep = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])


def nap(_):
    if sleep:
        time.sleep(sleep)


class Rotation(AbstractIterativeSolver):
    angle: jax.Array

    def init(self, key):
        return jax.random.normal(key, (8, 2))

    def step(self, x, key):
        jax.debug.callback(nap, x[0, 0])
        c, s = jnp.cos(self.angle), jnp.sin(self.angle)
        x = 0.999 * x @ jnp.array([[c, -s], [s, c]]) + 1e-3 * jax.random.normal(key, x.shape)
        return x, {"norm": jnp.linalg.norm(x)}


result = iterate(Rotation(jnp.asarray(0.1)), num_steps, key=jax.random.key(7), chunk_size=10,
                 checkpoint_dir=ckpt_dir, progress="lines", description="rotation")
with atomic_open(out, "wb") as f:
    np.savez(f, np.asarray(result.state), losses=result.metrics["norm"])
print(f"finished at step {result.step}", flush=True)
