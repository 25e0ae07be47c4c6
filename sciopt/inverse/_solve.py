"""`minimise` and `least_squares`: thin drivers over optimistix solvers that run one jitted
solver step at a time, so every accepted iterate's objective and gradient norm is recorded and
shown, with reparametrisations for positivity and bounds."""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable
from typing import Any, Literal

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optimistix as optx
from jaxtyping import Array, PyTree

from ..train import ProgressReporter
from ..validate import one_of, positive_float, positive_int


class Reparam(eqx.Module):
    """A map from unconstrained variables `z` to parameters `p = forward(z)`.

    `Reparam.identity()`, `Reparam.positive()` (`p = exp(z)`), `Reparam.bounded(lo, hi)`
    (`p = lo + (hi - lo) sigmoid(z)`).
    """

    kind: str = eqx.field(static=True)
    lo: float = eqx.field(static=True, default=0.0)
    hi: float = eqx.field(static=True, default=1.0)

    @classmethod
    def identity(cls) -> Reparam:
        return cls("identity")

    @classmethod
    def positive(cls) -> Reparam:
        return cls("positive")

    @classmethod
    def bounded(cls, lo: float, hi: float) -> Reparam:
        if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
            raise ValueError(f"bounds must be finite with lo < hi; got ({lo}, {hi})")
        return cls("bounded", float(lo), float(hi))

    def forward(self, z: PyTree[Array]) -> PyTree[Array]:
        if self.kind == "positive":
            return jax.tree.map(jnp.exp, z)
        if self.kind == "bounded":
            return jax.tree.map(lambda v: self.lo + (self.hi - self.lo) * jax.nn.sigmoid(v), z)
        return z

    def inverse(self, p: PyTree[Array]) -> PyTree[Array]:
        def check(v, ok, what):
            if not bool(jnp.all(ok(v))):
                raise ValueError(f"the initial parameters must be {what} for this "
                                 f"reparametrisation")
            return v

        if self.kind == "positive":
            return jax.tree.map(lambda v: jnp.log(check(v, lambda a: a > 0, "positive")), p)
        if self.kind == "bounded":
            def inv(v):
                check(v, lambda a: (a > self.lo) & (a < self.hi),
                      f"strictly inside ({self.lo}, {self.hi})")
                s = (v - self.lo) / (self.hi - self.lo)
                return jnp.log(s) - jnp.log1p(-s)
            return jax.tree.map(inv, p)
        return p


@dataclasses.dataclass(frozen=True)
class InverseResult:
    """The outcome of `minimise` / `least_squares`.

    **Fields:**

    - `params`: the final parameters (in the original, constrained space).
    - `value`: the final objective.
    - `history`: `{"objective": [...], "grad_norm": [...], "time_s": [...]}`, one entry per
      accepted iterate (the gradient is with respect to the unconstrained variables).
    - `steps`: solver steps taken (line-search trials included).
    - `converged`: whether the solver's tolerance was met within `max_steps`.
    - `message`: the solver's result in words.
    """

    params: PyTree[Array]
    value: float
    history: dict[str, list[float]]
    steps: int
    converged: bool
    message: str


def _finite_tree(tree: PyTree[Array], what: str) -> None:
    for leaf in jax.tree.leaves(tree):
        if not bool(jnp.all(jnp.isfinite(leaf))):
            raise ValueError(f"{what} contains NaN or Inf")


def _drive(solver, fn, y0, args, f_struct, value_and_grad, *, max_steps, progress, reparam,
           label) -> InverseResult:
    tags: frozenset = frozenset()
    state = solver.init(fn, y0, args, {}, f_struct, None, tags)
    step = eqx.filter_jit(lambda y, s: solver.step(fn, y, args, {}, s, tags))
    term = eqx.filter_jit(lambda y, s: solver.terminate(fn, y, args, {}, s, tags))
    measure = eqx.filter_jit(value_and_grad)
    history: dict[str, list[float]] = {"objective": [], "grad_norm": [], "time_s": []}

    def record(y, t0, state=None):
        # Quasi-Newton states carry the value and gradient at the accepted iterate: reuse
        # them instead of evaluating again; other solvers (least squares) are measured.
        info = getattr(state, "f_info", None)
        if hasattr(info, "f") and hasattr(info, "grad"):
            value, grad = info.f, info.grad
        else:
            value, grad = measure(y)
        gnorm = float(jnp.sqrt(sum(jnp.sum(g**2) for g in jax.tree.leaves(grad))))
        if history["objective"] and float(value) == history["objective"][-1]:
            return False  # a rejected trial: the iterate did not move
        history["objective"].append(float(value))
        history["grad_norm"].append(gnorm)
        history["time_s"].append(time.perf_counter() - t0)
        return True

    t0 = time.perf_counter()
    record(y0, t0)
    reporter = ProgressReporter(max_steps, 0, mode=progress, description=label, unit="step")
    y, done, result, steps = y0, False, optx.RESULTS.successful, 0
    try:
        for steps in range(1, max_steps + 1):
            y, state, _ = step(y, state)
            done, result = term(y, state)
            if record(y, t0, state):
                reporter.update(steps, history["objective"][-1],
                                steps / (time.perf_counter() - t0),
                                note=f"|grad| {history['grad_norm'][-1]:.3e}")
            if not math.isfinite(history["objective"][-1]):
                raise FloatingPointError(f"{label}: the objective became non-finite at step "
                                         f"{steps}")
            if bool(done):
                break
    finally:
        reporter.close()
    converged = bool(done) and bool(result == optx.RESULTS.successful)
    message = "converged" if converged else (
        f"stopped after max_steps = {max_steps}" if not bool(done)
        else optx.RESULTS[result] if hasattr(optx.RESULTS, "__getitem__") else str(result))
    return InverseResult(params=reparam.forward(y), value=history["objective"][-1],
                         history=history, steps=steps, converged=converged, message=message)


