"""Particle interactions without N x M memory: blocked kernel matvecs and streaming
logsumexp, with blocked gradients and optional sharding over a device mesh."""

from ._interactions import gaussian_kernel as gaussian_kernel
from ._interactions import kernel_logsumexp as kernel_logsumexp
from ._interactions import kernel_matvec as kernel_matvec
