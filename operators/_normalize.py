"""Per-channel normalisation of operator inputs and outputs, stored with the model."""

from __future__ import annotations

import equinox as eqx
import numpy as np

from ._data import OperatorData


class Normalized(eqx.Module):
    """`model` applied to standardised inputs, its outputs mapped back:
    `G(a) = out_mean + out_std * model((a - in_mean) / in_std)`, channel by channel.

    The statistics are per channel (not per grid point, unlike the FNO code's pointwise
    normaliser), so a grid model stays resolution independent. They are fixed numbers
    (static fields), never trained or weight-decayed, and are saved with the model.
    Coefficients such as Darcy's permeability (3 / 12) or outputs of size 1e-2 otherwise
    put the networks far from their initialisation's working range.
    """

    model: eqx.Module
    in_mean: tuple[float, ...] = eqx.field(static=True)
    in_std: tuple[float, ...] = eqx.field(static=True)
    out_mean: tuple[float, ...] = eqx.field(static=True)
    out_std: tuple[float, ...] = eqx.field(static=True)


def channel_statistics(data: OperatorData) -> dict[str, list[float]]:
    """Mean and standard deviation of each input and output channel over `data` (the
    training set); a constant channel gets standard deviation 1."""
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
