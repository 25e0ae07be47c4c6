"""Classical reference solvers: pseudo-spectral ETDRK4 on periodic grids (float64-exact where
the problem is linear), finite differences with lineax for elliptic problems, finite volumes
for Burgers shocks, and Q4 finite elements for plane elasticity; differentiable and
jit-compiled."""

from ._elasticity import MBBBeam as MBBBeam
from ._elasticity import q4_stiffness as q4_stiffness
from ._elasticity import solve_elasticity_q4 as solve_elasticity_q4
from ._elliptic import solve_elliptic_2d as solve_elliptic_2d
from ._etdrk4 import ETDRK4Coefficients as ETDRK4Coefficients
from ._etdrk4 import etdrk4_coefficients as etdrk4_coefficients
from ._etdrk4 import etdrk4_step as etdrk4_step
from ._etdrk4 import solve_etdrk4 as solve_etdrk4
from ._etdrk4 import solve_on_grid as solve_on_grid
from ._finite_volume import burgers_rhs as burgers_rhs
from ._finite_volume import solve_burgers_fv as solve_burgers_fv
from ._random_fields import gaussian_random_field as gaussian_random_field
from ._random_fields import matern_random_field as matern_random_field
from ._spectral import PeriodicGrid as PeriodicGrid

__all__ = [
    "burgers_rhs",
    "etdrk4_coefficients",
    "etdrk4_step",
    "ETDRK4Coefficients",
    "gaussian_random_field",
    "matern_random_field",
    "MBBBeam",
    "PeriodicGrid",
    "q4_stiffness",
    "solve_burgers_fv",
    "solve_elasticity_q4",
    "solve_elliptic_2d",
    "solve_etdrk4",
    "solve_on_grid",
]
