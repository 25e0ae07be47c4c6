"""Optimisers: MultiAdam (per-loss-group Adam moments) as an optax transformation."""

from ._multi_adam import MultiAdamState as MultiAdamState
from ._multi_adam import group_gradients as group_gradients
from ._multi_adam import multi_adam as multi_adam
