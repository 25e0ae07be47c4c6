"""operators: neural operators on `sciopt` data (layer 1).

`FNO` (1D / 2D Fourier neural operator, `SpectralConv`) and `DeepONet` (branch / trunk,
multiple outputs, Cartesian-product evaluation), `MultiONet` (branch and trunk combined at
several depths, DGNO); DyMixOp follows.
"""

from ._deeponet import DeepONet as DeepONet
from ._fno import FNO as FNO
from ._fno import SpectralConv as SpectralConv
from ._fno import count_parameters as count_parameters
from ._multionet import MultiONet as MultiONet
