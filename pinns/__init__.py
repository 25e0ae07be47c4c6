"""pinns: physics-informed neural networks on `sciopt.problems` (layer 1).

`PINN` (MLP with periodic embedding / Fourier features), `pinn_loss` (residual, initial and
boundary groups; uniform or residual-adaptive resampling; causal weighting), `train_pinn`
(Adam or MultiAdam through `sciopt.train.fit`), `train_pinn_marching` (window by window
in time, for stiff evolution problems), `relative_error` against the reference;
`LagrangianPINN` (`lpinn_for`, `lpinn_loss`) for transport-dominated problems;
`TENG` (time-evolving natural gradient) for accuracy in time-dependent problems.
Optimisers are objects (`Adam`, `MultiAdam`, `LBFGS`, `GaussNewton`); the recipe
`PINNRecipe` -> `train_and_evaluate` -> `save_run` trains, scores and records a network, and
`BENCHMARK_CASES` holds the benchmark's recipes.
"""

from ._evaluate import predict_on_reference as predict_on_reference
from ._evaluate import relative_error as relative_error
from ._formulation import Formulation as Formulation
from ._formulation import formulation as formulation
from ._formulation import pinn_for as pinn_for
from ._lagrangian import LagrangianPINN as LagrangianPINN
from ._lagrangian import characteristic_grid as characteristic_grid
from ._lagrangian import lpinn_for as lpinn_for
from ._lagrangian import lpinn_loss as lpinn_loss
from ._loss import pinn_loss as pinn_loss
from ._marching import MarchingPINN as MarchingPINN
from ._marching import MarchingResult as MarchingResult
from ._marching import train_pinn_marching as train_pinn_marching
from ._model import MLP as MLP
from ._model import PINN as PINN
from ._recipe import BENCHMARK_CASES as BENCHMARK_CASES
from ._recipe import PINNCase as PINNCase
from ._recipe import PINNRecipe as PINNRecipe
from ._recipe import PINNRun as PINNRun
from ._recipe import build_model as build_model
from ._recipe import save_run as save_run
from ._recipe import train_and_evaluate as train_and_evaluate
from ._teng import TENG as TENG
from ._teng import PeriodicMLP as PeriodicMLP
from ._teng import TENGResult as TENGResult
from ._teng import teng_model as teng_model
from ._train import LBFGS as LBFGS
from ._train import OPTIMIZERS as OPTIMIZERS
from ._train import Adam as Adam
from ._train import GaussNewton as GaussNewton
from ._train import MultiAdam as MultiAdam
from ._train import make_optimizer as make_optimizer
from ._train import optimizer_for as optimizer_for
from ._train import train_pinn as train_pinn

__all__ = [
    "train_and_evaluate",
    "save_run",
    "PINNRun",
    "PINNRecipe",
    "PINNCase",
    "optimizer_for",
    "MultiAdam",
    "LBFGS",
    "GaussNewton",
    "build_model",
    "BENCHMARK_CASES",
    "Adam",
    "characteristic_grid",
    "Formulation",
    "formulation",
    "LagrangianPINN",
    "lpinn_for",
    "lpinn_loss",
    "make_optimizer",
    "MarchingPINN",
    "MarchingResult",
    "MLP",
    "OPTIMIZERS",
    "PeriodicMLP",
    "PINN",
    "pinn_for",
    "pinn_loss",
    "predict_on_reference",
    "relative_error",
    "TENG",
    "teng_model",
    "TENGResult",
    "train_pinn",
    "train_pinn_marching",
]
