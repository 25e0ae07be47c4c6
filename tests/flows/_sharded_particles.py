"""Run by test_sharded_particles.py with 4 forced CPU devices: mean-field forces (the drift
of every Langevin solve), the blob density and the SVGD direction with the particles
sharded over a mesh, against the single-device ones; prints the largest differences as
JSON."""

import json
import os

# Keep the flags the test run set (conftest) and force 4 host devices.
os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "")
                           + " --xla_force_host_platform_device_count=4")

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402

import flows  # noqa: E402
from sciopt.distributed import data_mesh  # noqa: E402

mesh = data_mesh(4)
x = jax.random.normal(jax.random.key(0), (202, 2))  # not a multiple of 4 devices


def potential(z):
    return 0.5 * z @ z


def interaction(a, b):
    return jnp.exp(-jnp.sum((a - b) ** 2))


def energy(m):
    return flows.MeanFieldEnergy(potential=potential, interaction=interaction, block_size=32,
                                 mesh=m)


def blob(m):
    return flows.BlobInternalEnergy(2.0, 0.3, block_size=32, mesh=m).density(x)


def direction(m):
    return flows.SVGD(0.1, block_size=32, mesh=m).direction(jax.grad(potential), x)


out = {
    "force": float(jnp.max(jnp.abs(energy(mesh).force(x) - energy(None).force(x)))),
    "blob": float(jnp.max(jnp.abs(blob(mesh) - blob(None)))),
    "svgd": float(jnp.max(jnp.abs(direction(mesh) - direction(None)))),
}
print(json.dumps(out))
