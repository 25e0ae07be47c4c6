"""Datasets in the PDEBench HDF5 layout: write, read, validate, inspect, split and load."""

from ..solvers import gaussian_random_field as gaussian_random_field
from ..solvers import matern_random_field as matern_random_field
from ._generate import PRESETS as PRESETS
from ._generate import generate_dataset as generate_dataset
from ._hdf5 import BlockArray as BlockArray
from ._hdf5 import DatasetError as DatasetError
from ._hdf5 import PDEDataset as PDEDataset
from ._hdf5 import inspect_dataset as inspect_dataset
from ._hdf5 import read_dataset as read_dataset
from ._hdf5 import write_dataset as write_dataset
from ._loader import batch_source as batch_source
from ._loader import iterate_batches as iterate_batches
from ._loader import split as split
from ._loader import split_indices as split_indices

__all__ = [
    "batch_source",
    "BlockArray",
    "DatasetError",
    "gaussian_random_field",
    "generate_dataset",
    "inspect_dataset",
    "iterate_batches",
    "matern_random_field",
    "PDEDataset",
    "PRESETS",
    "read_dataset",
    "split",
    "split_indices",
    "write_dataset",
]
