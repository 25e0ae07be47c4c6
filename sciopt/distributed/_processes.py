"""Multi-process (multi-host) runs: start-up through `jax.distributed`, and each process's
share of the data."""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import numpy as np
from jaxtyping import Array

from ..validate import array, positive_int, protocol


@dataclasses.dataclass(frozen=True)
class ProcessInfo:
    """Where this process stands: `process_index` of `process_count`, its local devices and
    all devices of the run."""

    process_index: int
    process_count: int
    local_devices: tuple[Any, ...]
    devices: tuple[Any, ...]


def process_info() -> ProcessInfo:
    """The current process's `ProcessInfo` (one process: index 0 of 1)."""
    return ProcessInfo(jax.process_index(), jax.process_count(), tuple(jax.local_devices()),
                       tuple(jax.devices()))


def initialize(coordinator_address: str | None = None, num_processes: int | None = None,
               process_id: int | None = None, *, local_device_ids: list[int] | None = None,
               cpu_collectives: str = "gloo",
               initialization_timeout: int = 300) -> ProcessInfo:
    """Start a multi-process run with `jax.distributed.initialize`; call it first, before any
    JAX computation, in every process.

    With no arguments JAX detects the cluster (SLURM, Open MPI, and the other environments
    it knows); otherwise give all three of `coordinator_address` (`"host:port"` of process
    0), `num_processes` and `process_id`. On CPU the cross-process collectives use
    `cpu_collectives` (`"gloo"`, or `"mpi"` where JAX was built with it). Calling it again
    in an initialised process returns the same information.

    **Returns:** the `ProcessInfo` of this process. After it, `jax.devices()` lists every
    process's devices, so `data_mesh()` spans the whole run and `fit(..., mesh=...)`
    trains data-parallel across processes.
    """
    explicit = (coordinator_address, num_processes, process_id)
    if any(v is not None for v in explicit) and any(v is None for v in explicit):
        raise ValueError("give all of coordinator_address, num_processes and process_id, or "
                         "none of them (cluster auto-detection); got "
                         f"{coordinator_address!r}, {num_processes!r}, {process_id!r}")
    if num_processes is not None:
        positive_int("num_processes", num_processes)
        if not 0 <= int(process_id) < num_processes:
            raise ValueError(f"process_id must be in [0, {num_processes}); got {process_id}")
    if jax.distributed.is_initialized():
        return process_info()
    jax.config.update("jax_cpu_collectives_implementation", cpu_collectives)
    try:
        jax.distributed.initialize(coordinator_address, num_processes, process_id,
                                   local_device_ids=local_device_ids,
                                   initialization_timeout=initialization_timeout)
    except (RuntimeError, ValueError) as e:
        raise RuntimeError(f"could not start the multi-process run ({e}). Call "
                           f"sciopt.distributed.initialize() before any JAX computation; "
                           f"outside a SLURM / MPI allocation give coordinator_address, "
                           f"num_processes and process_id explicitly") from e
    return process_info()


def process_slice(n: int, *, process_index: int | None = None,
                  process_count: int | None = None) -> slice:
    """The contiguous rows `[i n / P, (i + 1) n / P)` of `n` that process `i` of `P` owns
    (default: this process); `n` must divide evenly."""
    n = positive_int("n", n)
    i = jax.process_index() if process_index is None else process_index
    count = jax.process_count() if process_count is None else process_count
    if n % count:
        raise ValueError(f"{n} rows do not split evenly over {count} processes; use a "
                         f"multiple of {count}")
    per = n // count
    return slice(i * per, (i + 1) * per)


def process_shard(x: Any, *, axis: int = 0) -> Any:
    """This process's share of a host array (the rows of `process_slice` along `axis`): how
    each process loads only its data, particles or collocation points."""
    x = np.asarray(x) if not hasattr(x, "shape") else x
    index = [slice(None)] * x.ndim
    index[axis] = process_slice(x.shape[axis])
    return x[tuple(index)]


def global_array(local: Any, mesh: jax.sharding.Mesh) -> Array:
    """One global array, sharded along the first axis of `mesh`, from every process's local
    rows (`process_shard` of the same global array, in process order)."""
    protocol("mesh", mesh, ("axis_names", "devices"), "a jax.sharding.Mesh (data_mesh)")
    spec = jax.sharding.PartitionSpec(mesh.axis_names[0])
    local = array("local", local, kind="number", finite=False, traced=False)
    return jax.make_array_from_process_local_data(jax.sharding.NamedSharding(mesh, spec),
                                                  np.asarray(local))