def _setup(classes, method, init, reparam, max_steps, rtol, atol):
    """Validate the common arguments; return (solver, reparametrisation, initial z)."""
    one_of("method", method, tuple(classes))
    positive_int("max_steps", max_steps)
    rtol, atol = positive_float("rtol", rtol), positive_float("atol", atol)
    reparam = reparam or Reparam.identity()
    _finite_tree(init, "init")
    return classes[method](rtol=rtol, atol=atol), reparam, reparam.inverse(init)


def minimise(
    objective: Callable[[PyTree[Array], Any], Array],
    init: PyTree[Array],
    *,
    args: Any = None,
    method: Literal["bfgs", "lbfgs", "nonlinear-cg"] = "bfgs",
    reparam: Reparam | None = None,
    max_steps: int = 500,
    rtol: float = 1e-8,
    atol: float = 1e-8,
    progress: str = "auto",
) -> InverseResult:
    """Minimise a scalar `objective(params, args)` with an optimistix minimiser.

    **Arguments:**

    - `objective`: differentiable scalar function, e.g. a misfit of a PDE solve from
      `sciopt.solvers` plus regularisation (`tikhonov`, `total_variation`).
    - `init`: initial parameters (any pytree of arrays).
    - `method`: `"bfgs"` (dense inverse-Hessian estimate; fine up to a few thousand
      unknowns), `"lbfgs"` or `"nonlinear-cg"` (optimistix's).
    - `reparam`: optimise `z` with `params = reparam.forward(z)` (e.g. `Reparam.positive()`
      for a permeability, `Reparam.bounded(0, 1)` for densities).
    - `max_steps`, `rtol`, `atol`: optimistix's step limit and tolerances.
    - `progress`: `"auto"`, `"bar"`, `"lines"` or `"off"`.

    **Returns:**

    An `InverseResult` with the per-iterate history.
    """
    classes = {"bfgs": optx.BFGS, "lbfgs": optx.LBFGS, "nonlinear-cg": optx.NonlinearCG}
    solver, reparam, y0 = _setup(classes, method, init, reparam, max_steps, rtol, atol)

    def scalar(z, a):
        return objective(reparam.forward(z), a)

    value = jax.eval_shape(scalar, y0, args)
    if value.shape != ():
        raise ValueError(f"objective must return a scalar; got shape {value.shape}")
    return _drive(solver, lambda z, a: (scalar(z, a), None), y0, args, value,
                  jax.value_and_grad(lambda z: scalar(z, args)), max_steps=max_steps,
                  progress=progress, reparam=reparam, label=f"minimise ({method})")


def least_squares(
    residuals: Callable[[PyTree[Array], Any], Array],
    init: PyTree[Array],
    *,
    args: Any = None,
    method: Literal["levenberg-marquardt", "gauss-newton"] = "levenberg-marquardt",
    reparam: Reparam | None = None,
    max_steps: int = 100,
    rtol: float = 1e-8,
    atol: float = 1e-8,
    progress: str = "auto",
) -> InverseResult:
    """Minimise `0.5 |residuals(params, args)|^2` with optimistix's Levenberg-Marquardt or
    Gauss-Newton (normal equations solved by lineax QR); the recorded objective is
    `0.5 |r|^2`. Other arguments as in `minimise`."""
    classes = {"levenberg-marquardt": optx.LevenbergMarquardt, "gauss-newton": optx.GaussNewton}
    solver, reparam, y0 = _setup(classes, method, init, reparam, max_steps, rtol, atol)

    def vector(z, a):
        return residuals(reparam.forward(z), a)

    r = jax.eval_shape(vector, y0, args)

    def half_sq(z):
        return 0.5 * sum(jnp.sum(v**2) for v in jax.tree.leaves(vector(z, args)))

    return _drive(solver, lambda z, a: (vector(z, a), None), y0, args, r,
                  jax.value_and_grad(half_sq), max_steps=max_steps, progress=progress,
                  reparam=reparam, label=f"least squares ({method})")


def finite_difference_check(fn: Callable[[Array], Array], x: Array, *, direction: Array | None
                            = None, step: float = 1e-5, key: Any = None) -> dict[str, float]:
    """Compare `jax.grad(fn)(x) . d` with the central difference `(f(x + h d) - f(x - h d)) /
    2h` along a random unit direction `d` (or `direction`).

    **Returns:**

    `{"autodiff": ..., "finite_difference": ..., "relative_error": ...}`.
    """
    x = jnp.asarray(x)
    if direction is None:
        d = jax.random.normal(jax.random.key(0) if key is None else key, x.shape, x.dtype)
    else:
        d = jnp.asarray(direction, x.dtype)
    d = d / jnp.linalg.norm(d)
    ad = float(jnp.vdot(jax.grad(fn)(x), d))
    fd = float((fn(x + step * d) - fn(x - step * d)) / (2 * step))
    return {"autodiff": ad, "finite_difference": fd,
            "relative_error": abs(ad - fd) / max(abs(fd), np.finfo(float).tiny)}
