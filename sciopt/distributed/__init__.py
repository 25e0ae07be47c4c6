"""Scale-out: device meshes for data-parallel runs, multi-process start-up
(`jax.distributed`, SLURM / Open MPI auto-detection or an explicit coordinator), and each
process's share of the data."""

from ._mesh import data_mesh as data_mesh
from ._processes import ProcessInfo as ProcessInfo
from ._processes import global_array as global_array
from ._processes import initialize as initialize
from ._processes import process_info as process_info
from ._processes import process_shard as process_shard
from ._processes import process_slice as process_slice

__all__ = [
    "data_mesh",
    "global_array",
    "initialize",
    "process_info",
    "process_shard",
    "process_slice",
    "ProcessInfo",
]
