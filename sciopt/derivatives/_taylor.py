"""Directional derivatives of any order in one Taylor-mode pass."""

from __future__ import annotations

import warnings
from collections.abc import Callable

import jax
import jax.numpy as jnp
from jax.experimental import jet
from jaxtyping import Array, Float

from ..validate import array, positive_int

_WARNED: set[str] = set()


def _nested_jvp(f: Callable, x: Array, v: Array, order: int) -> Array:
    """D^k f(x)[v, ..., v] for k = 0..order by nesting `jvp` along t -> f(x + t v)."""
    t0 = jnp.zeros((), x.dtype)
    fns = [lambda t: f(x + t * v)]
    for _ in range(order):
        fns.append(lambda t, h=fns[-1]: jax.jvp(h, (t,), (jnp.ones_like(t),))[1])
    return jnp.stack([jnp.asarray(fn(t0)) for fn in fns])


def taylor(f: Callable[[Float[Array, "..."]], Float[Array, "..."]], x: Float[Array, "..."],
           v: Float[Array, "..."], order: int) -> Float[Array, "order_plus_one ..."]:
    """The directional derivatives `D^k f(x)[v, ..., v]` for `k = 0, ..., order`.

    One Taylor-mode pass with `jax.experimental.jet` (the input path `x + t v` has only a
    first-order coefficient). If `jet` has no rule for a primitive in `f`, the derivatives are
    computed by nested `jvp` instead, and a warning names the primitive once.

    **Arguments:**

    - `f`: a traceable function.
    - `x`: the point; `v`: the direction (same shape as `x`).
    - `order`: the highest derivative order (>= 1).

    **Returns:**

    An array `[order + 1, *f(x).shape]`: `f(x)`, `Df(x)[v]`, `D^2 f(x)[v, v]`, ...

    Reference: Bettencourt, Johnson & Duvenaud, "Taylor-mode automatic differentiation for
    higher-order derivatives in JAX" (2019).
    """
    order = positive_int("order", order)
    if not callable(f):
        raise ValueError(f"f must be a function of the point x; got {type(f).__name__}")
    x = array("x", x, traced=False)
    v = array("v", v, traced=False).astype(x.dtype)
    if v.shape != x.shape:
        raise ValueError(f"the direction v must have the shape of x {x.shape}; got {v.shape}")
    series_in = (v,) + (jnp.zeros_like(x),) * (order - 1)
    try:
        y, series = jet.jet(f, (x,), (series_in,))
    except (KeyError, NotImplementedError) as e:
        name = getattr(e.args[0], "name", str(e.args[0])) if e.args else type(e).__name__
        if name not in _WARNED:
            _WARNED.add(name)
            warnings.warn(f"jet has no Taylor rule for primitive {name!r}; using nested jvp "
                          f"for derivatives through it (slower at high order)", stacklevel=2)
        return _nested_jvp(f, x, v, order)
    return jnp.stack([jnp.asarray(y), *[jnp.asarray(s) for s in series]])
