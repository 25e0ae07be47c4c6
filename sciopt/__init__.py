"""sciopt: a JAX toolkit for scientific machine learning and PDE-constrained optimization.

The core package. Sub-packages are imported on demand:

- `sciopt.train`: the fit loop every method uses (chunks, checkpoints, resume, NaN guard).
- `sciopt.data`: HDF5 datasets in the PDEBench layout.
- `sciopt.geometry`: domains and samplers.
- `sciopt.problems`: the PDE registry.
- `sciopt.distributed`: device meshes.
- `sciopt.validate`: the input checks every package uses, inside and outside a caller's
  `jit` / `vmap` / `grad`.
"""

__version__ = "0.1.0"

from . import data as data
from . import distributed as distributed
from . import geometry as geometry
from . import problems as problems
from . import train as train
from . import validate as validate
