"""operators: neural operators on `sciopt` data (layer 1).

`FNO` (1D / 2D Fourier neural operator, `SpectralConv`) and `DeepONet` (branch / trunk,
multiple outputs, Cartesian-product evaluation), `MultiONet` (branch and trunk combined at
several depths, DGNO); DyMixOp follows. `operator_pairs` takes input/output pairs from a
`sciopt data generate` file; `train_operator` / `evaluate` train and score any of them.
"""

from ._data import OperatorData as OperatorData
from ._data import operator_pairs as operator_pairs
from ._deeponet import DeepONet as DeepONet
from ._fno import FNO as FNO
from ._fno import SpectralConv as SpectralConv
from ._fno import count_parameters as count_parameters
from ._multionet import MultiONet as MultiONet
from ._train import check_compatible as check_compatible
from ._train import evaluate as evaluate
from ._train import predict as predict
from ._train import relative_l2 as relative_l2
from ._train import train_operator as train_operator
