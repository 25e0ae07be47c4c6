"""Input/output pairs for operator learning, taken from `sciopt.data` datasets."""

from __future__ import annotations

import dataclasses
from os import PathLike
from typing import Any

import numpy as np

from sciopt.data import DatasetError, PDEDataset, read_dataset
from sciopt.validate import index, positive_int


@dataclasses.dataclass(frozen=True)
class OperatorData:
    """Pairs `(a_i, u_i)` on one grid, channel first.

    **Fields:**

    - `inputs`: `[n, c_in, *grid]`; `outputs`: `[n, c_out, *grid]`.
    - `coords`: `[*grid, d]`, the grid's physical coordinates (the trunk input of DeepONet
      and MultiONet).
    - `attrs`: the source dataset's attributes plus how the pairs were taken.
    """

    inputs: np.ndarray
    outputs: np.ndarray
    coords: np.ndarray
    attrs: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def num_samples(self) -> int:
        return int(self.inputs.shape[0])

    @property
    def grid(self) -> tuple[int, ...]:
        return tuple(self.inputs.shape[2:])

    def astype(self, dtype) -> OperatorData:
        """The same pairs with inputs, outputs and coordinates in `dtype`."""
        return dataclasses.replace(self, inputs=self.inputs.astype(dtype),
                                   outputs=self.outputs.astype(dtype),
                                   coords=self.coords.astype(dtype))

    def select(self, index) -> OperatorData:
        index = np.asarray(index)
        return dataclasses.replace(self, inputs=self.inputs[index],
                                   outputs=self.outputs[index])

    def split(self, train: int, test: int) -> tuple[OperatorData, OperatorData]:
        """The first `train` samples and the `test` after them (generation is seeded per
        sample, so this is a fixed, reproducible split)."""
        train, test = positive_int("train", train), positive_int("test", test)
        if train + test > self.num_samples:
            raise ValueError(f"cannot split {self.num_samples} samples into {train} train and "
                             f"{test} test")
        return self.select(np.arange(train)), self.select(np.arange(train, train + test))

    def split_trajectories(self, train: int, test: int) -> tuple[OperatorData, OperatorData]:
        """For `rollout_pairs` data: the windows of the first `train` trajectories and of
        the `test` after them (whole trajectories, so no test state is seen in training)."""
        per = self.attrs.get("windows_per_trajectory")
        if per is None:
            raise ValueError("split_trajectories needs data from rollout_pairs (windows "
                             "ordered trajectory by trajectory)")
        trajectories = self.num_samples // per
        train, test = positive_int("train", train), positive_int("test", test)
        if train + test > trajectories:
            raise ValueError(f"cannot split {trajectories} trajectories into {train} train "
                             f"and {test} test")
        return self.split(train * per, test * per)


def check_data(name: str, data: Any) -> OperatorData:
    """`data` if it is an `OperatorData`, else a `ValueError` naming the argument."""
    if not isinstance(data, OperatorData):
        raise ValueError(f"{name} must be operators.OperatorData (from operator_pairs or "
                         f"rollout_pairs); got {type(data).__name__}")
    return data


