"""MultiAdam: Adam moments kept per loss group, so the update does not depend on how the
groups (PDE residual, initial and boundary terms) are scaled.

Reference: Yao, Su, Hao, Liu, Su & Zhu, "MultiAdam: Parameter-wise Scale-invariant Optimizer
for Multiscale Training of Physics-informed Neural Networks", ICML 2023.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jaxtyping import Array, Float, Int, PyTree

from ..validate import array, positive_float, positive_int


class MultiAdamState(NamedTuple):
    """`count`: steps taken; `mu`, `nu`: per-group first and second moments, each leaf
    `[K, *param.shape]`."""

    count: Int[Array, ""]
    mu: PyTree[Array]
    nu: PyTree[Array]


def multi_adam(
    learning_rate: optax.ScalarOrSchedule = 1e-3,
    b1: float = 0.99,
    b2: float = 0.99,
    eps: float = 1e-8,
    weights: Sequence[float] | None = None,
    *,
    num_groups: int | None = None,
) -> optax.GradientTransformation:
    """MultiAdam as an `optax.GradientTransformation`.

    `update(grads, state, params=None)` takes gradients whose every leaf has a leading
    loss-group axis of length `K` (e.g. `jax.jacrev` of the vector of group losses, or
    `sciopt.train.fit(..., grouped_gradients=True)`). For each group `k` it keeps Adam's
    moments `m_k`, `v_k` and returns

        -lr * sum_k w_k * mhat_k / (sqrt(vhat_k) + eps)

    with bias-corrected `mhat_k`, `vhat_k`. Scaling one group's loss by `c > 0` scales its
    `m_k` by `c` and `sqrt(v_k)` by `c`: the update is unchanged (up to `eps`).

    **Arguments:**

    - `learning_rate`: a float or an optax schedule.
    - `b1`, `b2`, `eps`: Adam's constants (the paper uses 0.99, 0.99).
    - `weights`: `w_k` (default `1/K`).
    - `num_groups`: `K` when `weights` is not given.
    """
    for name, value in (("b1", b1), ("b2", b2)):
        if positive_float(name, value, allow_zero=True) >= 1:
            raise ValueError(f"{name} must lie in [0, 1); got {value}")
    eps = positive_float("eps", eps, allow_zero=True)
    if weights is not None:
        try:
            w = np.asarray(weights, float)
        except (TypeError, ValueError):
            raise ValueError(f"weights must be a list of numbers; got {weights!r}") from None
        if w.ndim != 1 or len(w) == 0 or not np.all(np.isfinite(w)) or np.any(w < 0):
            raise ValueError(f"weights must be a non-empty list of finite, non-negative "
                             f"numbers; got {weights}")
        if num_groups is not None and num_groups != len(w):
            raise ValueError(f"num_groups ({num_groups}) differs from len(weights) ({len(w)})")
        num_groups = len(w)
    elif num_groups is None:
        raise ValueError("multi_adam needs the number of loss groups: pass weights or "
                         "num_groups")
    else:
        num_groups = positive_int("num_groups", num_groups)
        w = np.full(num_groups, 1.0 / num_groups)
    k = int(num_groups)

    def init(params):
        zeros = jax.tree.map(lambda p: jnp.zeros((k, *jnp.shape(p)), jnp.result_type(p)),
                             params)
        return MultiAdamState(jnp.zeros((), jnp.int32), zeros, zeros)

    def update(grads, state, params=None):
        del params
        g_leaves, g_tree = jax.tree.flatten(grads)
        m_leaves, m_tree = jax.tree.flatten(state.mu)
        if g_tree != m_tree:
            raise ValueError(f"multi_adam: the gradients' structure differs from the parameters' "
                             f"it was initialised with; got {g_tree}, expected {m_tree}")
        for index, (g, m) in enumerate(zip(g_leaves, m_leaves, strict=True)):
            if jnp.shape(g) != m.shape:
                raise ValueError(
                    f"multi_adam expects each gradient leaf shaped [num_groups, "
                    f"*parameter.shape] = {m.shape} (a leading loss-group axis of {k}); leaf "
                    f"{index} has shape {jnp.shape(g)}. Pass per-group gradients (jax.jacrev "
                    f"of the vector of group losses, or fit(..., grouped_gradients=True))")
        count = state.count + 1
        mu = jax.tree.map(lambda m, g: b1 * m + (1 - b1) * g, state.mu, grads)
        nu = jax.tree.map(lambda v, g: b2 * v + (1 - b2) * g * g, state.nu, grads)
        lr = learning_rate(state.count) if callable(learning_rate) else learning_rate
        c1 = 1 - b1 ** count.astype(jnp.result_type(float))
        c2 = 1 - b2 ** count.astype(jnp.result_type(float))

        def combine(m, v):
            weight = jnp.asarray(w, m.dtype).reshape((k,) + (1,) * (m.ndim - 1))
            step = weight * (m / c1) / (jnp.sqrt(v / c2) + eps)
            return -lr * jnp.sum(step, axis=0)

        return jax.tree.map(combine, mu, nu), MultiAdamState(count, mu, nu)

    return optax.GradientTransformation(init, update)


def group_gradients(loss_vector, params: PyTree[Array], *args) -> PyTree[Float[Array, "k ..."]]:
    """`jax.jacrev` of a function returning the vector of group losses: the input MultiAdam
    expects (every leaf gains a leading group axis)."""
    if not callable(loss_vector):
        raise ValueError(f"loss_vector must be a function (params, *args) -> [groups]; got "
                         f"{type(loss_vector).__name__}")
    params = jax.tree.map(lambda leaf: array("params", leaf, kind="inexact", traced=False),
                          params)
    return jax.jacrev(loss_vector)(params, *args)
