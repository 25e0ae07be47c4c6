"""Particle interactions without N x M memory: blocked kernel matvecs and streaming
logsumexp, with blocked gradients and optional sharding over a device mesh."""

from ._interactions import GaussianKernel as GaussianKernel
from ._interactions import SquaredDistanceScore as SquaredDistanceScore
from ._interactions import gaussian_kernel as gaussian_kernel
from ._interactions import kernel_logsumexp as kernel_logsumexp
from ._interactions import kernel_matvec as kernel_matvec
from ._interactions import pairwise as pairwise
from ._interactions import squared_distance_score as squared_distance_score
from ._interactions import squared_distances as squared_distances

__all__ = [
    "gaussian_kernel",
    "GaussianKernel",
    "kernel_logsumexp",
    "kernel_matvec",
    "pairwise",
    "squared_distance_score",
    "squared_distances",
    "SquaredDistanceScore",
]