def operator_pairs(source: PDEDataset | str | PathLike, *, input_time: int = 0,
                   output_time: int = -1) -> OperatorData:
    """Pairs from a dataset (a `PDEDataset` or an HDF5 file from `sciopt data generate`).

    Time-dependent sets give `u(t[input_time]) -> u(t[output_time])` (e.g. Burgers
    `u0 -> u(t = 1)`); sets with a coefficient (`extras["nu"]`, Darcy) give `a -> u`.
    Raises `DatasetError` for an empty set, a set with one time and no coefficient, or
    non-finite values.
    """
    data = source if isinstance(source, PDEDataset) else read_dataset(source)
    name = data.attrs.get("problem", "dataset")
    if data.num_samples == 0:
        raise DatasetError(f"{name}: the dataset holds no samples")
    tensor = np.asarray(data.tensor)
    spatial = tensor.ndim - 3  # [sample, time, *grid, channel]
    axes = [np.asarray(data.coords[k]) for k in "xyz"[:spatial]]
    mesh = np.stack(np.meshgrid(*axes, indexing="ij"), -1)
    if "nu" in data.extras:
        a = np.asarray(data.extras["nu"])
        if a.ndim == spatial + 1:
            a = a[..., None]
        inputs, outputs = a, tensor[:, 0]
        how = {"pairs": "coefficient -> solution"}
    else:
        if tensor.shape[1] < 2:
            raise DatasetError(f"{name}: one saved time and no coefficient: nothing to map")
        times = tensor.shape[1]
        input_time = index("input_time", input_time, times, of="saved times")
        output_time = index("output_time", output_time, times, of="saved times")
        inputs, outputs = tensor[:, input_time], tensor[:, output_time]
        how = {"pairs": "state -> state", "input_time": float(data.t[input_time]),
               "output_time": float(data.t[output_time])}
    inputs, outputs = np.moveaxis(inputs, -1, 1), np.moveaxis(outputs, -1, 1)
    if inputs.shape[2:] != outputs.shape[2:] or inputs.shape[2:] != mesh.shape[:-1]:
        raise DatasetError(f"{name}: input grid {inputs.shape[2:]}, output grid "
                           f"{outputs.shape[2:]} and coordinates {mesh.shape[:-1]} differ")
    for what, arr in (("inputs", inputs), ("outputs", outputs)):
        if not np.all(np.isfinite(arr)):
            raise DatasetError(f"{name}: the {what} contain NaN or Inf")
    return OperatorData(inputs, outputs, mesh, {**data.attrs, **how})


def rollout_pairs(source: PDEDataset | str | PathLike, *, steps: int) -> OperatorData:
    """Windows of trajectories for training a time stepper through its own rollout.

    From a time-dependent dataset with `T` saved times, every window of `steps + 1`
    consecutive times gives one sample: the input `u(t_k)` and, stacked along the channel
    axis, the targets `u(t_{k+1}), ..., u(t_{k+steps})` (`steps * c` output channels, one
    step's `c` channels after another). Samples are ordered trajectory by trajectory
    (`attrs["windows_per_trajectory"]` each), so a split by sample count keeps whole
    trajectories apart when it falls on a multiple of that; `attrs["time_step"]` is the
    spacing of the saved times (None if it varies). `train_operator(...,
    rollout_steps=steps)` trains on them.

    Raises `DatasetError` as `operator_pairs` does, and for a set with a coefficient or
    with fewer than `steps + 1` saved times.
    """
    data = source if isinstance(source, PDEDataset) else read_dataset(source)
    name = data.attrs.get("problem", "dataset")
    if "nu" in data.extras:
        raise DatasetError(f"{name}: a coefficient -> solution set has no trajectories to "
                           f"roll out")
    steps = int(steps)
    times = len(data.t)
    if steps < 1 or times < steps + 1:
        raise DatasetError(f"{name}: {times} saved time(s) cannot give {steps}-step windows "
                           f"(steps must be >= 1 and < the number of saved times)")
    parts = [operator_pairs(data, input_time=k, output_time=k + 1) for k in range(times - 1)]
    per = times - steps  # windows per trajectory
    inputs = np.stack([parts[k].inputs for k in range(per)], 1)  # [n, per, c, *grid]
    outputs = np.stack([np.concatenate([parts[k + j].outputs for j in range(steps)], 1)
                        for k in range(per)], 1)  # [n, per, steps * c, *grid]
    gaps = np.diff(np.asarray(data.t, dtype=float))
    attrs = {**parts[0].attrs, "pairs": f"state -> next {steps} states",
             "rollout_steps": steps, "windows_per_trajectory": per,
             "time_step": float(gaps[0]) if np.allclose(gaps, gaps[0]) else None}
    attrs.pop("input_time", None)
    attrs.pop("output_time", None)
    return OperatorData(inputs.reshape(-1, *inputs.shape[2:]),
                        outputs.reshape(-1, *outputs.shape[2:]), parts[0].coords, attrs)
