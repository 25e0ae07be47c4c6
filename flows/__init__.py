"""flows: optimal transport (Sinkhorn family), Schrödinger bridges (Light SB), rectified flow,
and Wasserstein gradient flows: particle methods (mean-field Langevin, over- and
underdamped; entropic fictitious play; symmetric MFL for minimax problems; SVGD and mirrored
SVGD) and neural JKO schemes (JKO with input-convex networks and density tracking;
variational WGF on particles).

`sciopt` is the core; `flows` imports it and never `operators` or `pinns`."""

from ._closed_forms import barenblatt as barenblatt
from ._closed_forms import barenblatt_second_moment as barenblatt_second_moment
from ._closed_forms import ornstein_uhlenbeck_law as ornstein_uhlenbeck_law
from ._convex import ICNN as ICNN
from ._convex import ConvexGradientNet as ConvexGradientNet
from ._energy import BlobInternalEnergy as BlobInternalEnergy
from ._energy import MeanFieldEnergy as MeanFieldEnergy
from ._fictitious_play import EntropicFictitiousPlay as EntropicFictitiousPlay
from ._fictitious_play import fictitious_play as fictitious_play
from ._geometry import AbstractGeometry as AbstractGeometry
from ._geometry import Geometry as Geometry
from ._geometry import PointCloud as PointCloud
from ._geometry import SqEuclidean as SqEuclidean
from ._jko import JKO as JKO
from ._jko import JKOTrajectory as JKOTrajectory
from ._jko import jko as jko
from ._langevin import MeanFieldLangevin as MeanFieldLangevin
from ._langevin import UnderdampedMeanFieldLangevin as UnderdampedMeanFieldLangevin
from ._langevin import langevin as langevin
from ._light_sb import LightSB as LightSB
from ._light_sb import bw2_uvp as bw2_uvp
from ._light_sb import gaussian_bridge_conditional as gaussian_bridge_conditional
from ._light_sb import train_light_sb as train_light_sb
from ._minimax import MinimaxGame as MinimaxGame
from ._minimax import MinimaxTrajectory as MinimaxTrajectory
from ._minimax import SymmetricMFL as SymmetricMFL
from ._minimax import minimax_langevin as minimax_langevin
from ._mirror_sinkhorn import MirrorSinkhorn as MirrorSinkhorn
from ._mirror_sinkhorn import MirrorSinkhornOutput as MirrorSinkhornOutput
from ._mirror_sinkhorn import linear_objective as linear_objective
from ._mirror_sinkhorn import round_to_polytope as round_to_polytope
from ._particles import ParticleTrajectory as ParticleTrajectory
from ._rectified_flow import RectifiedFlow as RectifiedFlow
from ._rectified_flow import reflow_sampler as reflow_sampler
from ._rectified_flow import train_rectified_flow as train_rectified_flow
from ._router import Routing as Routing
from ._router import SparseMoE as SparseMoE
from ._router import SparseRouter as SparseRouter
from ._schatten_ot import SchattenOT as SchattenOT
from ._schatten_ot import SchattenOTOutput as SchattenOTOutput
from ._schatten_ot import schatten_norm as schatten_norm
from ._sinkhorn import LinearProblem as LinearProblem
from ._sinkhorn import Sinkhorn as Sinkhorn
from ._sinkhorn import SinkhornOutput as SinkhornOutput
from ._sinkhorn import sinkhorn_divergence as sinkhorn_divergence
from ._sinkhorn import solve_ot as solve_ot
from ._sparse_ot import SparseOTOutput as SparseOTOutput
from ._sparse_ot import SparsityConstrained as SparsityConstrained
from ._sparse_ot import sparse_simplex_projection as sparse_simplex_projection
from ._svgd import SVGD as SVGD
from ._svgd import median_bandwidth as median_bandwidth
from ._svgd import svgd as svgd
from ._variational import VariationalTrajectory as VariationalTrajectory
from ._variational import VariationalWGF as VariationalWGF
from ._variational import porous_medium_conjugate as porous_medium_conjugate
from ._variational import variational_wgf as variational_wgf

__all__ = [
    "AbstractGeometry",
    "barenblatt",
    "barenblatt_second_moment",
    "BlobInternalEnergy",
    "bw2_uvp",
    "ConvexGradientNet",
    "EntropicFictitiousPlay",
    "fictitious_play",
    "gaussian_bridge_conditional",
    "Geometry",
    "ICNN",
    "JKO",
    "jko",
    "JKOTrajectory",
    "langevin",
    "linear_objective",
    "LightSB",
    "LinearProblem",
    "MeanFieldEnergy",
    "MeanFieldLangevin",
    "median_bandwidth",
    "minimax_langevin",
    "MinimaxGame",
    "MinimaxTrajectory",
    "MirrorSinkhorn",
    "MirrorSinkhornOutput",
    "ornstein_uhlenbeck_law",
    "ParticleTrajectory",
    "PointCloud",
    "porous_medium_conjugate",
    "RectifiedFlow",
    "reflow_sampler",
    "round_to_polytope",
    "Routing",
    "SchattenOT",
    "SchattenOTOutput",
    "schatten_norm",
    "Sinkhorn",
    "sinkhorn_divergence",
    "SinkhornOutput",
    "solve_ot",
    "SparseMoE",
    "SparseOTOutput",
    "SparseRouter",
    "SparsityConstrained",
    "sparse_simplex_projection",
    "SqEuclidean",
    "SVGD",
    "svgd",
    "SymmetricMFL",
    "train_light_sb",
    "train_rectified_flow",
    "UnderdampedMeanFieldLangevin",
    "variational_wgf",
    "VariationalTrajectory",
    "VariationalWGF",
]
