"""The PDE registry: `get(name, **params)`, `names()`, `describe(name)`.

Each problem family lives in its own file and registers itself on import.
"""

from . import (  # noqa: F401  (registration)
    _elasticity,
    _elliptic,
    _heat,
    _heat2d_wave,
    _high_dim,
    _navier_stokes,
    _run,
    _semilinear,
    _torus2d,
)
from ._elasticity import MBBBeamProblem as MBBBeamProblem
from ._elliptic import Darcy2D as Darcy2D
from ._elliptic import Helmholtz2D as Helmholtz2D
from ._elliptic import Poisson2D as Poisson2D
from ._heat import Heat1DPeriodic as Heat1DPeriodic
from ._heat2d_wave import AllenCahn2D as AllenCahn2D
from ._heat2d_wave import FisherKPP1D as FisherKPP1D
from ._heat2d_wave import Heat2D as Heat2D
from ._heat2d_wave import Wave1D as Wave1D
from ._high_dim import PoissonTwoBody as PoissonTwoBody
from ._high_dim import SineGordonTwoBody as SineGordonTwoBody
from ._navier_stokes import NavierStokes2D as NavierStokes2D
from ._pointwise import Characteristics as Characteristics
from ._pointwise import PointwiseForm as PointwiseForm
from ._pointwise import evolution_form_1d as evolution_form_1d
from ._pointwise import evolution_form_2d as evolution_form_2d
from ._pointwise import steady_form as steady_form
from ._reference import DataPlan as DataPlan
from ._reference import ReferenceRun as ReferenceRun
from ._reference import on_grid as on_grid
from ._reference import slice_run as slice_run
from ._reference import steady_2d_run as steady_2d_run
from ._reference import time_1d_run as time_1d_run
from ._reference import time_2d_run as time_2d_run
from ._registry import AbstractProblem as AbstractProblem
from ._registry import Param as Param
from ._registry import describe as describe
from ._registry import get as get
from ._registry import names as names
from ._registry import register as register
from ._registry import save_schedule as save_schedule
from ._registry import unregister as unregister
from ._run import plot_reference as plot_reference
from ._run import run_reference as run_reference
from ._semilinear import AbstractPeriodic as AbstractPeriodic
from ._semilinear import AbstractPeriodic1D as AbstractPeriodic1D
from ._semilinear import AbstractPeriodic2D as AbstractPeriodic2D
from ._semilinear import Advection1D as Advection1D
from ._semilinear import AllenCahn1D as AllenCahn1D
from ._semilinear import Burgers1DPeriodic as Burgers1DPeriodic
from ._semilinear import KdV1D as KdV1D
from ._semilinear import KuramotoSivashinsky1D as KuramotoSivashinsky1D
from ._torus2d import AllenCahnTorus2D as AllenCahnTorus2D
from ._torus2d import Burgers2D as Burgers2D

__all__ = [
    "AbstractPeriodic",
    "AbstractPeriodic1D",
    "AbstractPeriodic2D",
    "AbstractProblem",
    "Advection1D",
    "AllenCahn1D",
    "AllenCahn2D",
    "AllenCahnTorus2D",
    "Burgers1DPeriodic",
    "Burgers2D",
    "Characteristics",
    "Darcy2D",
    "DataPlan",
    "describe",
    "evolution_form_1d",
    "evolution_form_2d",
    "FisherKPP1D",
    "get",
    "Heat1DPeriodic",
    "Heat2D",
    "Helmholtz2D",
    "KdV1D",
    "KuramotoSivashinsky1D",
    "MBBBeamProblem",
    "names",
    "on_grid",
    "NavierStokes2D",
    "Param",
    "plot_reference",
    "PointwiseForm",
    "Poisson2D",
    "PoissonTwoBody",
    "ReferenceRun",
    "register",
    "run_reference",
    "save_schedule",
    "SineGordonTwoBody",
    "slice_run",
    "steady_2d_run",
    "steady_form",
    "time_1d_run",
    "time_2d_run",
    "unregister",
    "Wave1D",
]
