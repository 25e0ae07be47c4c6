"""Per-channel normalisation of operator inputs and outputs, stored with the model."""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp
import numpy as np

from ._data import OperatorData, check_data
from ._protocol import AbstractGridOperator, AbstractOperator


class Normalized(AbstractOperator):
    """`model` applied to standardised inputs, its outputs mapped back:
    `G(a) = out_mean + out_std * model((a - in_mean) / in_std)`, channel by channel.

    The statistics are per channel (not per grid point, unlike the FNO code's pointwise
    normaliser), so a grid model stays resolution independent. They are fixed numbers
    (static fields), never trained or weight-decayed, and are saved with the model.
    Coefficients such as Darcy's permeability (3 / 12) or outputs of size 1e-2 otherwise
    put the networks far from their initialisation's working range.
    """

    model: AbstractOperator
    in_mean: tuple[float, ...] = eqx.field(static=True)
    in_std: tuple[float, ...] = eqx.field(static=True)
    out_mean: tuple[float, ...] = eqx.field(static=True)
    out_std: tuple[float, ...] = eqx.field(static=True)

    def check_compatible(self, data: OperatorData) -> None:
        c_in, c_out = data.inputs.shape[1], data.outputs.shape[1]
        if len(self.in_mean) != c_in or len(self.out_mean) != c_out:
            raise ValueError(f"the model normalises {len(self.in_mean)} input and "
                             f"{len(self.out_mean)} output channel(s); the data has {c_in} "
                             f"and {c_out}")
        self.model.check_compatible(data)

    def predict(self, inputs, coords):
        def column(values):
            return jnp.asarray(values, inputs.dtype).reshape(-1, *[1] * (inputs.ndim - 2))

        scaled = (inputs - column(self.in_mean)) / column(self.in_std)
        out = self.model.predict(scaled, coords)
        return out * column(self.out_std) + column(self.out_mean)

    def grid_model(self) -> AbstractGridOperator | None:
        """The wrapped grid model (rollouts of a normalised model use the normalised
        state map, and check the channels of this one)."""
        return self.model.grid_model()


def channel_statistics(data: OperatorData) -> dict[str, list[float]]:
    """Mean and standard deviation of each input and output channel over `data` (the
    training set); a constant channel gets standard deviation 1."""
    check_data("data", data)
    def stats(x):
        axes = (0,) + tuple(range(2, x.ndim))
        mean, std = np.mean(x, axes), np.std(x, axes)
        std = np.where(std > 0, std, 1.0)
        return [float(v) for v in mean], [float(v) for v in std]

    (im, istd), (om, ostd) = stats(data.inputs), stats(data.outputs)
    return {"in_mean": im, "in_std": istd, "out_mean": om, "out_std": ostd}


def normalized(model: eqx.Module, statistics: dict[str, list[float]]) -> Normalized:
    """`model` wrapped with `statistics` from `channel_statistics`."""
    return Normalized(model, *(tuple(float(v) for v in statistics[k])
                               for k in ("in_mean", "in_std", "out_mean", "out_std")))
