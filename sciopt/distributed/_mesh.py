"""Device meshes for data-parallel runs."""

from __future__ import annotations

from collections.abc import Sequence

import jax
import numpy as np

from ..validate import positive_int


def data_mesh(num_devices: int | None = None, *, axis_name: str = "data",
              devices: Sequence[jax.Device] | None = None) -> jax.sharding.Mesh:
    """A one-dimensional mesh over devices for data parallelism.

    **Arguments:**

    - `num_devices`: how many devices to use (default: all).
    - `axis_name`: the mesh axis name (the batch axis is sharded over it).
    - `devices`: explicit devices (default: `jax.devices()`).

    **Returns:**

    A `jax.sharding.Mesh` with one axis.
    """
    devices = list(devices) if devices is not None else jax.devices()
    if num_devices is not None:
        num_devices = positive_int("num_devices", num_devices)
        if num_devices > len(devices):
            raise ValueError(f"num_devices={num_devices} but only {len(devices)} devices are "
                             f"visible; on CPU set XLA_FLAGS=--xla_force_host_platform_device_"
                             f"count={num_devices} before importing jax")
        devices = devices[:num_devices]
    return jax.sharding.Mesh(np.array(devices), (axis_name,))
