"""Collapsed second-order Taylor mode: one forward pass that carries, for every intermediate,
its value, its first-order derivatives along S directions, and the *sum over directions* of
its second-order derivatives.

For directions v_1..v_S this returns f(x), [Df(x) v_s]_s and sum_s D^2 f(x)[v_s, v_s]. With
the standard basis as directions the last is the exact Laplacian (the forward Laplacian of
Li et al., 2023, "Forward Laplacian: a new computational framework for neural network-based
variational Monte Carlo"; collapsed Taylor mode of Dangel et al., 2024); with random
directions it is the STDE estimator's sum (Shi et al., NeurIPS 2024).

The function is traced to a jaxpr and interpreted primitive by primitive:

- linear primitives (reshape, broadcast, slicing, sums, concatenation, ...) map the three
  parts through the primitive, with no second-order term;
- elementwise unary primitives use f'(a) and f''(a) from jax's own derivative rules;
- bilinear primitives (mul, dot_general, conv) add the cross term 2 sum_s B(Da_s, Db_s);
- call primitives (jit, custom_jvp/vjp, remat) are interpreted recursively;
- any other differentiable primitive goes through a generic rule built from nested `jvp`.

When the directions are rows of the identity (the exact Laplacian, or sparse STDE) and the
input enters a matrix product directly, as in every MLP's first layer, the product of the
weight with the identity is never formed: the derivative is a slice of the weight. Elementwise
maps of the input (shifts, squares, envelopes such as `1 - |x|^2`) keep the rows symbolic as
scaled rows, so sparse STDE costs O(S + d) per point there instead of O(S d).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
from jax.extend import core as jcore
from jaxtyping import Array, Float, Int

from ..validate import array, positive_int


class Rows:
    """Directions that are scaled rows of the d x d identity, kept symbolic:
    `scale[s] * e_{index[s]}` (`scale=None`: 1). Indices `>= dim` stand for zero directions
    (used to pad chunks)."""

    def __init__(self, index: Int[Array, " s"], dim: int, scale: Array | None = None):
        self.index = index
        self.dim = dim
        self.scale = scale

    @property
    def count(self) -> int:
        return int(self.index.shape[0])

    def weights(self, dtype) -> Array:
        """`scale` (ones when unscaled; 0 for padded indices), `[S]`."""
        inside = (self.index < self.dim).astype(dtype)
        return inside if self.scale is None else inside * self.scale.astype(dtype)

    def dense(self, dtype) -> Array:
        e = jax.nn.one_hot(self.index, self.dim, dtype=dtype)
        return e if self.scale is None else e * self.scale.astype(dtype)[:, None]

    def at(self, v: Array) -> Array:
        """`v[index[s]]` for a `[dim]` vector (0 for padded indices)."""
        return jnp.take(v, self.index, mode="fill", fill_value=0)

    def scaled(self, factor: Array) -> Rows:
        """The directions multiplied by `factor[s]`."""
        return Rows(self.index, self.dim, factor if self.scale is None else self.scale * factor)

    def square_sum(self, dtype) -> Array:
        """`sum_s (scale_s e_{index_s})^2` as a dense `[dim]` vector."""
        w = self.weights(dtype)
        return jnp.zeros(self.dim, dtype).at[self.index].add(w * w, mode="drop")


def _is_rows_vector(j: Any, value: Any) -> bool:
    """`j` is a `Rows` tangent of a `[dim]` vector (the only shape Rows describe)."""
    return isinstance(j, Rows) and jnp.shape(value) == (j.dim,)


# (value, first-order directional derivatives [S, *shape] | Rows | None, collapsed second
# order [*shape] | None). None means "zero": the value does not depend on x.
_Triple = tuple[Array, Any, Any]

_CALLS = {"jit": "jaxpr", "pjit": "jaxpr", "closed_call": "call_jaxpr",
          "core_call": "call_jaxpr", "remat": "jaxpr", "checkpoint": "jaxpr",
          "custom_jvp_call": "call_jaxpr", "custom_vjp_call": "call_jaxpr",
          "custom_vjp_call_jaxpr": "fun_jaxpr"}

# Primitive -> the argument slots in which it is (jointly) linear; None: all arguments.
_LINEAR: dict[str, tuple[int, ...] | None] = {
    "neg": (0,), "reshape": (0,), "broadcast_in_dim": (0,), "transpose": (0,),
    "squeeze": (0,), "expand_dims": (0,), "rev": (0,), "slice": (0,), "copy": (0,),
    "copy_p": (0,), "reduce_precision": (0,), "real": (0,), "imag": (0,), "conj": (0,),
    "reduce_sum": (0,), "cumsum": (0,), "convert_element_type": (0,), "dynamic_slice": (0,),
    "gather": (0,), "split": (0,), "sharding_constraint": (0,), "optimization_barrier": None,
    "add": None, "sub": None, "add_any": None, "concatenate": None, "pad": (0, 1),
    "dynamic_update_slice": (0, 1), "scatter-add": (0, 2), "scatter_add": (0, 2),
}

_UNARY = {
    "tanh", "exp", "exp2", "log", "log1p", "expm1", "sin", "cos", "tan", "asin", "acos",
    "atan", "sinh", "cosh", "asinh", "acosh", "atanh", "logistic", "sqrt", "rsqrt", "cbrt",
    "integer_pow", "abs", "erf", "erfc", "erf_inv", "lgamma", "digamma", "square", "sign",
    "floor", "ceil", "round",
}

_BILINEAR = {"mul", "dot_general", "conv_general_dilated"}


def _bind(eqn: jcore.JaxprEqn) -> Callable[..., list[Array]]:
    bound = eqn.primitive.get_bind_params(eqn.params)
    if isinstance(bound, tuple):  # older jax: (subfuns, params)
        subfuns, params = bound
    else:
        subfuns, params = (), bound

    def call(*args):
        out = eqn.primitive.bind(*subfuns, *args, **params)
        return list(out) if eqn.primitive.multiple_results else [out]

    return call


def _is_float(x: Any) -> bool:
    return jnp.issubdtype(jnp.result_type(x), jnp.inexact)


class _Interpreter:
    def __init__(self, num_directions: int, compute_second: bool = True):
        self.s = num_directions
        self.second = compute_second

    # -- helpers -----------------------------------------------------------------------
    def dense(self, j: Any, like: Array) -> Array | None:
        if isinstance(j, Rows):
            return j.dense(jnp.result_type(like))
        return j

    def zeros_j(self, like: Array) -> Array:
        return jnp.zeros((self.s, *jnp.shape(like)), jnp.result_type(like))

    # -- the interpreter ---------------------------------------------------------------
    def run(self, jaxpr: jcore.Jaxpr, consts: Sequence[Array], args: Sequence[_Triple]
            ) -> list[_Triple]:
        env: dict[Any, _Triple] = {}

        def read(v) -> _Triple:
            if isinstance(v, jcore.Literal):
                return v.val, None, None
            return env[v]

        for var, c in zip(jaxpr.constvars, consts, strict=True):
            env[var] = (c, None, None)
        for var, a in zip(jaxpr.invars, args, strict=True):
            env[var] = a
        for eqn in jaxpr.eqns:
            ins = [read(v) for v in eqn.invars]
            if all(j is None and h is None for _, j, h in ins):
                outs = [(o, None, None) for o in _bind(eqn)(*[v for v, _, _ in ins])]
            else:
                outs = self.rule(eqn, ins)
            for var, out in zip(eqn.outvars, outs, strict=True):
                if not isinstance(var, jcore.DropVar):
                    value, j, h = out
                    env[var] = out if _is_float(value) else (value, None, None)
        return [read(v) for v in jaxpr.outvars]

    def rule(self, eqn: jcore.JaxprEqn, ins: list[_Triple]) -> list[_Triple]:
        name = eqn.primitive.name
        if name in _CALLS and _CALLS[name] in eqn.params:
            closed = eqn.params[_CALLS[name]]
            inner = closed.jaxpr if hasattr(closed, "jaxpr") else closed
            consts = closed.consts if hasattr(closed, "consts") else ()
            return self.run(inner, consts, ins)
        if name in _BILINEAR:
            return self.bilinear(eqn, ins)
        if name == "div" and ins[1][1] is None and ins[1][2] is None:
            return self.linear(eqn, ins, (0,))
        if name in _LINEAR:
            slots = _LINEAR[name]
            return self.linear(eqn, ins, tuple(range(len(ins))) if slots is None else slots)
        if name in _UNARY and len(ins) == 1:
            return self.unary(eqn, ins[0])
        return self.generic(eqn, ins)

    def _rows_linear(self, eqn, ins: list[_Triple], active: list[int], outs) -> Any:
        """The first-order part of a linear primitive as `Rows` (or a `[S]` vector) when
        the only active input has a `Rows` tangent and the map keeps it symbolic: sign
        changes, same-shape additions, copies, and the full sum of the vector."""
        if len(active) != 1 or len(outs) != 1:
            return None
        i = active[0]
        value, j = ins[i][0], ins[i][1]
        if not _is_rows_vector(j, value):
            return None
        name, out = eqn.primitive.name, outs[0]
        if name == "reduce_sum" and tuple(eqn.params["axes"]) == (0,):
            return j.weights(jnp.result_type(out))
        if jnp.shape(out) != jnp.shape(value) or jnp.result_type(out) != jnp.result_type(
                value):
            return None
        if name in ("copy", "copy_p", "convert_element_type", "add", "add_any") or (
                name == "sub" and i == 0):
            return j
        if name == "neg" or (name == "sub" and i == 1):
            return j.scaled(-jnp.ones(j.index.shape, jnp.result_type(out)))
        return None

    def linear(self, eqn, ins: list[_Triple], slots: tuple[int, ...]) -> list[_Triple]:
        call = _bind(eqn)
        values = [v for v, _, _ in ins]
        outs = call(*values)
        active = [i for i in slots if ins[i][1] is not None or ins[i][2] is not None]

        def with_slots(parts):
            # Jointly linear in `slots`: the derivative maps zero the inactive ones.
            args = list(values)
            for i in slots:
                args[i] = jnp.zeros_like(values[i])
            for i, p in zip(active, parts, strict=True):
                args[i] = p
            return call(*args)

        fast = self._rows_linear(eqn, ins, active, outs)
        js = [self.dense(ins[i][1], values[i]) for i in active] if fast is None else []
        if fast is not None:
            j_out = [fast]
        elif all(j is None for j in js):
            j_out = [None] * len(outs)
        else:
            js = [self.zeros_j(values[i]) if j is None else j for i, j in zip(active, js,
                                                                              strict=True)]
            j_out = jax.vmap(lambda *p: with_slots(p))(*js)
        hs = [ins[i][2] for i in active]
        if not self.second or all(h is None for h in hs):
            h_out = [None] * len(outs)
        else:
            hs = [jnp.zeros_like(values[i]) if h is None else h
                  for i, h in zip(active, hs, strict=True)]
            h_out = with_slots(hs)
        return list(zip(outs, j_out, h_out, strict=True))

    def unary(self, eqn, inp: _Triple) -> list[_Triple]:
        call = _bind(eqn)
        a, j, h = inp

        def g(u):
            return call(u)[0]

        ones = jnp.ones_like(a)
        y, d1 = jax.jvp(g, (a,), (ones,))
        if _is_rows_vector(j, a):  # elementwise: the rows stay rows, rescaled
            j_out, squares = j.scaled(j.at(d1)), j.square_sum(jnp.result_type(a))
        else:
            j = self.dense(j, a)
            j_out = None if j is None else d1 * j
            squares = None if j is None else jnp.sum(j * j, axis=0)
        h_out = None
        if self.second:
            d2 = jax.jvp(lambda u: jax.jvp(g, (u,), (jnp.ones_like(u),))[1], (a,), (ones,))[1]
            h_out = d1 * h if h is not None else None
            if squares is not None:
                term = d2 * squares
                h_out = term if h_out is None else h_out + term
        return [(y, j_out, h_out)]

    def _rows_product(self, eqn, a, rows: Rows, rows_is_rhs: bool) -> Array | None:
        """dot_general(W, e_i) without forming the identity: a slice of W."""
        if eqn.primitive.name != "dot_general":
            return None
        (lc, rc), (lb, rb) = eqn.params["dimension_numbers"]
        own, other = (rc, lc) if rows_is_rhs else (lc, rc)
        if lb or rb or tuple(own) != (0,) or len(other) != 1:
            return None
        w = jnp.moveaxis(jnp.asarray(a), other[0], 0)
        out_dtype = eqn.outvars[0].aval.dtype
        # Out-of-range indices stand for zero directions (used to pad chunks).
        out = jnp.take(w, rows.index, axis=0, mode="fill", fill_value=0).astype(out_dtype)
        if rows.scale is None:
            return out
        return out * rows.weights(out_dtype).reshape(-1, *[1] * (out.ndim - 1))

    def _dot_tangent(self, eqn, j: Array, other: Array, tangent_is_rhs: bool) -> Array:
        """`[dot_general(j_s, other)]_s` (or with `other` on the left) as one matrix product
        with the direction axis as a free dimension of the tangent operand, so the result
        comes out direction-major with no transposes for the common no-batch-dims case."""
        (lc, rc), (lb, rb) = eqn.params["dimension_numbers"]
        if tangent_is_rhs:  # out = dot(other, c): contract c's dims against other's.
            jc, jb, oc, ob = rc, rb, lc, lb
        else:
            jc, jb, oc, ob = lc, lb, rc, rb
        dims = ((tuple(i + 1 for i in jc), tuple(oc)), (tuple(i + 1 for i in jb), tuple(ob)))
        t = jax.lax.dot_general(j, other, dims,
                                preferred_element_type=eqn.params.get("preferred_element_type"))
        # t: (batch, S, tangent free, other free). Wanted: (S, batch, lhs free, rhs free).
        nb = len(jb)
        n_jfree = j.ndim - 1 - len(jc) - nb
        n_ofree = t.ndim - nb - 1 - n_jfree
        batch = list(range(nb))
        jfree = list(range(nb + 1, nb + 1 + n_jfree))
        ofree = list(range(nb + 1 + n_jfree, nb + 1 + n_jfree + n_ofree))
        perm = [nb, *batch, *(ofree + jfree if tangent_is_rhs else jfree + ofree)]
        return t if perm == list(range(t.ndim)) else jnp.transpose(t, perm)

    def bilinear(self, eqn, ins: list[_Triple]) -> list[_Triple]:
        call = _bind(eqn)

        def b(x, y):
            return call(x, y)[0]

        (a, ja, ha), (c, jc, hc) = ins
        y = b(a, c)
        dot = eqn.primitive.name == "dot_general"
        mul = eqn.primitive.name == "mul"
        parts = []
        if mul and jnp.shape(a) == jnp.shape(c):
            # Elementwise product with one side's tangent symbolic rows: rescale the rows.
            if _is_rows_vector(ja, a) and jc is None:
                parts.append(ja.scaled(ja.at(c)))
                ja = None
            elif _is_rows_vector(jc, c) and ja is None:
                parts.append(jc.scaled(jc.at(a)))
                jc = None
        if ja is not None:
            fast = self._rows_product(eqn, c, ja, False) if isinstance(ja, Rows) else None
            if fast is None:
                fast = (self._dot_tangent(eqn, self.dense(ja, a), c, False) if dot
                        else jax.vmap(b, (0, None))(self.dense(ja, a), c))
            parts.append(fast)
        if jc is not None:
            fast = self._rows_product(eqn, a, jc, True) if isinstance(jc, Rows) else None
            if fast is None:
                fast = (self._dot_tangent(eqn, self.dense(jc, c), a, True) if dot
                        else jax.vmap(b, (None, 0))(a, self.dense(jc, c)))
            parts.append(fast)
        if len(parts) > 1:
            parts = [self.dense(p, y) for p in parts]
        j_out = sum(parts[1:], parts[0]) if parts else None
        h_out = None
        if self.second:
            terms = []
            if ha is not None:
                terms.append(b(ha, c))
            if hc is not None:
                terms.append(b(a, hc))
            if ja is not None and jc is not None:
                terms.append(2 * self._cross(eqn, b, a, ja, c, jc))
            h_out = sum(terms[1:], terms[0]) if terms else None
        return [(y, j_out, h_out)]

    def _cross(self, eqn, b, a, ja, c, jc) -> Array:
        """`sum_s B(Da_s, Dc_s)`; for two `Rows` tangents of vectors, without densifying:
        the product of `e_i` and `e_k` is `[i == k]` (dot) or `[i == k] e_i` (mul)."""
        name = eqn.primitive.name
        if _is_rows_vector(ja, a) and _is_rows_vector(jc, c):
            dtype = jnp.result_type(a, c)
            w = ja.weights(dtype) * jc.weights(dtype) * (ja.index == jc.index)
            if name == "mul":
                return jnp.zeros(ja.dim, dtype).at[ja.index].add(w, mode="drop")
            if name == "dot_general" and eqn.outvars[0].aval.ndim == 0:
                return jnp.sum(w)
        return jnp.sum(jax.vmap(b)(self.dense(ja, a), self.dense(jc, c)), axis=0)

    def generic(self, eqn, ins: list[_Triple]) -> list[_Triple]:
        """Any differentiable primitive, from nested jvps of the primitive itself."""
        call = _bind(eqn)
        values = [v for v, _, _ in ins]
        active = [i for i, (v, j, h) in enumerate(ins)
                  if (j is not None or h is not None) and _is_float(v)]

        def f(*parts):
            args = list(values)
            for i, p in zip(active, parts, strict=True):
                args[i] = p
            return call(*args)

        primals = [values[i] for i in active]
        outs = f(*primals)
        js = [self.dense(ins[i][1], values[i]) for i in active]
        has_j = any(j is not None for j in js)
        js = [self.zeros_j(values[i]) if j is None else j for i, j in zip(active, js,
                                                                          strict=True)]

        def push(t):
            return jax.jvp(f, primals, list(t))[1]

        j_out = jax.vmap(lambda *t: push(t))(*js) if has_j else [None] * len(outs)
        h_out = [None] * len(outs)
        if self.second:
            hs = [ins[i][2] for i in active]
            acc = None
            if any(h is not None for h in hs):
                hs = [jnp.zeros_like(values[i]) if h is None else h
                      for i, h in zip(active, hs, strict=True)]
                acc = push(hs)
            if has_j:
                def second(*t):
                    return jax.jvp(lambda *u: jax.jvp(f, list(u), list(t))[1], primals,
                                   list(t))[1]

                sec = [jnp.sum(s, axis=0) if _is_float(o) else None
                       for s, o in zip(jax.vmap(second)(*js), outs, strict=True)]
                acc = sec if acc is None else [p if q is None else p + q
                                               for p, q in zip(acc, sec, strict=True)]
            if acc is not None:
                h_out = acc
        return [(o, j, h) if _is_float(o) else (o, None, None)
                for o, j, h in zip(outs, j_out, h_out, strict=True)]


def collapsed_taylor(
    f: Callable[[Float[Array, "..."]], Float[Array, "..."]],
    x: Float[Array, "..."],
    directions: Rows | Float[Array, "s ..."],
    *,
    second_order: bool = True,
) -> tuple[Array, Array, Array | None]:
    """Value, first derivatives along each direction, and the collapsed second derivative.

    **Arguments:**

    - `f`: a traceable function of one array.
    - `x`: the point.
    - `directions`: `Rows` (rows of the identity over the flattened `x`) or an array
      `[S, *x.shape]`.
    - `second_order`: also compute `sum_s D^2 f(x)[v_s, v_s]`.

    **Returns:**

    `(f(x), [Df(x) v_s]_s of shape [S, *out], sum_s D^2 f(x)[v_s, v_s] or None)`.
    """
    if not callable(f):
        raise ValueError(f"f must be a function of the point x; got {type(f).__name__}")
    x = array("x", x, traced=False)
    shape = x.shape
    flat = x.reshape(-1)

    def f_flat(z):
        return f(z.reshape(shape))

    if isinstance(directions, Rows):
        s, tangent = directions.count, directions
    else:
        directions = array("directions", directions, shape=("s", *shape), traced=False)
        directions = directions.astype(x.dtype)
        s, tangent = directions.shape[0], directions.reshape(directions.shape[0], -1)
    closed = jax.make_jaxpr(f_flat)(flat)
    interp = _Interpreter(s, second_order)
    ((y, j, h),) = interp.run(closed.jaxpr, closed.consts, [(flat, tangent, None)])
    if j is None:
        j = jnp.zeros((s, *jnp.shape(y)), jnp.result_type(y))
    elif isinstance(j, Rows):
        j = j.dense(jnp.result_type(y))
    if second_order and h is None:
        h = jnp.zeros_like(y)
    return y, j, h


def basis(dim: int) -> Rows:
    """All rows of the `dim x dim` identity."""
    dim = positive_int("dim", dim)
    return Rows(jnp.arange(dim), dim)



