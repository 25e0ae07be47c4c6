"""Batch sources: pure `init` / `next` pairs that run inside `lax.scan`.

A source's state is part of the training state, so a checkpoint records the exact data
position and a resumed run draws the same batches as an uninterrupted one.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.tree_util as jtu
import numpy as np
from jaxtyping import Array, Int, PRNGKeyArray, PyTree

from ..validate import positive_int

_State = TypeVar("_State")


class AbstractBatchSource(eqx.Module, Generic[_State]):
    """A stream of batches with explicit state.

    Subclasses implement `init(key) -> state` and `next(state) -> (batch, state)`, both pure
    and traceable, so that `sciopt.train.fit` can draw batches inside `lax.scan`.
    """

    @abc.abstractmethod
    def init(self, key: PRNGKeyArray) -> _State:
        """The state before the first batch."""

    @abc.abstractmethod
    def next(self, state: _State) -> tuple[PyTree[Array], _State]:
        """The next batch and the advanced state."""


class ArrayBatchState(eqx.Module):
    key: PRNGKeyArray
    order: Int[Array, " n"]
    position: Int[Array, ""]
    epoch: Int[Array, ""]


def _leading_size(tree: PyTree[Array]) -> int:
    leaves = jtu.tree_leaves(tree)
    if not leaves:
        raise ValueError("ArrayBatches needs at least one array, got an empty pytree")
    sizes = {int(jnp.shape(leaf)[0]) if jnp.ndim(leaf) else -1 for leaf in leaves}
    if -1 in sizes:
        raise ValueError("ArrayBatches needs arrays with a leading sample axis; got a scalar")
    if len(sizes) != 1:
        raise ValueError(
            f"all arrays given to ArrayBatches must share the leading (sample) size; got sizes "
            f"{sorted(sizes)}"
        )
    return sizes.pop()


def _numeric(leaf: Any) -> Array:
    """A data leaf as a JAX array; strings, objects and `None` are refused."""
    dtype = leaf.dtype if hasattr(leaf, "dtype") else np.asarray(leaf).dtype
    if not (jnp.issubdtype(dtype, jnp.number) or jnp.issubdtype(dtype, jnp.bool_)):
        raise ValueError(f"data must be arrays of numbers (a pytree of them); got "
                         f"{type(leaf).__name__} {leaf!r:.40} of dtype {dtype}")
    return jnp.asarray(leaf)


class ArrayBatches(AbstractBatchSource[ArrayBatchState]):
    """Mini-batches drawn without replacement from in-memory arrays, reshuffled each epoch.

    **Arguments:**

    - `data`: a pytree of arrays sharing their leading (sample) axis.
    - `batch_size`: samples per batch; at most the number of samples. The incomplete tail of
      an epoch is dropped so every batch has the same shape.
    - `shuffle`: draw a fresh permutation each epoch (from the state's key) or walk in order.
    """

    data: PyTree[Array]
    batch_size: int = eqx.field(static=True)
    num_samples: int = eqx.field(static=True)
    shuffle: bool = eqx.field(static=True)

    def __init__(self, data: PyTree[Array], batch_size: int, *, shuffle: bool = True):
        self.data = jtu.tree_map(_numeric, data)
        self.num_samples = _leading_size(self.data)
        self.batch_size = positive_int("batch_size", batch_size)
        if self.batch_size > self.num_samples:
            raise ValueError(
                f"batch_size ({self.batch_size}) exceeds the number of samples "
                f"({self.num_samples}); use batch_size <= {self.num_samples}"
            )
        self.shuffle = bool(shuffle)

    def _order(self, key: PRNGKeyArray) -> Int[Array, " n"]:
        if self.shuffle:
            return jax.random.permutation(key, self.num_samples)
        return jnp.arange(self.num_samples)

    def init(self, key: PRNGKeyArray) -> ArrayBatchState:
        key, sub = jax.random.split(key)
        return ArrayBatchState(key, self._order(sub), jnp.array(0), jnp.array(0))

    def next(self, state: ArrayBatchState) -> tuple[PyTree[Array], ArrayBatchState]:
        def new_epoch(s: ArrayBatchState) -> ArrayBatchState:
            key, sub = jax.random.split(s.key)
            return ArrayBatchState(key, self._order(sub), jnp.zeros_like(s.position),
                                   s.epoch + 1)

        exhausted = state.position + self.batch_size > self.num_samples
        state = jax.lax.cond(exhausted, new_epoch, lambda s: s, state)
        index = jax.lax.dynamic_slice_in_dim(state.order, state.position, self.batch_size)
        batch = jtu.tree_map(lambda a: jnp.take(a, index, axis=0), self.data)
        return batch, eqx.tree_at(lambda s: s.position, state, state.position + self.batch_size)


class SampledBatches(AbstractBatchSource[PRNGKeyArray]):
    """Batches drawn afresh each step by `sample(key)`, e.g. PINN collocation points.

    **Arguments:**

    - `sample`: a traceable function `key -> batch`.
    """

    sample: Callable[[PRNGKeyArray], PyTree[Array]]

    def init(self, key: PRNGKeyArray) -> PRNGKeyArray:
        return key

    def next(self, state: PRNGKeyArray) -> tuple[PyTree[Array], PRNGKeyArray]:
        key, sub = jax.random.split(state)
        return self.sample(sub), key


class FullBatch(AbstractBatchSource[None]):
    """The same batch every step (full-batch training)."""

    batch: PyTree[Array]

    def init(self, key: PRNGKeyArray) -> None:
        del key
        return None

    def next(self, state: None) -> tuple[PyTree[Array], None]:
        return self.batch, state


def as_source(data: Any) -> AbstractBatchSource:
    """Wrap a plain pytree of arrays as a `FullBatch`; pass sources through."""
    if isinstance(data, AbstractBatchSource):
        return data
    if data is None or isinstance(data, str | bytes):
        raise ValueError(f"data must be a pytree of arrays (the full batch) or a "
                         f"sciopt.train batch source; got {data!r:.40}")

    def leaf(x):
        if isinstance(x, str | bytes) or x is None:
            raise ValueError(f"data must hold arrays; it holds {type(x).__name__} {x!r:.40}")
        return jnp.asarray(x)

    return FullBatch(jtu.tree_map(leaf, data))
