"""The operator-model protocol: what training, scoring, rollout and surrogates ask of a model
(`check_compatible`, `predict`, `grid_model`), so that none of them switches on the model's
class. Two families implement it: grid-to-grid models (FNO, DyMixOp) and point-wise
DeepONet-type models (DeepONet, MultiONet); `Normalized` wraps either."""

from __future__ import annotations

import abc

import equinox as eqx
import jax
import numpy as np
from jaxtyping import Array, Float

from ._data import OperatorData


class AbstractOperator(eqx.Module):
    """A neural operator: input fields on a grid to output fields on the same grid."""

    @abc.abstractmethod
    def check_compatible(self, data: OperatorData) -> None:
        """Raise a `ValueError` naming the mismatch if this model cannot map `data`'s inputs
        to its outputs (channels, sensor count, output fields, coordinate dimension)."""

    @abc.abstractmethod
    def predict(self, inputs: Float[Array, "n c *grid"], coords: Float[Array, "*grid d"]
                ) -> Float[Array, "n o *grid"]:
        """The outputs for a batch of inputs on the grid of `coords`."""

    def grid_model(self) -> AbstractGridOperator | None:
        """The grid-to-grid model that maps a state to a state (for rollouts and
        surrogate right-hand sides), or `None` if this model is not one."""
        return None


class AbstractGridOperator(AbstractOperator):
    """Fields on a grid in, fields on the same grid out (`in_channels`, `out_channels`,
    `dim`; called on one sample `[c, *grid]`)."""

    def check_compatible(self, data: OperatorData) -> None:
        c_in, c_out, grid = data.inputs.shape[1], data.outputs.shape[1], data.grid
        name = type(self).__name__
        if self.in_channels != c_in or self.dim != len(grid):
            raise ValueError(f"the {name} takes {self.in_channels} channel(s) on a "
                             f"{self.dim}D grid; the data has {c_in} on {grid}")
        if self.out_channels != c_out:
            raise ValueError(f"the {name} returns {self.out_channels} channel(s); the data "
                             f"has {c_out}")

    def predict(self, inputs, coords):
        return jax.vmap(self)(inputs)

    def grid_model(self) -> AbstractGridOperator:
        return self


class AbstractPointOperator(AbstractOperator):
    """Input fields flattened to `sensors` values, outputs evaluated at points of dimension
    `coord_dim` (`cartesian(u, points)`), `num_outputs` fields."""

    @property
    @abc.abstractmethod
    def num_outputs(self) -> int:
        """The number of output fields."""

    def check_compatible(self, data: OperatorData) -> None:
        name = type(self).__name__
        sensors = int(np.prod(data.inputs.shape[1:]))
        if self.sensors != sensors:
            raise ValueError(f"the {name} was built for {self.sensors} sensor values; the "
                             f"data's inputs have {sensors} ({data.inputs.shape[1:]})")
        if self.num_outputs != data.outputs.shape[1] or self.coord_dim != data.coords.shape[-1]:
            raise ValueError(f"the {name} returns {self.num_outputs} field(s) of "
                             f"{self.coord_dim}D points; the data has {data.outputs.shape[1]} "
                             f"on a {data.coords.shape[-1]}D grid")

    def predict(self, inputs, coords):
        grid = coords.shape[:-1]
        points = coords.reshape(-1, coords.shape[-1])

        def one(u):
            out = self.cartesian(u.reshape(-1), points)  # [m] or [m, k]
            out = out[:, None] if out.ndim == 1 else out
            return out.T.reshape(out.shape[1], *grid)

        return jax.vmap(one)(inputs)


def require_grid_model(model, what: str) -> AbstractGridOperator:
    """`model.grid_model()`, or a `ValueError` saying that `what` needs a grid-to-grid
    model and naming the model given (the wrapped one for a `Normalized`)."""
    inner = model.grid_model() if isinstance(model, AbstractOperator) else None
    if inner is None:
        given = type(getattr(model, "model", model)).__name__
        raise ValueError(f"{what} (FNO, DyMixOp); got {given}")
    return inner
