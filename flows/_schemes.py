"""The steps of a JKO-type scheme (JKO-ICNN, variational WGF) as an iterative solver for
`sciopt.train.iterate`: each step trains the scheme's networks from the previous step's (or
from the initial ones) and pushes the particle pool. The state keeps, preallocated, every
step's networks, the pool's snapshots and the training losses, so steps run under `lax.scan`
and checkpoint like any other iteration."""

from __future__ import annotations

from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array

from sciopt.train import AbstractIterativeSolver
from sciopt.validate import is_concrete


class SchemeSteps(AbstractIterativeSolver):
    """**Fields:** `train(models, pool, energy, method, key) -> (models, pool, losses)` (a
    module-level function, static); `energy`, `method`; `models0`: the initial networks (a
    tuple); `pool0`: the arrays pushed each step (`[P, ...]` each, the first the
    particles); `steps`, `every` (snapshot interval), `iterations` (losses per step),
    `warm_start` (start each step from the previous networks)."""

    train: Callable = eqx.field(static=True)
    energy: object
    method: object
    models0: tuple
    pool0: tuple
    steps: int = eqx.field(static=True)
    every: int = eqx.field(static=True)
    iterations: int = eqx.field(static=True)
    warm_start: bool = eqx.field(static=True)

    def _params0(self):
        return tuple(eqx.filter(m, eqx.is_inexact_array) for m in self.models0)

    def _models(self, params):
        return tuple(eqx.combine(p, eqx.partition(m, eqx.is_inexact_array)[1])
                     for p, m in zip(params, self.models0, strict=True))

    def init(self, key):
        params = self._params0()
        snaps = self.steps // self.every + 1
        dtype = self.pool0[0].dtype
        return {"params": params, "pool": self.pool0, "k": jnp.asarray(0),
                "history": jax.tree.map(lambda p: jnp.zeros((self.steps, *p.shape), p.dtype),
                                        params),
                "snaps": tuple(jnp.zeros((snaps, *a.shape), a.dtype).at[0].set(a)
                               for a in self.pool0),
                "losses": jnp.zeros((self.steps, self.iterations), dtype)}

    def step(self, state, key):
        start = self._models(state["params"] if self.warm_start else self._params0())
        models, pool, losses = self.train(start, state["pool"], self.energy, self.method, key)
        params, k = tuple(eqx.filter(m, eqx.is_inexact_array) for m in models), state["k"]
        snap, idx = (k + 1) % self.every == 0, (k + 1) // self.every
        new = {"params": params, "pool": pool, "k": k + 1,
               "history": jax.tree.map(lambda h, p: h.at[k].set(p), state["history"], params),
               "snaps": tuple(s.at[idx].set(jnp.where(snap, a, s[idx]))
                              for s, a in zip(state["snaps"], pool, strict=True)),
               "losses": state["losses"].at[k].set(losses.astype(state["losses"].dtype))}
        return new, {"loss": losses[-1]}

    def networks(self, state) -> tuple[tuple, ...]:
        """Every step's networks, `[step][network]`, from a final state."""
        return tuple(self._models(jax.tree.map(lambda h, k=k: h[k], state["history"]))
                     for k in range(self.steps))

    def snapshots(self, state) -> tuple[Array, ...]:
        """The pool's snapshots `[S, P, ...]`, one array per pool entry."""
        return state["snaps"]


def has_entropy(temperature) -> bool:
    """Whether a scheme's free energy carries the entropy term: a temperature that is not a
    concrete zero (a traced one is taken to be on). Static, as it decides which terms are
    computed."""
    return not is_concrete(temperature) or float(temperature) > 0
