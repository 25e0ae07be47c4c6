"""Optimisers: MultiAdam (per-loss-group Adam moments) as an optax transformation, and
Gauss–Newton / Levenberg–Marquardt for sum-of-squares losses (lineax least squares)."""

from ._gauss_newton import SOLVERS as SOLVERS
from ._gauss_newton import GaussNewtonState as GaussNewtonState
from ._gauss_newton import LeastSquaresTransformation as LeastSquaresTransformation
from ._gauss_newton import Residuals as Residuals
from ._gauss_newton import SumOfSquares as SumOfSquares
from ._gauss_newton import gauss_newton as gauss_newton
from ._gauss_newton import is_least_squares as is_least_squares
from ._gauss_newton import least_squares_step as least_squares_step
from ._multi_adam import MultiAdamState as MultiAdamState
from ._multi_adam import group_gradients as group_gradients
from ._multi_adam import multi_adam as multi_adam

__all__ = [
    "gauss_newton",
    "GaussNewtonState",
    "group_gradients",
    "is_least_squares",
    "least_squares_step",
    "LeastSquaresTransformation",
    "multi_adam",
    "MultiAdamState",
    "Residuals",
    "SOLVERS",
    "SumOfSquares",
]
