"""The loops every sciopt method uses: `fit` (gradient training) and `iterate` (any
`AbstractIterativeSolver`: time stepping, outer iterations), both with compiled chunks,
progress, metrics, atomic checkpoints, bitwise resume and a NaN/Inf guard; `fit` also
shards data-parallel. `scan_iterate` runs a solver's steps as one pure `lax.scan` (the
same result as `iterate`, for use inside a caller's `jit` / `vmap` / `grad`)."""

from ._checkpoint import CheckpointError as CheckpointError
from ._checkpoint import latest_checkpoint as latest_checkpoint
from ._checkpoint import load_checkpoint as load_checkpoint
from ._checkpoint import read_header as read_header
from ._checkpoint import save_checkpoint as save_checkpoint
from ._checkpoint import write_state as write_state
from ._fit import FitResult as FitResult
from ._fit import NonFiniteError as NonFiniteError
from ._fit import TrainState as TrainState
from ._fit import fit as fit
from ._iterate import AbstractIterativeSolver as AbstractIterativeSolver
from ._iterate import IterateResult as IterateResult
from ._iterate import IterationState as IterationState
from ._iterate import NonFiniteIteration as NonFiniteIteration
from ._iterate import iterate as iterate
from ._iterate import scan_iterate as scan_iterate
from ._progress import ProgressReporter as ProgressReporter
from ._sources import AbstractBatchSource as AbstractBatchSource
from ._sources import ArrayBatches as ArrayBatches
from ._sources import ArrayBatchState as ArrayBatchState
from ._sources import FullBatch as FullBatch
from ._sources import SampledBatches as SampledBatches

__all__ = [
    "AbstractIterativeSolver",
    "IterateResult",
    "IterationState",
    "iterate",
    "NonFiniteIteration",
    "scan_iterate",
    "AbstractBatchSource",
    "ArrayBatches",
    "ArrayBatchState",
    "CheckpointError",
    "fit",
    "FitResult",
    "FullBatch",
    "latest_checkpoint",
    "load_checkpoint",
    "NonFiniteError",
    "ProgressReporter",
    "read_header",
    "SampledBatches",
    "save_checkpoint",
    "TrainState",
    "write_state",
]
