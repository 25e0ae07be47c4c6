"""pinns: physics-informed neural networks on `sciopt.problems` (layer 1).

`PINN` (MLP with periodic embedding / Fourier features), `pinn_loss` (residual, initial and
boundary groups; uniform or residual-adaptive resampling; causal weighting), `train_pinn`
(Adam or MultiAdam through `sciopt.train.fit`), `train_pinn_marching` (window by window
in time, for stiff evolution problems), `relative_error` against the reference;
`LagrangianPINN` (`lpinn_for`, `lpinn_loss`) for transport-dominated problems;
`TENG` (time-evolving natural gradient) for accuracy in time-dependent problems.
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
from ._teng import TENG as TENG
from ._teng import PeriodicMLP as PeriodicMLP
from ._teng import TENGResult as TENGResult
from ._teng import teng_model as teng_model
from ._train import OPTIMIZERS as OPTIMIZERS
from ._train import make_optimizer as make_optimizer
from ._train import train_pinn as train_pinn

__all__ = [
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
