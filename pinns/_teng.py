"""TENG: time-evolving natural gradient.

Reference: Chen, McCarran, Vizcaino, Soljačić & Luo, "TENG: Time-Evolving Natural Gradient
for Solving PDEs With Deep Neural Nets Toward Machine Precision", ICML 2024,
arXiv:2404.10771.

The network `u_theta(x)` represents the solution at one time. A step of `u_t = N[u]` first
forms the target of a classical integrator in function space at sample points (explicit
Euler: `u_n + dt N[u_n]`; Heun: a predictor `u*`, then `u_n + dt / 2 (N[u_n] + N[u*])`), and
then moves `theta` to that target by a few Gauss–Newton iterations on
`min_theta sum_i (u_theta(x_i) - target_i)^2`: each solves `J_S d = -r` in the least-squares
sense for a random subset `S` of the parameters (`J_S`: the columns of the Jacobian of the
outputs at the points), through lineax (SVD with a cut-off by default), in float64.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree
from jaxtyping import Array, Float, PRNGKeyArray, PyTree

from sciopt import problems
from sciopt.optim import SOLVERS, gauss_newton, least_squares_step
from sciopt.train import (
    AbstractIterativeSolver,
    NonFiniteIteration,
    iterate,
    latest_checkpoint,
)
from sciopt.validate import one_of, positive_float, positive_int, prng_key


def _truncated_normal(key, shape, std):
    return std * jax.random.truncated_normal(key, -2.0, 2.0, shape, jnp.result_type(float))


class PeriodicMLP(eqx.Module):
    """The TENG paper's network: a periodic first layer, then a tanh MLP with a linear head.

    The first layer maps each coordinate `z_j` to `width // d` features
    `a_kj cos(2 pi z_j / period + phi_kj) + c_kj` (learned amplitude, phase and shift), so
    the network is exactly periodic; `tanh` follows, then `depth - 2` dense tanh layers of
    `width`, then a linear output. Weights are LeCun-normal, biases zero, the periodic
    layer's parameters standard normal (truncated at 2).

    **Arguments:**

    - `dim`: the number of coordinates `d`.
    - `width`, `depth`: the network (the paper: 40, 7).
    - `period`: the period in every coordinate.
    - `key`: PRNG key.
    """

    amplitude: Float[Array, "m d"]
    phase: Float[Array, "m d"]
    shift: Float[Array, "m d"]
    weights: list[Float[Array, "o i"]]
    biases: list[Float[Array, " o"]]
    head: Float[Array, " w"]
    head_bias: Float[Array, ""]
    period: float = eqx.field(static=True)

    def __init__(self, dim: int = 2, *, width: int = 40, depth: int = 7,
                 period: float = 2 * math.pi, key: PRNGKeyArray):
        prng_key("key", key)
        dim, width = positive_int("dim", dim), positive_int("width", width)
        if positive_int("depth", depth) < 2 or width < dim:
            raise ValueError(f"PeriodicMLP needs depth >= 2 and width >= dim; got depth "
                             f"{depth}, width {width}, dim {dim}")
        self.period = positive_float("period", period)
        m = width // dim
        keys = jax.random.split(key, depth + 2)
        self.amplitude, self.phase, self.shift = (
            _truncated_normal(k, (m, dim), 1.0) for k in keys[:3])
        sizes = [m * dim] + [width] * (depth - 2)
        self.weights = [_truncated_normal(k, (o, i), 1 / math.sqrt(i))
                        for k, i, o in zip(keys[3:], sizes[:-1], sizes[1:], strict=False)]
        self.biases = [jnp.zeros(o, jnp.result_type(float)) for o in sizes[1:]]
        self.head = _truncated_normal(keys[-1], (sizes[-1],), 1 / math.sqrt(sizes[-1]))
        self.head_bias = jnp.zeros((), jnp.result_type(float))

    def features(self, z: Float[Array, " d"]) -> Float[Array, " w"]:
        """The last hidden layer (the output is `head @ features + head_bias`)."""
        angle = (2 * math.pi / self.period) * z + self.phase
        h = jnp.tanh((self.amplitude * jnp.cos(angle) + self.shift).ravel())
        for w, b in zip(self.weights, self.biases, strict=True):
            h = jnp.tanh(w @ h + b)
        return h

    def fit_to(self, points: Float[Array, "n d"], target: Float[Array, " n"],
               steps: int) -> PeriodicMLP:
        """The least-squares fit to `target` at `points` by variable projection: the linear
        head solved exactly, Levenberg-Marquardt on the hidden weights (TENG's initial fit)."""
        return _fit_projected(self, points, target, steps)

    def __call__(self, z: Float[Array, " d"]) -> Float[Array, ""]:
        return self.head @ self.features(z) + self.head_bias


def teng_model(problem: problems.AbstractPeriodic2D, *, width: int = 40, depth: int = 7,
               key: PRNGKeyArray) -> PeriodicMLP:
    """The TENG paper's network (`PeriodicMLP`, width 40, depth 7 by default) for a problem
    on a periodic square."""
    prng_key("key", key)
    if not hasattr(problem, "square"):
        raise ValueError(f"problem must be a problem on a periodic square (heat2d, "
                         f"allen_cahn2d, burgers2d); got {type(problem).__name__}")
    lo, hi = problem.square
    return PeriodicMLP(2, width=width, depth=depth, period=hi - lo, key=key)


@dataclasses.dataclass(frozen=True)
class TENGResult:
    """What `TENG.run` returns.

    - `model`: the network at the final time `t`.
    - `residuals`: each step's least-squares misfit (root mean square of `u - target` at the
      sample points after the last iteration, relative to the target's), `[steps]`.
    - `times`: the time after each step, `[steps]`.
    - `records`: `(t, value)` pairs from `observe`, at `t = 0` and every `record_every`
      steps.
    - `wall_time`: seconds spent stepping (compilation included).
    """

    model: eqx.Module
    t: float
    residuals: np.ndarray
    times: np.ndarray
    records: list[tuple[float, object]]
    wall_time: float


class TENG:
    """Time-evolving natural gradient for `u_t = N[u]` on a periodic square (Chen et al.,
    ICML 2024).

    **Arguments:**

    - `model`: the network, a function of `z = (x, y)` (e.g. `teng_model(problem, key=...)`).
    - `problem`: an `AbstractPeriodic2D` problem whose `residual(u, x, y, t)` is
      `u_t - N[u]` with `N` independent of `t` (`heat2d`, `allen_cahn2d`, `burgers2d`).
    - `dt`, `scheme`: the time step and the integrator, `"euler"` or `"heun"` (second
      order).
    - `inner_steps`: least-squares iterations per stage; the first stage of a step gets
      `first_extra` more (the paper: 5 and 2).
    - `grid`: the sample points are a `grid x grid` uniform grid, shifted by a random offset
      every step (the paper: 256, i.e. 65,536 points).
    - `subset`, `first_subset`: how many parameters (drawn at random, without replacement)
      each iteration updates; `first_subset` for a step's very first iteration (the paper:
      1024 and 1536 of ~8k). `None`: all of them.
    - `solver`, `rcond`, `damping`: the least-squares solve (`"svd"` with singular values
      below `rcond * s_max` cut, `"qr"`, or `"cholesky"` on the normal equations) and an
      optional Tikhonov damping, relative to the mean squared column norm of `J_S` (0:
      plain Gauss–Newton, as in the paper; `"cholesky"` needs it, e.g. `1e-12`, and is
      several times faster than the SVD on a CPU).
    - `initial`: `u0(x, y)` (default the problem's initial condition).
    - `init_steps`, `init_grid`: the initial fit (see `init`).
    - `backtrack`: a Gauss–Newton step that does not lower the misfit is halved, at most
      this many times (then the iteration is skipped); 0 takes every full step, as the
      paper does.
    """

    def __init__(self, model: eqx.Module, problem: problems.AbstractPeriodic2D, *, dt: float,
                 scheme: str = "heun", inner_steps: int = 5, first_extra: int = 2,
                 grid: int = 64, subset: int | None = 1024, first_subset: int | None = 1536,
                 solver: str = "svd", rcond: float | None = 1e-8, damping: float = 0.0,
                 initial: Callable[[Array, Array], Array] | None = None,
                 init_steps: int = 500, init_grid: int | None = None, backtrack: int = 8):
        if not callable(getattr(problem, "pointwise_form", None)):
            raise ValueError(f"problem must be a sciopt problem (e.g. problems.get('heat2d')); "
                             f"got {type(problem).__name__}")
        form = problem.pointwise_form()
        if form is None or form.kind != "evolution" or set(form.periodic) != {0, 1} \
                or form.in_size != 3:
            raise ValueError(f"TENG needs a time-dependent problem on a periodic square "
                             f"(heat2d, allen_cahn2d, burgers2d); got "
                             f"{type(problem).__name__}")
        self.form = form
        lo = float(problem.domain.bounds[0][0])
        self.square = (lo, lo + form.periodic[0])
        if not callable(model):
            raise ValueError(f"model must be a network z = (x, y) -> u (an equinox module); "
                             f"got {type(model).__name__}")
        try:
            out = eqx.filter_eval_shape(model, jax.ShapeDtypeStruct((2,), jnp.result_type(
                float)))
        except Exception as err:
            raise ValueError(f"model must take one point z = (x, y) of shape (2,) (TENG "
                             f"evolves u(x, y) in time); calling it on shape (2,) fails: "
                             f"{type(err).__name__}: {str(err).splitlines()[0]}") from err
        if getattr(out, "shape", None) not in ((), (1,)):
            raise ValueError(f"model(z) must return a scalar u (shape () or (1,)); it returns "
                             f"{getattr(out, 'shape', type(out).__name__)}")
        self.params, self.static = eqx.partition(model, eqx.is_inexact_array)
        self.size = ravel_pytree(self.params)[0].size
        if not self.size:
            raise ValueError("model has no floating-point parameters to evolve")
        self.problem = problem
        self.dt = positive_float("dt", dt)
        self.scheme = one_of("scheme", scheme, ("euler", "heun"))
        self.inner_steps = positive_int("inner_steps", inner_steps)
        self.first_extra = positive_int("first_extra", first_extra, allow_zero=True)
        self.grid = positive_int("grid", grid)
        self.subset = self._subset("subset", subset)
        self.first_subset = self._subset("first_subset", first_subset)
        self.solver = one_of("solver", solver, SOLVERS)
        if rcond is not None and positive_float("rcond", rcond, allow_zero=True) >= 1:
            raise ValueError(f"rcond must be in [0, 1); got {rcond}")
        self.rcond = rcond
        self.damping = positive_float("damping", damping, allow_zero=True)
        if initial is not None and not callable(initial):
            raise ValueError(f"initial must be a function u0(x, y); got {type(initial).__name__}")
        self.initial = initial or problem.initial_condition
        self.init_steps = positive_int("init_steps", init_steps)
        self.init_grid = positive_int("init_grid", init_grid or grid)
        self.backtrack = positive_int("backtrack", backtrack, allow_zero=True)

    def _subset(self, name: str, value: int | None) -> int:
        return self.size if value is None else min(positive_int(name, value), self.size)

    # -- pieces ---------------------------------------------------------------------------

    def model(self, params) -> eqx.Module:
        return eqx.combine(params, self.static)

    def rhs(self, model: eqx.Module, p: Float[Array, " 2"]) -> Float[Array, ""]:
        """`N[u](p)`: minus the residual of the time-independent field `u = model`."""
        return -self.form.residual(lambda z: model(z[:2]), jnp.stack([p[0], p[1], p[0] * 0]))

    def points(self, key: PRNGKeyArray | None, n: int | None = None) -> Float[Array, "m 2"]:
        """The `n x n` grid of the square, shifted by a random offset drawn from `key`
        (unshifted for `key=None`)."""
        n = n or self.grid
        lo, hi = self.square
        h = (hi - lo) / n
        g = lo + h * jnp.arange(n, dtype=jnp.result_type(float))
        pts = jnp.stack(jnp.meshgrid(g, g, indexing="ij"), -1).reshape(-1, 2)
        if key is None:
            return pts
        return pts + jax.random.uniform(key, (2,), pts.dtype, 0.0, h)

    def _relative(self, misfit, target):
        scale = jnp.sqrt(jnp.mean(target**2))
        return jnp.sqrt(jnp.mean(misfit**2)) / jnp.where(scale > 0, scale, 1.0)

    def fit(self, params, pts: Float[Array, "m 2"], target: Float[Array, " m"],
            iterations: int, key: PRNGKeyArray, first_subset: int | None = None):
        """`iterations` Gauss–Newton updates of `min sum_i (u(pts_i) - target_i)^2`, each on
        a random subset of the parameters (`first_subset` for the first, `subset` after);
        returns the parameters and the relative RMS misfit."""
        prng_key("key", key)
        flat, unravel = ravel_pytree(params)

        def output(f, z):
            return self.model(unravel(f))(z)

        def misfit(f):
            return jax.vmap(output, (None, 0))(f, pts) - target

        def update(f, k, size):
            res = misfit(f)
            jac = jax.vmap(jax.grad(output), (None, 0))(f, pts)
            idx = (jnp.arange(self.size) if size == self.size
                   else jax.random.choice(k, self.size, (size,), replace=False))
            jac = jac[:, idx]
            # Tikhonov damping relative to the mean squared column norm of J_S.
            lam = self.damping * jnp.mean(jnp.sum(jac**2, axis=0))
            step = jnp.zeros_like(f).at[idx].set(least_squares_step(
                jac, res, damping=lam, solver=self.solver, rcond=self.rcond))
            # Backtracking: halve the step until the sum of squares falls (at most
            # `self.backtrack` times; the full step is almost always taken near the target).
            sq = jnp.sum(res**2)

            def worse(carry):
                alpha, tries = carry
                return (jnp.sum(misfit(f + alpha * step) ** 2) > sq) & (tries < self.backtrack)

            alpha, _ = jax.lax.while_loop(worse, lambda c: (c[0] / 2, c[1] + 1),
                                          (jnp.ones((), f.dtype), 0))
            better = jnp.sum(misfit(f + alpha * step) ** 2) <= sq
            return jnp.where(better, f + alpha * step, f)

        keys = jax.random.split(key, iterations)
        flat = update(flat, keys[0], first_subset or self.subset)
        if iterations > 1:
            flat, _ = jax.lax.scan(lambda f, k: (update(f, k, self.subset), None), flat,
                                   keys[1:])
        return unravel(flat), self._relative(misfit(flat), target)

    # -- the method -----------------------------------------------------------------------

    def init(self, key: PRNGKeyArray | None = None) -> tuple[eqx.Module, Float[Array, ""]]:
        """Fit the network to `u0` on the `init_grid x init_grid` grid; returns the model and
        the relative RMS misfit there.

        For a `PeriodicMLP` this is variable projection (Golub & Pereyra, 1973): the linear
        head is solved exactly for every hidden state and Levenberg–Marquardt
        (`sciopt.optim.gauss_newton`) moves the hidden parameters on the projected residual
        with Kaufman's Jacobian — far faster than fitting all parameters jointly. Other
        models get Levenberg–Marquardt on all parameters. `key` shifts the grid.
        """
        pts = self.points(key, self.init_grid)
        target = jax.vmap(self.initial)(pts[:, 0], pts[:, 1])
        model = self.model(self.params)
        # A model may carry its own least-squares fit (`fit_to(points, target, steps)`, as
        # PeriodicMLP's variable projection); others get Levenberg-Marquardt on all weights.
        fit_to = getattr(model, "fit_to", None)
        fitted = (fit_to(pts, target, self.init_steps) if callable(fit_to)
                  else _fit_all(model, pts, target, self.init_steps))
        misfit = jax.vmap(fitted)(pts) - target
        return fitted, self._relative(misfit, target)

    def step(self, model: eqx.Module, key: PRNGKeyArray) -> tuple[eqx.Module, Float[Array, ""]]:
        """One time step of length `dt`; returns the model and the least-squares misfit of
        its last stage."""
        prng_key("key", key)
        params = eqx.filter(model, eqx.is_inexact_array)
        k_pts, k1, k2 = jax.random.split(key, 3)
        pts = self.points(k_pts)
        u_n = jax.vmap(model)(pts)
        f_n = jax.vmap(lambda p: self.rhs(model, p))(pts)
        first = self.inner_steps + self.first_extra
        star, res = self.fit(params, pts, u_n + self.dt * f_n, first, k1, self.first_subset)
        if self.scheme == "heun":
            f_star = jax.vmap(lambda p: self.rhs(self.model(star), p))(pts)
            star, res = self.fit(star, pts, u_n + 0.5 * self.dt * (f_n + f_star),
                                 self.inner_steps, k2)
        return self.model(star), res

    def run(self, model: eqx.Module, num_steps: int, key: PRNGKeyArray, *,
            record_every: int | None = None,
            observe: Callable[[eqx.Module, float], object] | None = None,
            checkpoint_dir: str | Path | None = None, resume: bool = True,
            metrics_path: str | Path | None = None, progress: str = "auto") -> TENGResult:
        """`num_steps` steps through `sciopt.train.iterate`, compiled in chunks of
        `record_every` steps under `lax.scan`.

        After each chunk: `observe(model, t)` is recorded (e.g. the error against a
        reference), the state is checkpointed (atomically) when `checkpoint_dir` is given,
        and progress is reported (the misfit of every step goes to `metrics_path`, JSON
        lines, when given); a non-finite misfit or network raises
        `FloatingPointError`. With `resume=True` a run restarts from the newest checkpoint
        there; step `s` gets `fold_in` of the key with `s`, so a resumed run is the
        uninterrupted one.
        """
        prng_key("key", key)
        num_steps = positive_int("num_steps", num_steps)
        every = min(positive_int("record_every", record_every or num_steps), num_steps)
        solver = _TENGSteps(self, eqx.filter(model, eqx.is_inexact_array))
        records = []
        if observe is not None and not (checkpoint_dir is not None and resume
                                        and latest_checkpoint(checkpoint_dir) is not None):
            records.append((0.0, observe(model, 0.0)))

        def on_chunk(params, step):
            if observe is not None:
                records.append((step * self.dt, observe(self.model(params), step * self.dt)))

        tic = time.perf_counter()
        try:
            out = iterate(solver, num_steps, key=key, chunk_size=every,
                          checkpoint_dir=checkpoint_dir, resume=resume, on_chunk=on_chunk,
                          metrics_path=metrics_path or False,
                          progress=progress, description="teng")
        except NonFiniteIteration as err:
            raise FloatingPointError(f"TENG: non-finite least-squares misfit or network "
                                     f"({err})") from err
        start = out.resumed_from or 0
        return TENGResult(self.model(out.state), out.step * self.dt, out.metrics["misfit"],
                          self.dt * np.arange(start + 1, out.step + 1), records,
                          time.perf_counter() - tic)


class _TENGSteps(AbstractIterativeSolver):
    """TENG's time steps as an iterative solver: the state is the network's arrays."""

    teng: TENG = eqx.field(static=True)
    params: PyTree

    def init(self, key):
        return self.params

    def step(self, params, key):
        new, misfit = self.teng.step(self.teng.model(params), key)
        return eqx.filter(new, eqx.is_inexact_array), {"misfit": misfit}


def _fit_projected(model: PeriodicMLP, pts, target, iterations: int) -> PeriodicMLP:
    """Variable projection for a network with a linear head (see `TENG.init`)."""
    hidden, static = eqx.partition(model, eqx.is_inexact_array)
    hidden = eqx.tree_at(lambda m: (m.head, m.head_bias), hidden, replace=(None, None))
    flat0, unravel = ravel_pytree(hidden)

    def features(f, z):
        return jnp.append(eqx.combine(unravel(f), static).features(z), 1.0)

    def project(f):
        phi = jax.vmap(features, (None, 0))(f, pts)
        q, r = jnp.linalg.qr(phi)
        coef = jax.scipy.linalg.solve_triangular(r, q.T @ target)
        return q, phi @ coef - target, coef

    def residual_fn(f):
        return project(f)[1]

    def jacobian_fn(f):
        q, res, coef = project(f)
        jac = jax.vmap(lambda z: jax.grad(lambda g: features(g, z) @ coef)(f))(pts)
        return res, jac - q @ (q.T @ jac)     # Kaufman's approximation

    flat = _levenberg_marquardt(flat0, residual_fn, jacobian_fn, iterations)
    coef = project(flat)[2]
    fitted = eqx.combine(unravel(flat), static)
    return eqx.tree_at(lambda m: (m.head, m.head_bias), fitted, replace=(coef[:-1], coef[-1]),
                       is_leaf=lambda x: x is None)


def _fit_all(model: eqx.Module, pts, target, iterations: int) -> eqx.Module:
    """Levenberg–Marquardt on all parameters of `model`."""
    params, static = eqx.partition(model, eqx.is_inexact_array)

    def output(p, z):
        return eqx.combine(p, static)(z)

    def residual_fn(p):
        return jax.vmap(output, (None, 0))(p, pts) - target

    def jacobian_fn(p):
        return residual_fn(p), jax.vmap(jax.grad(output), (None, 0))(p, pts)

    return eqx.combine(_levenberg_marquardt(params, residual_fn, jacobian_fn, iterations),
                       static)


@eqx.filter_jit
def _levenberg_marquardt(params, residual_fn, jacobian_fn, iterations: int):
    """`iterations` updates of `sciopt.optim.gauss_newton` under one `lax.scan`."""
    opt = gauss_newton(1e-3)

    def body(carry, _):
        p, state = carry
        step, state = opt.update(None, state, p, residual_fn=residual_fn,
                                 jacobian_fn=jacobian_fn)
        return (jax.tree.map(jnp.add, p, step), state), None

    return jax.lax.scan(body, (params, opt.init(params)), None, length=iterations)[0][0]
