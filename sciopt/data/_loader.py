"""Splits and batch loaders for datasets."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence

import jax
import numpy as np
from jaxtyping import Array

from ..train import ArrayBatches
from ..validate import positive_int, protocol
from ._hdf5 import DatasetError, PDEDataset, _as_path, _layout, _open, _read


def split_indices(num_samples: int, fractions: Sequence[float], *, seed: int
                  ) -> list[np.ndarray]:
    """Shuffle `range(num_samples)` with `seed` and cut it by `fractions` (summing to 1).

    **Returns:**

    One sorted index array per fraction; together they partition the samples.
    """
    num_samples = positive_int("num_samples", num_samples)
    fractions = [float(f) for f in fractions]
    if any(f < 0 for f in fractions) or abs(sum(fractions) - 1.0) > 1e-9:
        raise ValueError(f"fractions must be non-negative and sum to 1; got {fractions}")
    seed = positive_int("seed", seed, allow_zero=True)
    order = np.random.default_rng(seed).permutation(num_samples)
    cuts = np.round(np.cumsum(fractions)[:-1] * num_samples).astype(int)
    return [np.sort(part) for part in np.split(order, cuts)]


def split(dataset: PDEDataset, fractions: Sequence[float] = (0.8, 0.2), *, seed: int
          ) -> list[PDEDataset]:
    """Split a dataset into parts (e.g. train / test) by `fractions`, reproducibly."""
    protocol("dataset", dataset, ("num_samples", "select"), "a dataset (read_dataset)")
    return [dataset.select(ix) for ix in split_indices(dataset.num_samples, fractions,
                                                        seed=seed)]


def batch_source(dataset: PDEDataset, batch_size: int, *, fields: Sequence[str] = ("tensor",),
                 shuffle: bool = True) -> ArrayBatches:
    """An in-memory `ArrayBatches` source over `fields` of `dataset`, for `sciopt.train.fit`.

    Batches are dictionaries `{field: array}`.
    """
    if not isinstance(dataset, PDEDataset):
        raise DatasetError(f"dataset must be a sciopt.data.PDEDataset (from read_dataset); "
                           f"got {type(dataset).__name__}")
    arrays = {}
    for name in fields:
        if name == "tensor":
            arrays[name] = dataset.tensor
        elif name in dataset.extras:
            arrays[name] = dataset.extras[name]
        else:
            raise ValueError(f"unknown field {name!r}; the dataset has 'tensor' and "
                             f"{sorted(dataset.extras)}")
    return ArrayBatches(arrays, batch_size, shuffle=shuffle)


def iterate_batches(
    path: str | os.PathLike,
    batch_size: int,
    *,
    seed: int,
    fields: Sequence[str] = ("tensor",),
    epochs: int = 1,
    shuffle: bool = True,
    mesh: jax.sharding.Mesh | None = None,
) -> Iterator[dict[str, Array]]:
    """Stream shuffled batches from a dataset file without loading it whole.

    Each epoch draws a permutation from `seed` and the epoch number, reads each batch's
    samples from disk, and places the batch on the devices (sharded over the first axis of
    `mesh` if given, otherwise on the default device). The incomplete tail of an epoch is
    dropped.

    **Arguments:**

    - `path`: the dataset file.
    - `batch_size`: samples per batch (a multiple of the mesh size when `mesh` is given).
    - `seed`: shuffling seed; the same seed gives the same batches.
    - `fields`: `"tensor"` and/or names of extra arrays.
    - `epochs`: passes over the data.
    - `shuffle`: shuffle each epoch.
    - `mesh`: a `jax.sharding.Mesh` for data-parallel placement.

    **Yields:**

    Dictionaries `{field: jax.Array}` with a leading batch axis.
    """
    path = _as_path(path)
    batch_size = positive_int("batch_size", batch_size)
    epochs = positive_int("epochs", epochs)
    seed = positive_int("seed", seed, allow_zero=True)
    sharding = None
    if mesh is not None:
        size = mesh.shape[mesh.axis_names[0]]
        if batch_size % size:
            raise ValueError(f"batch_size {batch_size} is not divisible by the {size} devices "
                             f"of the mesh; choose a multiple of {size}")
        sharding = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec(
            mesh.axis_names[0]))
    with _open(path) as f:
        axes, extras = _layout(f, path)
        for name in fields:
            if name != "tensor" and name not in extras:
                raise ValueError(f"unknown field {name!r}; {path} has 'tensor' and "
                                 f"{sorted(extras)}")
        n = f["tensor"].shape[0]
        if batch_size > n:
            raise DatasetError(f"batch_size {batch_size} exceeds the {n} samples in {path}")
        for epoch in range(epochs):
            rng = np.random.default_rng([seed, epoch])
            order = rng.permutation(n) if shuffle else np.arange(n)
            for start in range(0, n - batch_size + 1, batch_size):
                index = order[start:start + batch_size]
                sorted_index = np.sort(index)
                back = np.argsort(np.argsort(index))
                batch = {}
                for name in fields:
                    block = _read(f, name, path, sorted_index)[back]
                    if name == "tensor" and block.ndim == len(axes) + 2:
                        block = block[..., None]
                    batch[name] = (jax.device_put(block, sharding) if sharding is not None
                                   else jax.numpy.asarray(block))
                yield batch
