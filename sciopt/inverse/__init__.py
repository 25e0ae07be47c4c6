"""PDE-constrained optimization: drivers over optimistix with per-iterate history,
reparametrisations, observation operators, regularisation, and gradient checks. Gradients
flow through `sciopt.solvers` (checkpointed reverse mode through ETDRK4, implicit adjoints
through lineax's linear solves)."""

from ._advection_diffusion import InitialConditionResult as InitialConditionResult
from ._advection_diffusion import (
    advection_diffusion_initial_condition as advection_diffusion_initial_condition,
)
from ._advection_diffusion import plot_initial_condition as plot_initial_condition
from ._darcy import DarcyInverseResult as DarcyInverseResult
from ._darcy import darcy_inverse as darcy_inverse
from ._darcy import plot_darcy_inverse as plot_darcy_inverse
from ._recipes import InverseRun as InverseRun
from ._recipes import register_inverse as register_inverse
from ._recipes import run_inverse as run_inverse
from ._solve import InverseResult as InverseResult
from ._solve import Reparam as Reparam
from ._solve import finite_difference_check as finite_difference_check
from ._solve import least_squares as least_squares
from ._solve import minimise as minimise
from ._terms import PointObservations as PointObservations
from ._terms import tikhonov as tikhonov
from ._terms import total_variation as total_variation
from ._topology import TopologyResult as TopologyResult
from ._topology import compliance as compliance
from ._topology import density_filter as density_filter
from ._topology import optimality_criteria as optimality_criteria
from ._topology import plot_topology as plot_topology
from ._topology import simp_mbb as simp_mbb

__all__ = [
    "compliance",
    "darcy_inverse",
    "DarcyInverseResult",
    "density_filter",
    "finite_difference_check",
    "InitialConditionResult",
    "InverseResult",
    "InverseRun",
    "least_squares",
    "minimise",
    "optimality_criteria",
    "plot_darcy_inverse",
    "plot_initial_condition",
    "plot_topology",
    "PointObservations",
    "register_inverse",
    "Reparam",
    "run_inverse",
    "simp_mbb",
    "tikhonov",
    "TopologyResult",
    "total_variation",
]
