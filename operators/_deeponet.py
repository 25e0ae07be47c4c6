"""DeepONet: a branch net on the input function's sensor values and a trunk net on the query
point, combined by a dot product.

Reference: Lu, Jin, Pang, Zhang & Karniadakis, "Learning nonlinear operators via DeepONet
based on the universal approximation theorem of operators", Nature Machine Intelligence 3
(2021).
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray

from sciopt.validate import one_of, positive_int, prng_key

from ._protocol import AbstractPointOperator

_ACTIVATIONS = {"tanh": jnp.tanh, "relu": jax.nn.relu, "gelu": jax.nn.gelu, "sin": jnp.sin}


def _mlp(in_size: int, out_size: int, width: int, depth: int, activation: str,
         final_activation: bool, key: PRNGKeyArray) -> eqx.nn.MLP:
    act = _ACTIVATIONS[activation]
    return eqx.nn.MLP(in_size, out_size, width, depth, activation=act,
                      final_activation=act if final_activation else (lambda x: x),
                      dtype=jnp.result_type(float), key=key)


class DeepONet(AbstractPointOperator):
    """`G(u)(y)_k = sum_i b_{k,i}(u) t_i(y) + b0_k` for `k = 1..outputs`.

    **Arguments:**

    - `sensors`: how many values of the input function the branch sees (its values on a
      fixed grid, flattened over channels and points).
    - `coord_dim`: dimension of the query point `y`.
    - `basis`: `p`, the number of trunk functions (the branch emits `p * outputs`).
    - `outputs`: output fields (the "split branch" multi-output DeepONet of Lu et al.,
      CMAME 2022: one block of `p` branch coefficients per output, a shared trunk).
    - `width`, `depth`: of both nets; `activation` (`"tanh"`, `"relu"`, `"gelu"`,
      `"sin"`); the trunk's last layer is activated too, as in the reference code.
    - `key`: PRNG key.

    `model(u, y)` evaluates one query; `model.cartesian(u, ys)` evaluates all `ys` with one
    branch pass (the Cartesian-product form of Lu et al., CMAME 2022).

    Reference: Lu et al., Nat. Mach. Intell. 2021.
    """

    branch: eqx.nn.MLP
    trunk: eqx.nn.MLP
    bias: Float[Array, " k"]
    sensors: int = eqx.field(static=True)
    coord_dim: int = eqx.field(static=True)
    basis: int = eqx.field(static=True)
    outputs: int = eqx.field(static=True)

    def __init__(self, sensors: int, coord_dim: int, *, basis: int = 128, outputs: int = 1,
                 width: int = 128, depth: int = 4, activation: str = "tanh",
                 key: PRNGKeyArray):
        prng_key("key", key)
        one_of("activation", activation, tuple(_ACTIVATIONS))
        self.sensors = positive_int("sensors", sensors)
        self.coord_dim = positive_int("coord_dim", coord_dim)
        self.basis = positive_int("basis", basis)
        self.outputs = positive_int("outputs", outputs)
        width, depth = positive_int("width", width), positive_int("depth", depth)
        k_b, k_t = jax.random.split(key)
        self.branch = _mlp(self.sensors, self.basis * self.outputs, width, depth, activation,
                           False, k_b)
        self.trunk = _mlp(self.coord_dim, self.basis, width, depth, activation, True, k_t)
        self.bias = jnp.zeros(self.outputs, jnp.result_type(float))

    def coefficients(self, u: Float[Array, " ..."]) -> Float[Array, "k p"]:
        """The branch output for one input function, `[outputs, basis]`."""
        if u.size != self.sensors:
            raise ValueError(f"DeepONet was built for {self.sensors} sensor values; got an "
                             f"input of shape {u.shape} ({u.size} values)")
        return self.branch(u.reshape(-1)).reshape(self.outputs, self.basis)

    def _trunk(self, y: Float[Array, " d"]) -> Float[Array, " p"]:
        if y.shape != (self.coord_dim,):
            raise ValueError(f"DeepONet query points have {self.coord_dim} coordinates; got "
                             f"shape {y.shape}")
        return self.trunk(y)

    def __call__(self, u: Float[Array, " ..."], y: Float[Array, " d"]) -> Float[Array, " k"]:
        return self.coefficients(u) @ self._trunk(y) + self.bias

    @property
    def num_outputs(self) -> int:
        return self.outputs

    def cartesian(self, u: Float[Array, " ..."], ys: Float[Array, "m d"]
                  ) -> Float[Array, "m k"]:
        """`G(u)` at every row of `ys`, the branch evaluated once."""
        b = self.coefficients(u)
        return jax.vmap(self._trunk)(ys) @ b.T + self.bias
