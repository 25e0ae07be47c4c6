"""Convex potentials whose gradients are the transport maps of the neural JKO schemes.

Both networks define a strongly convex `psi: R^d -> R` and expose

- `potential(x)`: `psi(x)`,
- `transport(x)`: the map `grad psi(x)` (a Brenier map: the optimal transport map from any
  measure to its push-forward),
- `jacobian(x)`: `grad^2 psi(x)`, symmetric positive definite,

for a single point `x [d]` (vmap for batches). Each includes the quadratic
`1/2 x^T (a I + L L^T) x + c^T x` with `a >= min_curvature > 0`, so every map is invertible
and starts (at initialisation) as the identity; affine maps — the exact JKO steps of an
Ornstein–Uhlenbeck flow — are represented exactly.

- `ICNN`: the input-convex neural network of Amos, Xu & Kolter (ICML 2017), as used by Mokrov
  et al. for JKO: `z_1 = s(A_0 x + b_0)`, `z_{l+1} = s(W_l z_l + A_l x + b_l)` with `W_l >= 0`
  (a softplus reparameterisation), `s` = softplus (convex, non-decreasing), output
  `w^T z_L` with `w >= 0`.
- `ConvexGradientNet`: a gradient network whose map and Jacobian are written in closed form,
  `T(x) = (a I + L L^T) x + c + V^T (s * sigmoid(V x + b))`, `s >= 0`: the gradient of
  `psi = quadratic + sum_j s_j softplus(v_j . x + b_j)` with Jacobian
  `a I + L L^T + V^T diag(s * sigmoid') V` (no second-order autodiff). This is the one-layer
  input-convex gradient network of Richter-Powell, Lorraine & Amos ("Input convex gradient
  networks", 2021) with the integral taken in closed form.
"""

from __future__ import annotations

import math

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray

from sciopt.validate import positive_float, positive_int, prng_key


def _softplus_inverse(y: float) -> float:
    return math.log(math.expm1(y))


class _Quadratic(eqx.Module):
    """`1/2 x^T (a I + L L^T) x + c^T x`, `a = min_curvature + softplus(raw)`."""

    raw: Float[Array, ""]
    factor: Float[Array, "d r"]
    shift: Float[Array, " d"]
    min_curvature: float = eqx.field(static=True)

    def __init__(self, dim: int, rank: int, min_curvature: float, dtype):
        self.min_curvature = positive_float("min_curvature", min_curvature)
        if self.min_curvature >= 0.99:
            raise ValueError(f"min_curvature must be < 0.99 (the initial map is the identity); "
                             f"got {min_curvature}")
        # L starts at 0.1 I (not 0, a saddle of L -> L L^T where its gradient vanishes) and
        # a at 0.99, so that the initial quadratic is close to |x|^2 / 2.
        self.raw = jnp.asarray(_softplus_inverse(0.99 - self.min_curvature), dtype)
        self.factor = 0.1 * jnp.eye(dim, rank, dtype=dtype)
        self.shift = jnp.zeros(dim, dtype)

    @property
    def curvature(self):
        return self.min_curvature + jax.nn.softplus(self.raw)

    def matrix(self) -> Float[Array, "d d"]:
        d = self.shift.shape[0]
        return self.curvature * jnp.eye(d, dtype=self.shift.dtype) + self.factor @ self.factor.T

    def potential(self, x):
        lx = self.factor.T @ x
        return 0.5 * (self.curvature * x @ x + lx @ lx) + self.shift @ x

    def transport(self, x):
        return self.curvature * x + self.factor @ (self.factor.T @ x) + self.shift


