"""flows: optimal transport (Sinkhorn family) and, as their issues land, Schrödinger bridges,
rectified flow and Wasserstein gradient flows.

`sciopt` is the core; `flows` imports it and never `operators` or `pinns`."""

from ._geometry import AbstractGeometry as AbstractGeometry
from ._geometry import Geometry as Geometry
from ._geometry import PointCloud as PointCloud
from ._geometry import SqEuclidean as SqEuclidean
from ._light_sb import LightSB as LightSB
from ._light_sb import bw2_uvp as bw2_uvp
from ._light_sb import gaussian_bridge_conditional as gaussian_bridge_conditional
from ._light_sb import train_light_sb as train_light_sb
from ._rectified_flow import RectifiedFlow as RectifiedFlow
from ._rectified_flow import reflow_sampler as reflow_sampler
from ._rectified_flow import train_rectified_flow as train_rectified_flow
from ._sinkhorn import LinearProblem as LinearProblem
from ._sinkhorn import Sinkhorn as Sinkhorn
from ._sinkhorn import SinkhornOutput as SinkhornOutput
from ._sinkhorn import sinkhorn_divergence as sinkhorn_divergence
from ._sinkhorn import solve_ot as solve_ot
