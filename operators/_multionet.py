"""MultiONet: a DeepONet whose branch and trunk are combined at several depths.

Reference: Zang & Koutsourelakis, "DGNO: a novel physics-aware neural operator for solving
forward and inverse PDE problems based on deep, generative probabilistic modeling" (2025),
where MultiONet is the operator architecture.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray

from sciopt.validate import one_of, positive_int, prng_key

from ._protocol import AbstractPointOperator


def _silu_sin(x):
    """The paper's trunk activation: `silu(sin(pi (x + 1))) + x`."""
    return jax.nn.silu(jnp.sin(jnp.pi * (x + 1.0))) + x


ACTIVATIONS = {"silu": jax.nn.silu, "silu_sin": _silu_sin, "tanh": jnp.tanh,
               "tanh_sin": lambda x: jnp.tanh(jnp.sin(jnp.pi * (x + 1.0))) + x,
               "relu": jax.nn.relu, "gelu": jax.nn.gelu}


class MultiONet(AbstractPointOperator):
    """`G(u)(y) = (1/L) sum_{l=1}^{L} w_l <b_l(u), t_l(y)> + b0`, where `b_l`, `t_l` are the
    hidden states of the branch and trunk (equal widths, equal depths) at the last `L` of
    their `layers` hidden layers, `w_l` learned weights (initialised to 0, as in the
    authors' code) and `b0` a bias.

    **Arguments:**

    - `sensors`: values of the input function the branch sees; `coord_dim`: of `y`.
    - `width`, `layers`: hidden width and number of hidden layers of both nets (after the
      input layer); `sum_layers` (`L < layers + 1`): how many of the last hidden states
      are combined (the paper: 4).
    - `trunk_activation`, `branch_activation`: the paper's `"silu_sin"`
      (`silu(sin(pi (x + 1))) + x`) and `"silu"`; also `"tanh"`, `"tanh_sin"`, `"relu"`,
      `"gelu"`.
    - `key`: PRNG key. Linear layers use PyTorch's default initialisation (uniform in
      `+-1/sqrt(fan_in)`), which `equinox.nn.Linear` shares.

    `model(u, y)`: one query; `model.cartesian(u, ys)`: all `ys` with one branch pass.
    """

    branch: list[eqx.nn.Linear]
    trunk: list[eqx.nn.Linear]
    weights: Float[Array, " L"]
    bias: Float[Array, ""]
    sensors: int = eqx.field(static=True)
    coord_dim: int = eqx.field(static=True)
    sum_layers: int = eqx.field(static=True)
    trunk_activation: str = eqx.field(static=True)
    branch_activation: str = eqx.field(static=True)

    def __init__(self, sensors: int, coord_dim: int, *, width: int = 100, layers: int = 5,
                 sum_layers: int = 4, trunk_activation: str = "silu_sin",
                 branch_activation: str = "silu", key: PRNGKeyArray):
        prng_key("key", key)
        self.sensors = positive_int("sensors", sensors)
        self.coord_dim = positive_int("coord_dim", coord_dim)
        width, layers = positive_int("width", width), positive_int("layers", layers)
        self.sum_layers = positive_int("sum_layers", sum_layers)
        if self.sum_layers > layers + 1:
            raise ValueError(f"sum_layers ({sum_layers}) cannot exceed the {layers + 1} "
                             f"hidden states (layers + 1)")
        self.trunk_activation = one_of("trunk_activation", trunk_activation,
                                       tuple(ACTIVATIONS))
        self.branch_activation = one_of("branch_activation", branch_activation,
                                        tuple(ACTIVATIONS))
        dtype = jnp.result_type(float)
        k_b, k_t = jax.random.split(key)

        def net(k, size_in):
            keys = jax.random.split(k, layers + 1)
            return ([eqx.nn.Linear(size_in, width, key=keys[0], dtype=dtype)]
                    + [eqx.nn.Linear(width, width, key=kk, dtype=dtype) for kk in keys[1:]])

        self.branch, self.trunk = net(k_b, self.sensors), net(k_t, self.coord_dim)
        self.weights = jnp.zeros(self.sum_layers, dtype)
        self.bias = jnp.zeros((), dtype)

    def _states(self, layers, activation: str, z):
        act = ACTIVATIONS[activation]
        states = []
        for layer in layers:
            z = act(layer(z))
            states.append(z)
        return jnp.stack(states[-self.sum_layers:])  # [L, width]

    def branch_states(self, u: Float[Array, " ..."]) -> Float[Array, "L w"]:
        if u.size != self.sensors:
            raise ValueError(f"MultiONet was built for {self.sensors} sensor values; got an "
                             f"input of shape {u.shape} ({u.size} values)")
        return self._states(self.branch, self.branch_activation, u.reshape(-1))

    def trunk_states(self, y: Float[Array, " d"]) -> Float[Array, "L w"]:
        if y.shape != (self.coord_dim,):
            raise ValueError(f"MultiONet query points have {self.coord_dim} coordinates; "
                             f"got shape {y.shape}")
        return self._states(self.trunk, self.trunk_activation, y)

    def _combine(self, b: Float[Array, "L w"], t: Float[Array, "L w"]) -> Float[Array, ""]:
        return jnp.sum(self.weights * jnp.sum(b * t, axis=-1)) / self.sum_layers + self.bias

    def __call__(self, u: Float[Array, " ..."], y: Float[Array, " d"]) -> Float[Array, ""]:
        return self._combine(self.branch_states(u), self.trunk_states(y))

    @property
    def num_outputs(self) -> int:
        return 1

    def cartesian(self, u: Float[Array, " ..."], ys: Float[Array, "m d"]) -> Float[Array, " m"]:
        """`G(u)` at every row of `ys`, the branch evaluated once."""
        b = self.branch_states(u)
        return jax.vmap(lambda y: self._combine(b, self.trunk_states(y)))(ys)