class ICNN(eqx.Module):
    """Input-convex neural network potential (see the module docstring).

    **Arguments:**

    - `dim`: the dimension d.
    - `width`, `depth`: hidden width and number of hidden layers (the JKO-ICNN paper: 64, 2).
    - `quadratic_rank`: rank r of the learnt quadratic `L L^T` (default d: any SPD matrix).
    - `min_curvature`: a lower bound on the eigenvalues of `grad^2 psi` (strong convexity).
    - `key`: PRNG key; `dtype`: parameter dtype (default float64 when x64 is on).

    Reference: Amos, Xu & Kolter, "Input convex neural networks" (ICML 2017); Mokrov,
    Korotin, Li, Genevay, Solomon & Burnaev, "Large-scale Wasserstein gradient flows"
    (NeurIPS 2021).
    """

    quadratic: _Quadratic
    inputs: list[eqx.nn.Linear]
    hidden: list[Float[Array, "w w"]]
    output: Float[Array, " w"]

    def __init__(self, dim: int, width: int = 64, depth: int = 2, *,
                 quadratic_rank: int | None = None, min_curvature: float = 1e-2,
                 key: PRNGKeyArray, dtype=None):
        prng_key("key", key)
        dim = positive_int("dim", dim)
        width = positive_int("width", width)
        depth = positive_int("depth", depth)
        dtype = jnp.result_type(float) if dtype is None else dtype
        rank = dim if quadratic_rank is None else positive_int("quadratic_rank", quadratic_rank)
        keys = jax.random.split(key, 2 * depth)
        self.quadratic = _Quadratic(dim, rank, min_curvature, dtype)
        self.inputs = [eqx.nn.Linear(dim, width, key=k, dtype=dtype) for k in keys[:depth]]
        # Non-negative weights W = softplus(raw) / width, about 0.8 / width at initialisation.
        self.hidden = [jax.random.normal(k, (width, width), dtype) for k in keys[depth + 1:]]
        # The network part starts small so that the initial map is close to the identity.
        self.output = jnp.full(width, _softplus_inverse(1e-2), dtype)

    def potential(self, x: Float[Array, " d"]) -> Float[Array, ""]:
        width = self.output.shape[0]
        z = jax.nn.softplus(self.inputs[0](x))
        for lin, raw in zip(self.inputs[1:], self.hidden, strict=True):
            z = jax.nn.softplus(jax.nn.softplus(raw) @ z / width + lin(x))
        return self.quadratic.potential(x) + jax.nn.softplus(self.output) @ z / width

    def transport(self, x: Float[Array, " d"]) -> Float[Array, " d"]:
        return jax.grad(self.potential)(x)

    def jacobian(self, x: Float[Array, " d"]) -> Float[Array, "d d"]:
        return jax.hessian(self.potential)(x)


class ConvexGradientNet(eqx.Module):
    """A gradient network: the map `grad psi` and its Jacobian in closed form (see the module
    docstring).

    **Arguments:**

    - `dim`: the dimension d; `width`: the number of convex ridge units.
    - `quadratic_rank`, `min_curvature`, `key`, `dtype`: as for `ICNN`.

    Reference: Richter-Powell, Lorraine & Amos, "Input convex gradient networks" (2021).
    """

    quadratic: _Quadratic
    ridges: eqx.nn.Linear
    scale: Float[Array, " w"]

    def __init__(self, dim: int, width: int = 128, *, quadratic_rank: int | None = None,
                 min_curvature: float = 1e-2, key: PRNGKeyArray, dtype=None):
        prng_key("key", key)
        dim = positive_int("dim", dim)
        width = positive_int("width", width)
        dtype = jnp.result_type(float) if dtype is None else dtype
        rank = dim if quadratic_rank is None else positive_int("quadratic_rank", quadratic_rank)
        self.quadratic = _Quadratic(dim, rank, min_curvature, dtype)
        self.ridges = eqx.nn.Linear(dim, width, key=key, dtype=dtype)
        self.scale = jnp.full(width, _softplus_inverse(1e-2), dtype)

    def _weights(self):
        return jax.nn.softplus(self.scale) / self.scale.shape[0]

    def potential(self, x: Float[Array, " d"]) -> Float[Array, ""]:
        return self.quadratic.potential(x) + self._weights() @ jax.nn.softplus(self.ridges(x))

    def transport(self, x: Float[Array, " d"]) -> Float[Array, " d"]:
        gate = jax.nn.sigmoid(self.ridges(x))
        return self.quadratic.transport(x) + self.ridges.weight.T @ (self._weights() * gate)

    def jacobian(self, x: Float[Array, " d"]) -> Float[Array, "d d"]:
        u = self.ridges(x)
        curv = self._weights() * jax.nn.sigmoid(u) * jax.nn.sigmoid(-u)
        v = self.ridges.weight
        return self.quadratic.matrix() + (v.T * curv) @ v


ConvexPotential = ICNN | ConvexGradientNet
