"""operators: neural operators on `sciopt` data (layer 1).

`FNO` (1D / 2D Fourier neural operator, `SpectralConv`) and `DeepONet` (branch / trunk,
multiple outputs, Cartesian-product evaluation), `MultiONet` (branch and trunk combined at
several depths, DGNO) and `DyMixOp` (local-global-mixing layers as latent dynamics);
`rollout` steps a grid model autoregressively and `train_rollout_curriculum` trains one
through ever longer rollouts. `operator_pairs` takes input/output pairs from a
`sciopt data generate` file; `train_operator` / `evaluate` train and score any of them;
`error_spectrum` shows which wavenumbers a model gets wrong;
every model follows `AbstractOperator` (`check_compatible`, `predict`, `grid_model`);
`model_spec` / `build_model` make one by name, `save_model` / `load_model` store it.
The recipe `train_and_evaluate` / `save_run` trains, scores and records a model from a
`TrainingConfig`; `DATASETS` and `tuned_config` hold the benchmark data sets and the tuned
configuration of every model on them (CPU, GPU, quick).
"""

from ._configs import DATASETS as DATASETS
from ._configs import OperatorDataset as OperatorDataset
from ._configs import TrainingConfig as TrainingConfig
from ._configs import tuned_config as tuned_config
from ._data import OperatorData as OperatorData
from ._data import operator_pairs as operator_pairs
from ._data import rollout_pairs as rollout_pairs
from ._deeponet import DeepONet as DeepONet
from ._dymixop import DifferenceStencil as DifferenceStencil
from ._dymixop import DyMixOp as DyMixOp
from ._dymixop import LGMLayer as LGMLayer
from ._fno import FNO as FNO
from ._fno import SpectralConv as SpectralConv
from ._fno import count_parameters as count_parameters
from ._io import MODELS as MODELS
from ._io import build_model as build_model
from ._io import load_model as load_model
from ._io import model_spec as model_spec
from ._io import save_model as save_model
from ._multionet import MultiONet as MultiONet
from ._normalize import Normalized as Normalized
from ._normalize import channel_statistics as channel_statistics
from ._normalize import normalized as normalized
from ._protocol import AbstractGridOperator as AbstractGridOperator
from ._protocol import AbstractOperator as AbstractOperator
from ._protocol import AbstractPointOperator as AbstractPointOperator
from ._recipe import OperatorRun as OperatorRun
from ._recipe import save_run as save_run
from ._recipe import train_and_evaluate as train_and_evaluate
from ._spectrum import error_spectrum as error_spectrum
from ._spectrum import shell_spectrum as shell_spectrum
from ._surrogate import OperatorVectorField as OperatorVectorField
from ._surrogate import surrogate_solve as surrogate_solve
from ._train import check_compatible as check_compatible
from ._train import evaluate as evaluate
from ._train import inference_seconds as inference_seconds
from ._train import predict as predict
from ._train import relative_l2 as relative_l2
from ._train import rollout as rollout
from ._train import train_operator as train_operator
from ._train import train_rollout_curriculum as train_rollout_curriculum

__all__ = [
    "train_and_evaluate",
    "save_run",
    "OperatorRun",
    "tuned_config",
    "TrainingConfig",
    "OperatorDataset",
    "DATASETS",
    "AbstractGridOperator",
    "AbstractOperator",
    "AbstractPointOperator",
    "build_model",
    "channel_statistics",
    "check_compatible",
    "count_parameters",
    "DeepONet",
    "DifferenceStencil",
    "DyMixOp",
    "error_spectrum",
    "evaluate",
    "FNO",
    "inference_seconds",
    "LGMLayer",
    "load_model",
    "model_spec",
    "MODELS",
    "MultiONet",
    "Normalized",
    "OperatorVectorField",
    "normalized",
    "operator_pairs",
    "rollout_pairs",
    "OperatorData",
    "predict",
    "relative_l2",
    "rollout",
    "save_model",
    "shell_spectrum",
    "SpectralConv",
    "surrogate_solve",
    "train_operator",
    "train_rollout_curriculum",
]
