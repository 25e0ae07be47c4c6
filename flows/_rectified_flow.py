"""Rectified flow: a velocity field trained on straight interpolations between coupled
samples, sampled by an ODE solve (diffrax), improved by reflow, with a potential-flow
(c-rectified, quadratic cost) variant.

Given a coupling `(x0, x1)`, the flow learns `v(x, t) ≈ E[x1 - x0 | x_t = x]` on
`x_t = (1 - t) x0 + t x1` by least squares; `dz/dt = v(z, t)` then transports the source to
the target, and its coupling `(z0, z1)` has no larger transport cost for any convex cost.
Reflow retrains on that coupling, which straightens the paths. Restricting `v = grad_x phi`
(a potential flow) gives the c-rectified flow for the quadratic cost, whose fixed point is
the optimal transport map.

References: Liu, Gong & Liu, "Flow straight and fast: learning to generate and transfer data
with rectified flow" (ICLR 2023); Liu, "Rectified flow: a marginal preserving approach to
optimal transport" (2022).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import optax
from jaxtyping import Array, Float, PRNGKeyArray

from sciopt.train import FitResult, SampledBatches, fit
from sciopt.validate import (
    array,
    positive_float,
    positive_int,
    prng_key,
    protocol,
    require,
    sampler,
)


class RectifiedFlow(eqx.Module):
    """A time-dependent velocity field `v(x, t)` in R^d.

    **Arguments:**

    - `dim`: d.
    - `width`, `depth`: the MLP's hidden width and number of hidden layers (input `[x, t]`,
      SiLU activations).
    - `potential`: learn a scalar `phi(x, t)` and use `v = grad_x phi` (the c-rectified flow
      for the quadratic cost) instead of a free velocity.
    - `key`: PRNG key.

    Reference: Liu, Gong & Liu, ICLR 2023; Liu 2022 (c-rectified flow).
    """

    net: eqx.nn.MLP
    dim: int = eqx.field(static=True)
    potential: bool = eqx.field(static=True)

    def __init__(self, dim: int, *, width: int = 64, depth: int = 3, potential: bool = False,
                 key: PRNGKeyArray):
        prng_key("key", key)
        self.dim = positive_int("dim", dim)
        self.potential = bool(potential)
        self.net = eqx.nn.MLP(self.dim + 1, 1 if potential else self.dim,
                              positive_int("width", width), positive_int("depth", depth),
                              activation=jax.nn.silu, key=key, dtype=jnp.result_type(float))

    def velocity(self, x: Float[Array, " d"], t: Float[Array, ""]) -> Float[Array, " d"]:
        """`v(x, t)` for one point."""
        if self.potential:
            return jax.grad(lambda z: self.net(jnp.append(z, t))[0])(x)
        return self.net(jnp.append(x, t))

    def loss(self, x0: Float[Array, "n d"], x1: Float[Array, "n d"], t: Float[Array, " n"]
             ) -> Float[Array, ""]:
        """`mean |(x1 - x0) - v(x_t, t)|^2` on the interpolations `x_t`."""
        xt = (1 - t[:, None]) * x0 + t[:, None] * x1
        v = jax.vmap(self.velocity)(xt, t)
        return jnp.mean(jnp.sum((x1 - x0 - v) ** 2, axis=-1))

    def _check(self, x, name="x0"):
        return array(name, x, shape=("n", self.dim), min_size=1)

    def transport(self, x0: Float[Array, "n d"], *, steps: int = 100,
                  solver: diffrax.AbstractSolver | None = None,
                  times: Float[Array, " T"] | None = None) -> Float[Array, "..."]:
        """Solve `dz/dt = v(z, t)` from `z(0) = x0` to t = 1 with diffrax (Heun, `steps`
        fixed steps, by default). Returns `z(1)` `[n, d]`, or `z` at `times` `[T, n, d]`."""
        x0 = self._check(x0)
        term = diffrax.ODETerm(lambda t, z, args: jax.vmap(self.velocity, (0, None))(z, t))
        if times is not None:
            times = array("times", times, ndim=1, min_size=1).astype(x0.dtype)
            times = require(times, lambda: jnp.all((times >= 0) & (times <= 1))
                            & jnp.all(jnp.diff(times) >= 0),
                            "times must be non-decreasing times in [0, 1] (the flow runs "
                            "from t = 0 to t = 1)")
        saveat = diffrax.SaveAt(t1=True) if times is None else diffrax.SaveAt(ts=times)
        sol = diffrax.diffeqsolve(term, solver or diffrax.Heun(), 0.0, 1.0,
                                  1.0 / positive_int("steps", steps), x0, saveat=saveat,
                                  max_steps=None if solver is None else 16 * steps)
        return sol.ys[-1] if times is None else sol.ys

    def straightness(self, x0: Float[Array, "n d"], *, steps: int = 100) -> Float[Array, ""]:
        """`E int_0^1 |(z1 - z0) - v(z_t, t)|^2 dt` along the flow's own paths (zero iff
        every path is a straight line at constant speed)."""
        times = jnp.linspace(0.0, 1.0, steps + 1)
        path = self.transport(x0, steps=steps, times=times)  # [T, n, d]
        chord = path[-1] - path[0]
        v = jax.vmap(lambda z, t: jax.vmap(self.velocity, (0, None))(z, t))(path, times)
        gap = jnp.mean(jnp.sum((chord[None] - v) ** 2, axis=-1), axis=1)
        return jnp.trapezoid(gap, times)


def train_rectified_flow(flow: RectifiedFlow,
                         sample_pairs: Callable[[PRNGKeyArray, int], tuple[Array, Array]], *,
                         steps: int, key: PRNGKeyArray, batch_size: int = 256,
                         learning_rate: float = 1e-3, progress: Any = "auto",
                         checkpoint_dir: Any = None) -> FitResult:
    """Fit `flow` on couplings drawn by `sample_pairs(key, n) -> (x0 [n, d], x1 [n, d])`
    (independent samples for the first flow; `reflow_sampler` for reflow) with t ~ U(0, 1),
    by Adam with a cosine-decayed learning rate through `sciopt.train.fit`."""
    prng_key("key", key)
    steps = positive_int("steps", steps)
    batch_size = positive_int("batch_size", batch_size)
    protocol("flow", flow, ("dim", "loss", "transport"), "a flows.RectifiedFlow")
    sampler("sample_pairs", sample_pairs, (batch_size, flow.dim), pairs=True)

    def sample(k):
        k_pairs, k_t = jax.random.split(k)
        x0, x1 = sample_pairs(k_pairs, batch_size)
        return x0, x1, jax.random.uniform(k_t, (batch_size,), x0.dtype)

    def loss(m, batch, k):
        del k
        return m.loss(*batch)

    schedule = optax.cosine_decay_schedule(positive_float("learning_rate", learning_rate),
                                           steps, alpha=1e-2)
    return fit(loss, flow, optax.adam(schedule), SampledBatches(sample), steps, key=key,
               progress=progress, checkpoint_dir=checkpoint_dir, description="RectifiedFlow",
               chunk_size=min(200, steps))


def reflow_sampler(flow: RectifiedFlow, x0: Float[Array, "N d"], *, steps: int = 100
                   ) -> Callable[[PRNGKeyArray, int], tuple[Array, Array]]:
    """The coupling `(x0, flow(x0))` of a trained flow on a fixed pool of source points, as
    a pair sampler for `train_rectified_flow` (the 2-rectified flow)."""
    protocol("flow", flow, ("dim", "transport"), "a flows.RectifiedFlow")
    x0 = array("x0", x0, shape=("N", flow.dim), min_size=1)
    x1 = flow.transport(x0, steps=steps)

    def sample(key, n):
        index = jax.random.randint(key, (n,), 0, x0.shape[0])
        return x0[index], x1[index]

    return sample
