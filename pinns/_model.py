"""The PINN network: an MLP (Glorot-initialised, tanh or sin) behind an optional periodic
embedding or random Fourier features."""

from __future__ import annotations

import math
from collections.abc import Mapping

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, PRNGKeyArray

from sciopt.validate import one_of, positive_int, prng_key


class MLP(eqx.Module):
    """A fully connected network `R^in -> R^out` with Glorot-uniform weights and zero biases
    (Glorot & Bengio, 2010)."""

    weights: list[Float[Array, "o i"]]
    biases: list[Float[Array, " o"]]
    activation: str = eqx.field(static=True)

    def __init__(self, in_size: int, out_size: int, width: int, depth: int, *,
                 activation: str = "tanh", key: PRNGKeyArray):
        prng_key("key", key)
        one_of("activation", activation, ("tanh", "sin"))
        sizes = [positive_int("in_size", in_size)] + [positive_int("width", width)] * \
            positive_int("depth", depth) + [positive_int("out_size", out_size)]
        keys = jax.random.split(key, len(sizes) - 1)
        dtype = jnp.result_type(float)
        self.weights = [jax.random.uniform(k, (o, i), dtype, -1, 1) * math.sqrt(6 / (i + o))
                        for k, i, o in zip(keys, sizes[:-1], sizes[1:], strict=True)]
        self.biases = [jnp.zeros(o, dtype) for o in sizes[1:]]
        self.activation = activation

    def __call__(self, z: Float[Array, " i"]) -> Float[Array, " o"]:
        act = jnp.tanh if self.activation == "tanh" else jnp.sin
        for w, b in zip(self.weights[:-1], self.biases[:-1], strict=True):
            z = act(w @ z + b)
        return self.weights[-1] @ z + self.biases[-1]


class PINN(eqx.Module):
    """A scalar field `u(z)` for `z` in `R^in_size` (space, then time for evolution problems).

    **Arguments:**

    - `in_size`: input dimension.
    - `width`, `depth`, `activation`: the MLP (`"tanh"` or `"sin"`).
    - `periodic`: `{axis: period}`: those inputs enter as `cos(m w z), sin(m w z)`,
      `m = 1..periodic_modes`, `w = 2 pi / period`, so `u` is exactly periodic in them.
    - `fourier_features`: `(count, scale)`: the other inputs also enter as
      `cos(B z), sin(B z)` with `B ~ N(0, scale^2)` fixed (Tancik et al., 2020).
    - `envelope`: `(center, radius)`: multiply the output by `radius^2 - |z - center|^2`,
      so `u = 0` exactly on that sphere (a hard Dirichlet constraint; Lagaris et al., 1998).
    - `key`: PRNG key.
    """

    net: MLP
    periodic: tuple[tuple[int, float], ...] = eqx.field(static=True)
    periodic_modes: int = eqx.field(static=True)
    features: Float[Array, "f j"] | None
    in_size: int = eqx.field(static=True)
    envelope: tuple[tuple[float, ...], float] | None = eqx.field(static=True)

    def default_loss(self, problem, **options):
        """The loss `train_pinn` uses for this model: `pinn_loss(problem, **options)`."""
        from ._loss import pinn_loss  # (the loss module builds PINNs: import here)

        return pinn_loss(problem, **options)

    def __init__(self, in_size: int, *, width: int = 64, depth: int = 4,
                 activation: str = "tanh", periodic: Mapping[int, float] | None = None,
                 periodic_modes: int = 1, fourier_features: tuple[int, float] | None = None,
                 envelope: tuple[tuple[float, ...], float] | None = None,
                 key: PRNGKeyArray):
        prng_key("key", key)
        self.in_size = positive_int("in_size", in_size)
        periodic = dict(periodic or {})
        for axis, period in periodic.items():
            if not 0 <= axis < in_size or not period > 0:
                raise ValueError(f"periodic axis {axis} with period {period} is not valid for "
                                 f"{in_size} inputs")
        self.periodic = tuple(sorted(periodic.items()))
        self.periodic_modes = positive_int("periodic_modes", periodic_modes)
        other = in_size - len(periodic)
        k_feat, k_net = jax.random.split(key)
        if fourier_features is not None:
            count, scale = fourier_features
            self.features = scale * jax.random.normal(
                k_feat, (positive_int("fourier feature count", count), other),
                jnp.result_type(float))
            plain = 2 * count
        else:
            self.features = None
            plain = other
        size = 2 * self.periodic_modes * len(periodic) + plain
        if envelope is not None:
            center, radius = envelope
            if len(center) != in_size or not radius > 0:
                raise ValueError(f"envelope needs a center of {in_size} coordinates and a "
                                 f"positive radius; got {envelope}")
            envelope = (tuple(float(c) for c in center), float(radius))
        self.envelope = envelope
        self.net = MLP(size, 1, width, depth, activation=activation, key=k_net)

    def embed(self, z: Float[Array, " i"]) -> Float[Array, " e"]:
        axes = dict(self.periodic)
        parts = []
        m = jnp.arange(1, self.periodic_modes + 1, dtype=z.dtype)
        for axis, period in self.periodic:
            angle = m * (2 * math.pi / period) * z[axis]
            parts += [jnp.cos(angle), jnp.sin(angle)]
        # One slice, not a Python loop over inputs: the high-dimensional problems have 1e4.
        keep = np.array([i for i in range(self.in_size) if i not in axes], dtype=int)
        rest = z if not axes else z[keep]
        if self.features is not None:
            proj = self.features @ rest
            parts += [jnp.cos(proj), jnp.sin(proj)]
        else:
            parts.append(rest)
        return jnp.concatenate(parts)

    def __call__(self, z: Float[Array, " i"]) -> Float[Array, ""]:
        z = jnp.asarray(z)
        if z.shape != (self.in_size,):
            raise ValueError(f"PINN takes inputs of shape ({self.in_size},); got {z.shape}")
        out = self.net(self.embed(z))[0]
        if self.envelope is not None:
            center, radius = self.envelope
            out = out * (radius**2 - jnp.sum((z - jnp.asarray(center, z.dtype)) ** 2))
        return out
