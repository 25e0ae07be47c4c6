"""Gauss–Newton / Levenberg–Marquardt steps for sum-of-squares losses.

For a loss `sum_i r_i(theta)^2` (a PINN's residuals, or the fit of a network to a target in
time-evolving natural gradient), the Gauss–Newton step solves the linearised least-squares
problem `min_d |J d + r|^2 + lambda |d|^2` with `J = dr/dtheta`. For residuals linear in the
solution (linear PDEs) this is the energy natural gradient of Müller & Zeinhofer, "Achieving
high accuracy with PINNs via energy natural gradient descent", ICML 2023; with the adaptive
`lambda` it is Levenberg–Marquardt (Moré, 1978).

The dense solve goes through lineax: Cholesky on the smaller of the two normal-equation forms
(`J^T J + lambda I`, or `J J^T + lambda I` when there are fewer residuals than parameters,
which gives the same step), or QR / SVD on `J` itself for round-off-level accuracy.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import lineax as lx
from jax.flatten_util import ravel_pytree
from jaxtyping import Array, Float, PyTree

from ..validate import array, known_keys, one_of, positive_int, real, require

SOLVERS = ("cholesky", "qr", "svd")


def least_squares_step(
    jac: Float[Array, "n p"],
    res: Float[Array, " n"],
    *,
    damping: float | Float[Array, ""] = 0.0,
    solver: str = "cholesky",
    rcond: float | None = None,
) -> Float[Array, " p"]:
    """`argmin_d |jac d + res|^2 + damping |d|^2` (the minimum-norm one if it is not unique).

    **Arguments:**

    - `jac`, `res`: the Jacobian `[n, p]` and residuals `[n]`.
    - `damping`: Levenberg–Marquardt / Tikhonov `lambda >= 0`.
    - `solver`: `"cholesky"` (normal equations in the smaller dimension; needs
      `damping > 0` unless `jac` has full rank), `"qr"` or `"svd"` (on `jac`, stacked with
      `sqrt(damping) I` when damped; `rcond` cuts small singular values for `"svd"`).

    **Returns:**

    The step `d` `[p]`.
    """
    one_of("solver", solver, SOLVERS)
    jac, res = array("jac", jac, finite=False), array("res", res, finite=False)
    if jac.ndim != 2 or res.shape != jac.shape[:1]:
        raise ValueError(f"jac must be [n, p] and res [n]; got {jac.shape} and {res.shape}")
    n, p = jac.shape
    undamped = isinstance(damping, int | float) and damping == 0
    damping = real("damping", damping, low=0.0, low_inclusive=True).astype(jac.dtype)
    if solver == "cholesky":
        tag = lx.positive_semidefinite_tag
        small = min(n, p)
        normal = jac.T @ jac if n >= p else jac @ jac.T
        op = lx.MatrixLinearOperator(normal + damping * jnp.eye(small, dtype=jac.dtype), tag)
        sol = lx.linear_solve(op, jac.T @ res if n >= p else res, lx.Cholesky(), throw=False)
        step = -sol.value if n >= p else -jac.T @ sol.value
        ok = (sol.result == lx.RESULTS.successful) & jnp.all(jnp.isfinite(step))
        return require(step, ok, "least_squares_step: the Cholesky solve of the normal "
                                 "equations failed (jac is rank-deficient or not finite); pass "
                                 "damping > 0, or solver='qr' / 'svd'")
    method = lx.QR() if solver == "qr" else lx.SVD(rcond=rcond)
    if undamped:
        return -lx.linear_solve(lx.MatrixLinearOperator(jac), res, method).value
    # Damped: the same problem with sqrt(lambda) I stacked under J.
    a = jnp.concatenate([jac, jnp.sqrt(damping) * jnp.eye(p, dtype=jac.dtype)])
    b = jnp.concatenate([res, jnp.zeros(p, res.dtype)])
    return -lx.linear_solve(lx.MatrixLinearOperator(a), b, method).value


class Residuals(NamedTuple):
    """One group of a `SumOfSquares`: the residual `fn(model, point)` (a scalar) at each of
    `points` (any pytree with a leading axis `n`), with `weights [n]`."""

    fn: Callable[[Any, Any], Float[Array, ""]]
    points: PyTree
    weights: Float[Array, " n"]


class SumOfSquares:
    """A loss that is a weighted sum of squared pointwise residuals, in the form both
    first-order and Gauss–Newton optimisers use.

    `groups(model, batch, key)` returns `{name: Residuals(fn, points, weights)}`; the term
    of a group is `sum_i weights_i * fn(model, points_i)^2` (weights `1 / n` give a mean),
    and the total is `sum_name loss_weights[name] * term`. Calling the loss returns
    `(total, terms)` as `sciopt.train.fit` expects; `residuals` returns the one vector `r`
    with `|r|^2 = total`, and `jacobian` its Jacobian with respect to the model's arrays,
    one gradient per point (cost linear in the number of points, unlike `jax.jacrev` of
    the whole vector).
    """

    def __init__(self, groups: Callable[..., Mapping[str, Residuals]],
                 weights: Mapping[str, float] | None = None):
        if not callable(groups):
            raise ValueError(f"groups must be a function (model, batch, key) -> {{name: "
                             f"Residuals}}; got {type(groups).__name__}")
        self.groups = groups
        self.weights = known_keys("weights", weights, weights or ())

    def _named(self, model, batch, key) -> Mapping[str, Residuals]:
        groups = self.groups(model, batch, key)
        unknown = sorted(set(self.weights) - set(groups))
        if unknown:
            raise ValueError(f"loss weights name unknown group(s) {unknown}; this loss has the "
                             f"groups {sorted(groups)}")
        return groups

    def _scaled(self, model, batch, key, value_fn):
        groups = self._named(model, batch, key)
        out = {}
        for name, g in sorted(groups.items()):
            out[name] = (value_fn(g), jnp.sqrt(self.weights.get(name, 1.0) * g.weights))
        return out

    def __call__(self, model: Any, batch: Any, key: Any
                 ) -> tuple[Float[Array, ""], dict[str, Float[Array, ""]]]:
        groups = self._named(model, batch, key)
        terms = {k: jnp.sum(g.weights * jax.vmap(g.fn, (None, 0))(model, g.points) ** 2)
                 for k, g in groups.items()}
        total = sum(self.weights.get(k, 1.0) * v for k, v in terms.items())
        return total, terms

    def residuals(self, model: Any, batch: Any, key: Any) -> Float[Array, " n"]:
        """The residual vector `r` (`|r|^2` is the total loss), groups in name order."""
        parts = self._scaled(model, batch, key,
                             lambda g: jax.vmap(g.fn, (None, 0))(model, g.points))
        return jnp.concatenate([s * r for r, s in parts.values()])

    def jacobian(self, model: Any, batch: Any, key: Any) -> tuple[Float[Array, " n"], PyTree]:
        """`(r, J)`: the residual vector and its Jacobian with respect to the model's
        inexact arrays (`eqx.partition(model, eqx.is_inexact_array)[0]`'s structure, each
        leaf with a leading axis `n`)."""
        params, static = eqx.partition(model, eqx.is_inexact_array)

        def per_point(g):
            f = jax.value_and_grad(lambda p, pt: g.fn(eqx.combine(p, static), pt))
            return jax.vmap(f, (None, 0))(params, g.points)

        parts = self._scaled(model, batch, key, per_point)
        r = jnp.concatenate([s * v for (v, _), s in parts.values()])
        jac = jax.tree.map(lambda *leaves: jnp.concatenate(leaves),
                           *[jax.tree.map(lambda j, s=s: j * s.reshape((-1,) + (1,) * (
                               j.ndim - 1)), grads) for (_, grads), s in parts.values()])
        return r, jac


class GaussNewtonState(NamedTuple):
    damping: Float[Array, ""]
    accepted: Array  # number of accepted steps
    tries: Array  # linear solves so far (one per accepted step, more on rejections)


class LeastSquaresTransformation(NamedTuple):
    """An optax-style transformation whose `update(grads, state, params, *, residual_fn,
    jacobian_fn=None)` needs the residual vector (and, better, its per-point Jacobian) as
    functions of the parameters; `sciopt.train.fit` passes both for a `SumOfSquares`."""

    init: Callable[[PyTree], GaussNewtonState]
    update: Callable[..., tuple[PyTree, GaussNewtonState]]


def gauss_newton(
    damping: float = 1e-3,
    *,
    adaptive: bool = True,
    max_tries: int = 10,
    min_damping: float = 1e-12,
    max_damping: float = 1e10,
    solver: str = "cholesky",
    rcond: float | None = None,
    jacobian: str = "reverse",
) -> LeastSquaresTransformation:
    """Gauss–Newton / Levenberg–Marquardt for a `SumOfSquares` loss (for small networks:
    the Jacobian is dense, `[residuals, parameters]`).

    Each update forms `J` of the residuals at the current parameters and solves for the
    damped Gauss–Newton step with `least_squares_step`. With `adaptive=True` the step is
    tried against the gain ratio `rho = actual / predicted` decrease of the sum of squares
    (Nielsen's rule, Madsen, Nielsen & Tingleff, "Methods for non-linear least squares
    problems", 2004): accepted when `rho > 0`, then `damping *= max(1/3, 1 - (2 rho - 1)^3)`;
    otherwise `damping` grows (x2, x4, ...) and the step is solved again with the same `J`,
    at most `max_tries` times (then the parameters stay). `damping` stays within
    `[min_damping, max_damping]`.

    **Arguments:**

    - `damping`: the initial `lambda`.
    - `solver`, `rcond`: see `least_squares_step`.
    - `jacobian`: without a `jacobian_fn` from the caller (`sciopt.train.fit` passes
      `SumOfSquares.jacobian`), `J` comes from `jax.jacrev` (`"reverse"`) or
      `jax.jacfwd` (`"forward"`) of the residual vector.

    **Returns:**

    A `LeastSquaresTransformation`.
    """
    one_of("solver", solver, SOLVERS)
    one_of("jacobian", jacobian, ("reverse", "forward"))
    if not damping >= 0 or not 0 < min_damping <= max_damping:
        raise ValueError(f"need damping >= 0 and 0 < min_damping <= max_damping; got "
                         f"{damping}, {min_damping}, {max_damping}")
    max_tries = positive_int("max_tries", max_tries)

    def init(params):
        dtype = ravel_pytree(params)[0].dtype
        zero = jnp.zeros((), jnp.int32)
        return GaussNewtonState(jnp.asarray(damping, dtype), zero, zero)

    def update(grads, state, params, *, residual_fn, jacobian_fn=None, **extra):
        del grads, extra
        flat, unravel = ravel_pytree(params)

        def r_of(f):
            return residual_fn(unravel(f))

        if jacobian_fn is not None:
            res, jac_tree = jacobian_fn(params)
            jac = jnp.concatenate([j.reshape(res.shape[0], -1)
                                   for j in jax.tree.leaves(jac_tree)], axis=1)
        else:
            res = r_of(flat)
            jac = (jax.jacrev if jacobian == "reverse" else jax.jacfwd)(r_of)(flat)

        def solve(lam):
            return least_squares_step(jac, res, damping=lam, solver=solver, rcond=rcond)

        if not adaptive:
            return unravel(solve(state.damping)), GaussNewtonState(
                state.damping, state.accepted + 1, state.tries + 1)
        sq = jnp.sum(res**2)

        def attempt(carry):
            lam, nu, _, _, tries = carry
            step = solve(lam)
            predicted = sq - jnp.sum((res + jac @ step) ** 2)
            rho = (sq - jnp.sum(r_of(flat + step) ** 2)) / jnp.maximum(predicted, 1e-300)
            ok = (rho > 0) & jnp.all(jnp.isfinite(step))
            grown = jnp.minimum(lam * nu, max_damping)
            shrunk = lam * jnp.maximum(1 / 3, 1 - (2 * rho - 1) ** 3)
            return (jnp.where(ok, jnp.maximum(shrunk, min_damping), grown),
                    jnp.where(ok, 2.0, 2 * nu), ok, step, tries + 1)

        def again(carry):
            return ~carry[2] & (carry[4] < max_tries)

        init_carry = (jnp.maximum(state.damping, min_damping), jnp.asarray(2.0, sq.dtype),
                      jnp.array(False), jnp.zeros_like(flat), jnp.zeros((), jnp.int32))
        lam, _, ok, step, tries = jax.lax.while_loop(again, attempt, init_carry)
        step = jnp.where(ok, step, jnp.zeros_like(step))
        return unravel(step), GaussNewtonState(lam, state.accepted + ok.astype(jnp.int32),
                                               state.tries + tries)

    return LeastSquaresTransformation(init, update)


def is_least_squares(optimizer: Any) -> bool:
    """Whether `optimizer` needs a residual function (a `LeastSquaresTransformation`)."""
    return isinstance(optimizer, LeastSquaresTransformation)

