"""Laplacian, biharmonic, divergence and general linear differential operators: exact
(Taylor mode), stochastic (STDE) and the nested-AD baseline."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, PRNGKeyArray

from ..validate import array, one_of, positive_int, protocol
from ._collapsed import Rows, basis, collapsed_taylor
from ._taylor import taylor

Method = Literal["exact", "stde", "hessian"]
Distribution = Literal["rademacher", "gaussian", "sparse"]


def rademacher(key: PRNGKeyArray, shape: tuple[int, ...], dtype=None) -> Array:
    """Independent +-1 entries, drawing 32 signs from each random 32-bit word (32x fewer
    generator calls than `jax.random.rademacher`)."""
    size = math.prod(shape)
    words = jax.random.bits(key, (-(-size // 32),), jnp.uint32)
    bits = (words[:, None] >> jnp.arange(32, dtype=jnp.uint32)) & 1
    signs = 2 * bits.reshape(-1)[:size].astype(dtype or jnp.result_type(float)) - 1
    # A barrier keeps XLA from fusing the unpacking into every consumer of the signs.
    return jax.lax.optimization_barrier(signs.reshape(shape))


def _check(method: str, key, num_samples: int, methods=("exact", "stde", "hessian")) -> int:
    one_of("method", method, methods)
    num_samples = positive_int("num_samples", num_samples)
    if method == "stde" and key is None:
        raise ValueError("method='stde' draws random directions: pass key=jax.random.key(...)")
    return num_samples


def point(f: Any, x: Any) -> Array:
    """Check the function and promote the point: an integer point becomes a float one (the
    derivative of f at integer coordinates), a non-array is refused by name."""
    if not callable(f):
        raise ValueError(f"f must be a function of the point x; got {type(f).__name__}")
    return array("x", x, traced=False)  # NaN refused in concrete points


def _flat(f: Callable, x: Array) -> tuple[Callable, Array]:
    shape = x.shape
    return (lambda z: f(z.reshape(shape))), x.reshape(-1)


def _hessian_trace(f: Callable, x: Array) -> Array:
    g, z = _flat(f, point(f, x))
    h = jax.hessian(g)(z)
    return jnp.trace(h, axis1=-2, axis2=-1)


def laplacian(
    f: Callable[[Float[Array, "..."]], Float[Array, "..."]],
    x: Float[Array, "..."],
    *,
    method: Method = "exact",
    key: PRNGKeyArray | None = None,
    num_samples: int = 16,
    distribution: Distribution = "rademacher",
    directions_per_pass: int | None = None,
) -> Float[Array, "..."]:
    """The Laplacian `sum_i d^2 f / dx_i^2` at `x` (componentwise for vector-valued `f`).

    **Arguments:**

    - `f`: a traceable function; `x`: the point (any shape; all its entries are variables).
    - `method`:
        - `"exact"`: collapsed second-order Taylor mode over the d basis directions (the
          forward Laplacian); no d x d Hessian is formed.
        - `"stde"`: the unbiased estimator `(1/S) sum_s D^2 f[v_s, v_s]` over `num_samples`
          random directions from `distribution` (`"rademacher"`, `"gaussian"`, or
          `"sparse"`: S coordinates drawn uniformly, scaled by d).
        - `"hessian"`: the trace of `jax.hessian` (the nested-AD baseline).
    - `key`: PRNG key (required for `"stde"`).
    - `directions_per_pass`: for `"exact"`, carry at most this many basis directions at a
      time (a `lax.map` over chunks whose second-order sums are added), trading speed for
      memory; default all d at once.

    **Returns:**

    An array of the shape of `f(x)`.

    References: Li et al., "Forward Laplacian" (2023); Shi, Hu, Lin & Kawaguchi, "Stochastic
    Taylor Derivative Estimator" (NeurIPS 2024).
    """
    num_samples = _check(method, key, num_samples)
    one_of("distribution", distribution, ("rademacher", "gaussian", "sparse"))
    x = point(f, x)
    if method == "hessian":
        return _hessian_trace(f, x)
    d = x.size
    if method == "exact":
        if directions_per_pass is None or directions_per_pass >= d:
            return collapsed_taylor(f, x, basis(d))[2]
        per = positive_int("directions_per_pass", directions_per_pass)
        chunks = -(-d // per)
        # Pad with index d (out of range: a zero direction, contributing nothing).
        index = jnp.concatenate([jnp.arange(d), jnp.full(chunks * per - d, d)])
        parts = jax.lax.map(lambda ix: collapsed_taylor(f, x, Rows(ix, d))[2],
                            index.reshape(chunks, per))
        return jnp.sum(parts, axis=0)
    if distribution == "sparse":
        index = jax.random.randint(key, (num_samples,), 0, d)
        return collapsed_taylor(f, x, Rows(index, d))[2] * (d / num_samples)
    shape = (num_samples, *x.shape)
    if distribution == "rademacher":
        v = rademacher(key, shape, x.dtype)
    else:
        v = jax.random.normal(key, shape, dtype=x.dtype)
    return collapsed_taylor(f, x, v)[2] / num_samples


def biharmonic(
    f: Callable[[Float[Array, "..."]], Float[Array, "..."]],
    x: Float[Array, "..."],
    *,
    method: Method = "exact",
    key: PRNGKeyArray | None = None,
    num_samples: int = 16,
) -> Float[Array, "..."]:
    """The biharmonic operator `Delta^2 f = sum_ij d^4 f / dx_i^2 dx_j^2` at `x`.

    **Arguments:**

    - `method`:
        - `"exact"`: the forward Laplacian applied to the forward Laplacian (Taylor mode
          throughout; no Hessian).
        - `"stde"`: for Gaussian v, `E[D^4 f[v, v, v, v]] = 3 Delta^2 f`, so
          `(1 / 3S) sum_s D^4 f[v_s]^4` with fourth-order jets (the STDE construction).
        - `"hessian"`: the trace of the Hessian of the trace of the Hessian.
    - `key`, `num_samples`: as for `laplacian`.

    **Returns:**

    An array of the shape of `f(x)`.

    Reference: Shi et al., "Stochastic Taylor Derivative Estimator" (NeurIPS 2024).
    """
    num_samples = _check(method, key, num_samples)
    x = point(f, x)
    if method == "hessian":
        return _hessian_trace(lambda y: _hessian_trace(f, y), x)
    if method == "exact":
        # The outer pass carries d directions through an inner pass that carries d more:
        # chunk the outer ones so memory stays O(64 d) per point.
        return laplacian(lambda y: laplacian(f, y), x, directions_per_pass=64)
    v = jax.random.normal(key, (num_samples, *x.shape), dtype=x.dtype)
    fourth = jax.vmap(lambda u: taylor(f, x, u, 4)[4])(v)
    return jnp.mean(fourth, axis=0) / 3.0


def divergence(
    F: Callable[[Float[Array, " d"]], Float[Array, " d"]],  # noqa: N803 - a vector field
    x: Float[Array, " d"],
    *,
    method: Method = "exact",
    key: PRNGKeyArray | None = None,
    num_samples: int = 16,
) -> Float[Array, ""]:
    """The divergence `sum_i dF_i / dx_i` of a vector field at `x`.

    **Arguments:**

    - `F`: a traceable map from `x` to an array of the same shape.
    - `method`: `"exact"` (d forward directions, first-order Taylor mode), `"stde"`
      (Hutchinson: `(1/S) sum_s v_s . DF(x) v_s` with Rademacher v) or `"hessian"` (the
      trace of `jax.jacfwd`).

    **Returns:**

    A scalar.

    Reference: Hutchinson, "A stochastic estimator of the trace of the influence matrix"
    (1989).
    """
    num_samples = _check(method, key, num_samples)
    x = point(F, x)
    out = jax.eval_shape(F, x)
    if out.shape != x.shape:
        raise ValueError(f"divergence needs F(x) of the shape of x {x.shape}; got {out.shape}")
    g, z = _flat(lambda y: F(y).reshape(-1), x)
    if method == "hessian":
        return jnp.trace(jax.jacfwd(g)(z))
    if method == "exact":
        j = collapsed_taylor(g, z, basis(z.size), second_order=False)[1]
        return jnp.trace(j)
    v = rademacher(key, (num_samples, z.size), z.dtype)
    jv = jax.vmap(lambda u: jax.jvp(g, (z,), (u,))[1])(v)
    return jnp.mean(jnp.sum(v * jv, axis=1))


def _polarization(alpha: Mapping[int, int]) -> list[tuple[dict[int, int], float]]:
    """Directions and weights with `d^alpha f = sum_w w D^k f[beta]^k`, k = |alpha|.

    For a symmetric k-linear form T and vectors u_1..u_k (here e_i repeated alpha_i times),
    T(u_1, ..., u_k) = (1/k!) sum over subsets S of (-1)^(k - |S|) T(sum_{j in S} u_j)^k;
    grouping subsets by how many copies of each e_i they hold gives the sum over
    0 <= beta <= alpha with multiplicity prod_i C(alpha_i, beta_i).
    """
    k = sum(alpha.values())
    if len(alpha) == 1:
        ((axis, _),) = alpha.items()
        return [({axis: 1}, 1.0)]
    axes = sorted(alpha)
    out = []
    for beta in itertools.product(*[range(alpha[a] + 1) for a in axes]):
        if sum(beta) == 0:
            continue
        mult = math.prod(math.comb(alpha[a], b) for a, b in zip(axes, beta, strict=True))
        sign = (-1) ** (k - sum(beta))
        out.append(({a: b for a, b in zip(axes, beta, strict=True) if b}, sign * mult
                    / math.factorial(k)))
    return out


class DifferentialOperator(eqx.Module):
    """A linear differential operator `sum_t c_t d^{alpha_t}` with constant coefficients.

    **Arguments:**

    - `terms`: a sequence of `(coefficient, {axis: order})`, e.g. the 2D Laplacian plus a
      mixed term: `[(1.0, {0: 2}), (1.0, {1: 2}), (0.5, {0: 1, 1: 1})]`. An empty dict is
      the identity (zeroth order).
    """

    terms: tuple[tuple[float, tuple[tuple[int, int], ...]], ...] = eqx.field(static=True)

    def __init__(self, terms: Sequence[tuple[float, Mapping[int, int]]]):
        parsed = []
        for i, term in enumerate(terms):
            try:
                coef, alpha = term
                coef = float(coef)
                items = tuple(sorted((int(a), int(o)) for a, o in dict(alpha).items()))
            except (TypeError, ValueError):
                raise ValueError(f"term {i} must be (coefficient, {{axis: order}}); got "
                                 f"{term!r}") from None
            if not math.isfinite(coef):
                raise ValueError(f"term {i} has a non-finite coefficient {coef}")
            if any(a < 0 or o < 0 for a, o in items):
                raise ValueError(f"term {i}: axes and orders must be non-negative; got "
                                 f"{dict(items)}")
            items = tuple((a, o) for a, o in items if o > 0)
            parsed.append((coef, items))
        if not parsed:
            raise ValueError("a differential operator needs at least one term")
        self.terms = tuple(parsed)

    @property
    def order(self) -> int:
        """The highest total order of any term."""
        return max(sum(o for _, o in alpha) for _, alpha in self.terms)

    def _plan(self, dim: int):
        """Per term: (order k, directions [P, dim], weights [P]) for exact evaluation."""
        plan = []
        for i, (coef, alpha) in enumerate(self.terms):
            for a, _ in alpha:
                if a >= dim:
                    raise ValueError(f"term {i} differentiates along axis {a}, but x has only "
                                     f"{dim} entries")
            k = sum(o for _, o in alpha)
            if k == 0:
                plan.append((0, np.zeros((1, dim)), np.array([coef])))
                continue
            pol = _polarization(dict(alpha))
            dirs = np.zeros((len(pol), dim))
            for p, (beta, _) in enumerate(pol):
                for a, b in beta.items():
                    dirs[p, a] = b
            plan.append((k, dirs, coef * np.array([w for _, w in pol])))
        return plan


def apply_operator(
    op: DifferentialOperator,
    f: Callable[[Float[Array, " d"]], Float[Array, "..."]],
    x: Float[Array, " d"],
    *,
    method: Literal["exact", "stde", "nested"] = "exact",
    key: PRNGKeyArray | None = None,
    num_samples: int = 16,
) -> Float[Array, "..."]:
    """Apply a `DifferentialOperator` to `f` at `x`.

    **Arguments:**

    - `method`:
        - `"exact"`: every term from k-th order jets: pure terms `d^k/dx_i^k` from one jet
          along `e_i`, mixed terms by polarization over directions `0 <= beta <= alpha`.
        - `"stde"`: sample `num_samples` terms with probability proportional to `|c_t|` and
          average `sign(c_t) (sum |c|) d^{alpha_t} f` (unbiased); each sampled term is exact.
        - `"nested"`: nested `jax.grad` per term (the baseline most PINN libraries use;
          scalar `f` only).
    - `key`: PRNG key (required for `"stde"`).

    **Returns:**

    An array of the shape of `f(x)`.

    Reference: Shi et al., "Stochastic Taylor Derivative Estimator" (NeurIPS 2024).
    """
    protocol("op", op, ("terms", "_plan"), "a sciopt.derivatives.DifferentialOperator")
    num_samples = _check(method, key, num_samples, ("exact", "stde", "nested"))
    x = point(f, x)
    if x.ndim != 1:
        raise ValueError(f"apply_operator needs a 1-D point x; got shape {x.shape}")
    if method == "nested":
        return _nested(op, f, x)
    plan = op._plan(x.size)
    if method == "exact":
        total = 0.0
        for k, dirs, weights in plan:
            if k == 0:
                total = total + weights[0] * f(x)
                continue
            vals = jax.vmap(lambda v, k=k: taylor(f, x, v, k)[k])(jnp.asarray(dirs, x.dtype))
            total = total + jnp.tensordot(jnp.asarray(weights, x.dtype), vals, axes=1)
        return total
    # STDE over terms: pad every term's directions to a common count and use one jet order.
    coefs = np.array([c for c, _ in op.terms])
    top = max(op.order, 1)
    width = max(len(w) for _, _, w in plan)
    dirs = np.zeros((len(plan), width, x.size))
    weights = np.zeros((len(plan), width))
    orders = np.zeros(len(plan), dtype=int)
    for t, (k, d_t, w_t) in enumerate(plan):
        dirs[t, : len(w_t)] = d_t
        weights[t, : len(w_t)] = w_t / coefs[t] if coefs[t] else 0.0
        orders[t] = k
    scale = np.abs(coefs).sum()
    if scale == 0:
        return jnp.zeros(jax.eval_shape(f, x).shape, x.dtype)
    probs = np.abs(coefs) / scale
    picks = jax.random.choice(key, len(plan), (num_samples,), p=jnp.asarray(probs))

    def one(t):
        series = jax.vmap(lambda v: taylor(f, x, v, top))(jnp.asarray(dirs, x.dtype)[t])
        chosen = jnp.take(series, jnp.asarray(orders)[t], axis=1)
        est = jnp.tensordot(jnp.asarray(weights, x.dtype)[t], chosen, axes=1)
        return jnp.sign(jnp.asarray(coefs, x.dtype)[t]) * scale * est

    return jnp.mean(jax.vmap(one)(picks), axis=0)


def _nested(op: DifferentialOperator, f: Callable, x: Array) -> Array:
    out = jax.eval_shape(f, x)
    if out.shape != ():
        raise ValueError(f"method='nested' needs a scalar f; f(x) has shape {out.shape}")
    total = 0.0
    for coef, alpha in op.terms:
        g = f
        for axis, order in alpha:
            if axis >= x.size:
                raise ValueError(f"axis {axis} out of range for x of size {x.size}")
            for _ in range(order):
                g = (lambda h, a: lambda y: jax.grad(h)(y)[a])(g, axis)
        total = total + coef * g(x)
    return total
