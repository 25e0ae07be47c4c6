"""`minimise` and `least_squares`: optimistix solvers run one step at a time on
`sciopt.train.iterate` (progress, metrics, checkpoints with bitwise resume, the NaN/Inf
guard), so every accepted iterate's objective and gradient norm is recorded and shown, with
reparametrisations for positivity and bounds."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optimistix as optx
from jaxtyping import Array, PyTree

from ..train import AbstractIterativeSolver, NonFiniteIteration, iterate
from ..validate import array, one_of, positive_float, positive_int, real, require


class Reparam(eqx.Module):
    """A map from unconstrained variables `z` to parameters `p = forward(z)`.

    `Reparam.identity()`, `Reparam.positive()` (`p = exp(z)`), `Reparam.bounded(lo, hi)`
    (`p = lo + (hi - lo) sigmoid(z)`).
    """

    kind: str = eqx.field(static=True)
    lo: Array = eqx.field(default=0.0, converter=lambda v: real("lo", v, low=None))
    hi: Array = eqx.field(default=1.0, converter=lambda v: real("hi", v, low=None))

    def __check_init__(self):
        one_of("kind", self.kind, ("identity", "positive", "bounded"))

    @classmethod
    def identity(cls) -> Reparam:
        return cls("identity")

    @classmethod
    def positive(cls) -> Reparam:
        return cls("positive")

    @classmethod
    def bounded(cls, lo: float, hi: float) -> Reparam:
        """`p = lo + (hi - lo) sigmoid(z)`; `lo` and `hi` are array leaves (a caller may
        trace or batch them), checked finite with `lo < hi`."""
        lo, hi = real("lo", lo, low=None), real("hi", hi, low=None)
        return cls("bounded", lo, require(hi, lo < hi, f"bounds must be finite with lo < hi; "
                                                        f"got ({lo}, {hi})"))

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
      accepted iterate of this call (after a resume: from the initial point, then the
      resumed steps; the gradient is with respect to the unconstrained variables).
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


class _OptimistixSteps(AbstractIterativeSolver):
    """An optimistix minimiser / least-squares solver for `sciopt.train.iterate`: each step
    is one `solver.step` and its `terminate`; the metrics are the objective and gradient
    norm at the iterate (a rejected line-search trial repeats the last value). The
    solver state's non-array parts (closure-converted jaxprs) stay out of the carried
    state, in `static_state`."""

    solver: Any
    fn: Callable
    args: Any
    y0: PyTree[Array]
    value_and_grad: Callable
    dynamic_state: PyTree[Array]
    static_state: Any = eqx.field(static=True)

    def _measure(self, y, state):
        # Quasi-Newton states carry the value and gradient at the accepted iterate: reuse
        # them instead of evaluating again; other solvers (least squares) are measured.
        info = getattr(state, "f_info", None)
        if hasattr(info, "f") and hasattr(info, "grad"):
            value, grad = info.f, info.grad
        else:
            value, grad = self.value_and_grad(y)
        return value, jnp.sqrt(sum(jnp.sum(g**2) for g in jax.tree.leaves(grad)))

    def init(self, key):
        del key
        return self.y0, self.dynamic_state, jnp.asarray(False), optx.RESULTS.successful

    def step(self, carry, key):
        del key
        y, dynamic, _, _ = carry
        state = eqx.combine(dynamic, self.static_state)
        y, state, _ = self.solver.step(self.fn, y, self.args, {}, state, frozenset())
        done, result = self.solver.terminate(self.fn, y, self.args, {}, state, frozenset())
        value, gnorm = self._measure(y, state)
        dynamic = eqx.filter(state, eqx.is_array)
        return (y, dynamic, done, result), {"objective": value, "grad_norm": gnorm}

    def terminate(self, carry):
        return carry[2]


def _drive(solver, fn, y0, args, f_struct, value_and_grad, *, max_steps, progress, reparam,
           label, checkpoint_dir=None) -> InverseResult:
    state = solver.init(fn, y0, args, {}, f_struct, None, frozenset())
    dynamic, static = eqx.partition(state, eqx.is_array)
    steps_solver = _OptimistixSteps(solver, fn, args, y0, value_and_grad, dynamic, static)
    start = time.perf_counter()
    value, gnorm = eqx.filter_jit(steps_solver._measure)(y0, None)
    times: list[float] = []
    try:
        out = iterate(steps_solver, max_steps, key=jax.random.key(0), chunk_size=1,
                      checkpoint_dir=checkpoint_dir, progress=progress, description=label,
                      on_chunk=lambda state, step: times.append(time.perf_counter() - start))
    except NonFiniteIteration as e:
        raise FloatingPointError(f"{label}: the objective became non-finite at step "
                                 f"{e.result.step + 1}") from e
    history: dict[str, list[float]] = {"objective": [float(value)],
                                       "grad_norm": [float(gnorm)], "time_s": [0.0]}
    for v, g, t in zip(out.metrics["objective"], out.metrics["grad_norm"],
                       times[-len(out.metrics["objective"]):], strict=True):
        if float(v) != history["objective"][-1]:  # a rejected trial: the iterate did not move
            history["objective"].append(float(v))
            history["grad_norm"].append(float(g))
            history["time_s"].append(t)
    y, dynamic, done, result = out.state
    final, _ = eqx.filter_jit(steps_solver._measure)(y, eqx.combine(dynamic, static))
    converged = bool(done) and bool(result == optx.RESULTS.successful)
    message = "converged" if converged else (
        f"stopped after max_steps = {max_steps}" if not bool(done)
        else optx.RESULTS[result] if hasattr(optx.RESULTS, "__getitem__") else str(result))
    return InverseResult(params=reparam.forward(y), value=float(final),
                         history=history, steps=out.step, converged=converged,
                         message=message)


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
    checkpoint_dir: str | Path | None = None,
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
    - `checkpoint_dir`: checkpoint every step there (`sciopt.train.iterate`); a rerun
      resumes bit for bit.

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
                  progress=progress, reparam=reparam, label=f"minimise ({method})",
                  checkpoint_dir=checkpoint_dir)


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
    checkpoint_dir: str | Path | None = None,
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
                  reparam=reparam, label=f"least squares ({method})",
                  checkpoint_dir=checkpoint_dir)


def finite_difference_check(fn: Callable[[Array], Array], x: Array, *, direction: Array | None
                            = None, step: float = 1e-5, key: Any = None) -> dict[str, float]:
    """Compare `jax.grad(fn)(x) . d` with the central difference `(f(x + h d) - f(x - h d)) /
    2h` along a random unit direction `d` (or `direction`).

    **Returns:**

    `{"autodiff": ..., "finite_difference": ..., "relative_error": ...}`.
    """
    if not callable(fn):
        raise ValueError(f"fn must be a function of x; got {type(fn).__name__}")
    x = array("x", x)
    step = positive_float("step", step)
    if direction is None:
        d = jax.random.normal(jax.random.key(0) if key is None else key, x.shape, x.dtype)
    else:
        d = jnp.asarray(direction, x.dtype)
    d = d / jnp.linalg.norm(d)
    ad = float(jnp.vdot(jax.grad(fn)(x), d))
    fd = float((fn(x + step * d) - fn(x - step * d)) / (2 * step))
    return {"autodiff": ad, "finite_difference": fd,
            "relative_error": abs(ad - fd) / max(abs(fd), np.finfo(float).tiny)}
