"""Taylor-mode derivatives: exact and stochastic (STDE) Laplacian, biharmonic, divergence and
general linear differential operators, without forming Hessians."""

from ._collapsed import Rows as Rows
from ._collapsed import basis as basis
from ._collapsed import collapsed_taylor as collapsed_taylor
from ._operators import DifferentialOperator as DifferentialOperator
from ._operators import apply_operator as apply_operator
from ._operators import biharmonic as biharmonic
from ._operators import divergence as divergence
from ._operators import laplacian as laplacian
from ._taylor import taylor as taylor

__all__ = [
    "apply_operator",
    "basis",
    "biharmonic",
    "collapsed_taylor",
    "DifferentialOperator",
    "divergence",
    "laplacian",
    "Rows",
    "taylor",
]
