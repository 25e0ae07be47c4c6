"""Periodic semilinear problems in one dimension, `u_t = L u + N(u)`, with pseudo-spectral
ETDRK4 references: linear advection, viscous Burgers, Allen-Cahn, Kuramoto-Sivashinsky and
Korteweg-de Vries.
"""

from __future__ import annotations

import abc
import math
from typing import Any, ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Complex, Float

from ..geometry import Torus
from ..solvers import (
    PeriodicGrid,
    gaussian_random_field,
    matern_random_field,
    solve_on_grid,
)
from ..validate import is_concrete, positive_float
from ._pointwise import (
    Characteristics,
    PointwiseForm,
    evolution_form_1d,
    evolution_form_2d,
)
from ._reference import DataPlan, ReferenceRun, on_grid, time_1d_run, time_2d_run
from ._registry import AbstractProblem, Param, positive, register, save_schedule


class AbstractPeriodic(AbstractProblem):
    """A problem `u_t = L u + N(u)` on a periodic box (1D or 2D), solved by pseudo-spectral
    ETDRK4 with the 2/3 rule. Subclasses give the box, the initial condition, the symbol of
    `L` and `N`; `solve` runs any batch of initial conditions (the dataset generator's entry
    point) and `reference` the problem's own initial condition."""

    t_final: eqx.AbstractVar[float]
    ndim: ClassVar[int]

    @property
    @abc.abstractmethod
    def default_dt(self) -> float: ...

    @abc.abstractmethod
    def grid(self, n: int) -> PeriodicGrid:
        """The periodic grid with `n` points per axis."""

    @abc.abstractmethod
    def initial_condition(self, *x: Float[Array, "..."]) -> Float[Array, "..."]:
        """The initial condition at coordinates `x` (one array per axis)."""

    @abc.abstractmethod
    def symbol(self, *k: Float[Array, "..."]) -> Complex[Array, "..."]:
        """The Fourier symbol of the linear part: `(L u)^ = symbol(k) u^`."""

    def nonlinear(self, grid: PeriodicGrid, v: Complex[Array, "..."]) -> Complex[Array, "..."]:
        """The nonlinear part in spectral space (zero unless overridden)."""
        return jnp.zeros_like(v)

    def stable_dt(self, grid: PeriodicGrid, u0: Float[Array, "..."]) -> float:
        """The largest step the explicit treatment of `N` tolerates for `u0` on `grid`
        (ETDRK4 is exact for `L`); infinite for linear problems."""
        return math.inf

    def solve(self, u0: Float[Array, "..."], t: Float[Array, " t"], *,
              dt: float | None = None) -> Float[Array, "..."]:
        """Trajectories `[..., t, n (, n)]` from initial conditions `u0` `[..., n (, n)]`
        (any leading batch axes) on the grid of `u0.shape[-1]` points per axis, saved at the
        uniformly spaced times `t` starting at 0. The step is the largest `<= dt` (default
        `default_dt`) that divides the save interval.

        Raises `ValueError` if the step exceeds `stable_dt` (and says the limit).
        """
        u0 = jnp.asarray(u0)
        d = self.ndim
        if u0.ndim < d or len(set(u0.shape[-d:])) != 1:
            raise ValueError(f"{type(self).__name__}.solve needs initial conditions with "
                             f"{d} equal trailing grid axes; got shape {u0.shape}")
        grid = self.grid(u0.shape[-1])
        t, per_save, step = save_schedule(t, dt, self.default_dt)
        # Concrete initial conditions are checked here; traced ones (inside jit) cannot be,
        # and callers check their outputs for non-finite values instead.
        limit = math.inf
        if is_concrete(u0, self):
            with jax.ensure_compile_time_eval():  # concrete inside a caller's jit too
                limit = self.stable_dt(grid, u0)
        if step > limit:
            raise ValueError(f"time step {step:.3g} exceeds the stability limit {limit:.3g} of "
                             f"{type(self).__name__} on {grid.sizes[0]} points per axis; "
                             f"pass dt <= {limit:.3g}")
        symbol = self.symbol(*grid.wavenumbers())
        mask = grid.dealias_mask()

        def one(u):
            return solve_on_grid(grid, symbol, lambda w: mask * self.nonlinear(grid, w), u,
                                 dt=step, num_steps=per_save * (len(t) - 1),
                                 save_every=per_save)

        shape = u0.shape[-d:]
        out = jax.vmap(one)(u0.reshape(-1, *shape))
        return out.reshape(*u0.shape[:-d], len(t), *shape)

    def reference(self, coords: dict[str, Float[Array, " n"]], t: Float[Array, " t"], *,
                  dt: float | None = None) -> Float[Array, "t ..."]:
        """ETDRK4 from the problem's initial condition on the periodic grid whose axes are
        `coords["x"]` (and `coords["y"]` in 2D, the same points), uniform with `n` even,
        saved at the uniformly spaced times `t` starting at 0; shape `[t, n (, n), 1]`."""
        x = np.asarray(coords["x"])
        grid = self.grid(len(x))
        what = f"{type(self).__name__}.reference"
        grid.check_axis(x, what)
        if self.ndim == 2 and "y" in coords:
            grid.check_axis(coords["y"], what)
        u0 = self.initial_condition(*grid.points())
        return self.solve(u0, t, dt=dt)[..., None]

    def data_plan(self, resolution, *, seed, num_times, t_final, dt, field, default_field
                  ) -> DataPlan:
        """Random initial conditions (a periodic Gaussian random field: `field["covariance"]`
        `"matern"` or squared-exponential) solved by ETDRK4 to `t_final` (default the
        problem's), saved at `num_times` uniform times."""
        if num_times < 2:
            raise ValueError(f"num_times must be at least 2; got {num_times}")
        grid = self.grid(resolution)
        t_final = self.t_final if t_final is None else positive_float("t_final", t_final)
        times = np.linspace(0.0, t_final, num_times)
        if field["covariance"] == "matern":
            spec = {"kind": "gaussian_random_field", "covariance":
                    "sigma^2 (-Laplacian + tau^2)^(-alpha), periodic, zero mean mode",
                    **{k: field[k] for k in ("alpha", "tau", "sigma")}}

            def draw(i):
                key = jax.random.fold_in(jax.random.key(seed), i)
                return matern_random_field(key, grid, alpha=field["alpha"], tau=field["tau"],
                                           sigma=field["sigma"])
        else:
            length_scale = field["length_scale"] * grid.lengths[0]  # a fraction of the period
            spec = {"kind": "gaussian_random_field",
                    "covariance": "squared_exponential, periodic",
                    "length_scale": length_scale, "std": field["std"], "mean": 0.0}

            def draw(i):
                key = jax.random.fold_in(jax.random.key(seed), i)
                return gaussian_random_field(key, grid, length_scale=length_scale,
                                             std=field["std"])

        _, _, step = save_schedule(times, dt, self.default_dt)
        return DataPlan(
            draw=draw,
            solve=lambda u0: {"tensor": self.solve(u0, times, dt=dt)},
            check=lambda: self.solve(jax.jit(draw)(0)[None], times[:2], dt=dt),
            times=times, coords={name: np.asarray(a) for name, a in
                                 zip("xyz"[: grid.ndim], grid.axes(), strict=True)},
            solver={"name": "etdrk4", "dt": step, "dealias": "2/3",
                    "resolution": resolution, "contour_points": 64},
            metadata={"initial_condition": spec},
            config={"times": times.tolist(), "dt": dt, "initial_condition": spec},
            advice=f"lower dt (now {dt or self.default_dt}) or the initial condition's "
                   f"amplitude",
        )

    def reference_run(self, resolution, t, *, dt=None) -> ReferenceRun:
        """ETDRK4 on the periodic grid of `resolution` points per axis."""
        x = np.asarray(self.grid(resolution).axes()[0])
        run = time_2d_run if self.ndim == 2 else time_1d_run
        return run(self, x, t, dt=dt)


class AbstractPeriodic1D(AbstractPeriodic):
    """A periodic problem on an interval."""

    ndim = 1

    @property
    @abc.abstractmethod
    def interval(self) -> tuple[float, float]: ...

    @abc.abstractmethod
    def residual(self, u, x: Float[Array, ""], t: Float[Array, ""]) -> Float[Array, ""]:
        """The PDE residual of a scalar function `u(x, t)` at one point."""

    @property
    def domain(self) -> Torus:
        return Torus([self.interval[0]], [self.interval[1]])

    def pointwise_form(self) -> PointwiseForm:
        return evolution_form_1d(self)

    def grid(self, n: int) -> PeriodicGrid:
        lo, hi = self.interval
        return PeriodicGrid(n, hi - lo, lo)


class AbstractPeriodic2D(AbstractPeriodic):
    """A periodic problem on a square `[lo, hi)^2`."""

    ndim = 2

    @property
    @abc.abstractmethod
    def square(self) -> tuple[float, float]: ...

    @abc.abstractmethod
    def residual(self, u, x: Float[Array, ""], y: Float[Array, ""],
                 t: Float[Array, ""]) -> Float[Array, ""]:
        """The PDE residual of a scalar function `u(x, y, t)` at one point."""

    @property
    def domain(self) -> Torus:
        lo, hi = self.square
        return Torus([lo, lo], [hi, hi])

    def pointwise_form(self) -> PointwiseForm | None:
        return evolution_form_2d(self)

    def grid(self, n: int) -> PeriodicGrid:
        lo, hi = self.square
        return PeriodicGrid([n, n], [hi - lo, hi - lo], [lo, lo])


def _advective_dt(grid: PeriodicGrid, u0, coefficient: float) -> float:
    """~0.9 dx / (coefficient max|u|): the ETDRK4 (RK4-like) limit for `c u u_x` with
    spectral derivatives, |c u k_max dt| <= 2.8, with a margin."""
    peak = float(jnp.max(jnp.abs(u0)))
    return math.inf if peak == 0 else 0.9 * grid.spacing[0] / (coefficient * peak)


def reaction_dt(u0, a: float) -> float:
    """The ETDRK4 limit for the Allen-Cahn reaction `a (u - u^3)`: its Jacobian
    `a (1 - 3 u^2)` lies in `[-a (3 max u^2 - 1), a]`, and RK4-like stability needs
    `|lambda dt| <= 2.78` (2.5 with a margin)."""
    peak = float(jnp.max(u0**2))
    return 2.5 / (a * max(1.0, 3 * peak - 1))


def _ux(u, x, t, order=1):
    g = u
    for _ in range(order):
        g = jax.grad(g, argnums=0)
    return g(x, t)


def _ut(u, x, t):
    return jax.grad(u, argnums=1)(x, t)


def _square_flux(grid, v, coefficient):
    """`coefficient * i k (u^2)^` with u from `v` (the conservative quadratic term)."""
    k = grid.wavenumbers()[0]
    u = grid.to_physical(v)
    return coefficient * 1j * k * grid.to_spectral(u * u)


class Advection1D(AbstractPeriodic1D):
    """`u_t + c u_x = 0` on `[0, 2 pi)` with `u(x, 0) = sin(x)` or, with
    `initial="gaussian"`, the Gaussian `exp(-d^2 / (2 (pi/8)^2))` of the periodic distance
    `d` to `pi` (the Lagrangian-PINN paper's setting); exact `u0(x - c t)`. With `c = 50`
    the PINN failure case (Krishnapriyan et al., 2021)."""

    c: float  # an array leaf under a caller's jit / vmap / grad
    initial: str = eqx.field(static=True)
    t_final: float = eqx.field(static=True)
    interval = (0.0, 2 * math.pi)
    default_dt = 1.0

    def initial_condition(self, x):
        if self.initial == "gaussian":
            d = jnp.mod(x - math.pi + math.pi, 2 * math.pi) - math.pi
            return jnp.exp(-(d**2) / (2 * (math.pi / 8) ** 2))
        return jnp.sin(x)

    def solution(self, x, t):
        return self.initial_condition(x - self.c * t)

    def exact_solution(self, coords, t):
        return on_grid(self.solution, coords, t)

    def characteristics(self) -> Characteristics:
        c = float(self.c)
        return Characteristics(c, 0.0, max(abs(c), 1.0))

    def symbol(self, k):
        return -1j * self.c * k

    def residual(self, u, x, t):
        return _ut(u, x, t) + self.c * _ux(u, x, t)

    @property
    def parameters(self) -> dict[str, Any]:
        return {"c": self.c, "initial": self.initial, "t_final": self.t_final}


class Burgers1DPeriodic(AbstractPeriodic1D):
    """`u_t + u u_x = nu u_xx` on `[-L/2, L/2)` (periodic), `u(x, 0) = -sin(2 pi x / L)`.

    The default period `L = 2` is the classic PINN setting of Raissi et al. (`[-1, 1)`,
    `u0 = -sin(pi x)`, nu = 0.01/pi). `L = 1` is the unit period of the operator-learning
    benchmarks (FNO, DGNO: nu = 0.1, random initial conditions, `sciopt data generate`).
    """

    nu: float  # an array leaf under a caller's jit / vmap / grad
    t_final: float = eqx.field(static=True)
    length: float = eqx.field(static=True, default=2.0)
    default_dt = 1e-4

    @property
    def interval(self) -> tuple[float, float]:
        return (-self.length / 2, self.length / 2)

    @property
    def _q(self) -> float:
        return 2 * math.pi / self.length

    def initial_condition(self, x):
        return -jnp.sin(self._q * x)

    def symbol(self, k):
        return -self.nu * k**2 + 0j

    def nonlinear(self, grid, v):
        return _square_flux(grid, v, -0.5)

    def stable_dt(self, grid, u0):
        return _advective_dt(grid, u0, 1.0)

    def solution(self, x: np.ndarray, t: float, *, nodes: int = 8001) -> np.ndarray:
        """The exact solution by the Cole-Hopf transform (NumPy, float64).

        With `q = 2 pi / L`: `u = -int sin(q (x - y)) F(x - y) G(y) dy / int F(x - y) G(y) dy`,
        `F(z) = exp(-cos(q z) / (2 q nu))` and the heat kernel `G(y) = exp(-y^2 / 4 nu t)`,
        by the trapezoidal rule on `nodes` points of `|y| <= max(0.75 L, 12 sqrt(nu t))`,
        weighted in log space (F spans e^(+-1/(2 q nu))). Reference: Basdevant et al.,
        "Spectral and finite difference solutions of the Burgers equation", Comput. Fluids
        14 (1986).
        """
        x = np.atleast_1d(np.asarray(x, dtype=float))
        q = self._q
        if t == 0:
            return -np.sin(q * x)
        width = np.sqrt(4 * self.nu * t)
        y = np.linspace(-1, 1, nodes) * max(0.75 * self.length, 6 * width)
        z = x[:, None] - y[None, :]
        logw = -np.cos(q * z) / (2 * q * self.nu) - (y[None, :] / width) ** 2
        w = np.exp(logw - logw.max(axis=1, keepdims=True))
        return (-np.sin(q * z) * w).sum(1) / w.sum(1)

    def exact_solution(self, coords, t):
        return np.stack([self.solution(coords["x"], float(s)) for s in t])

    def characteristics(self) -> Characteristics:
        lo, hi = self.interval
        x = jnp.linspace(lo, hi, 513)
        scale = float(jnp.max(jnp.abs(jax.vmap(self.initial_condition)(x))))
        return Characteristics(None, float(self.nu), max(scale, 1e-3))

    def residual(self, u, x, t):
        return _ut(u, x, t) + u(x, t) * _ux(u, x, t) - self.nu * _ux(u, x, t, 2)

    @property
    def parameters(self) -> dict[str, Any]:
        return {"nu": self.nu, "t_final": self.t_final, "length": self.length}


class AllenCahn1D(AbstractPeriodic1D):
    """`u_t = eps u_xx + a (u - u^3)` on `[-1, 1)`, `u(x, 0) = x^2 cos(pi x)` (jaxpi's
    setting: eps = 1e-4, a = 5)."""

    epsilon: float  # an array leaf under a caller's jit / vmap / grad
    a: float  # an array leaf under a caller's jit / vmap / grad
    t_final: float = eqx.field(static=True)
    interval = (-1.0, 1.0)
    default_dt = 1e-3

    def initial_condition(self, x):
        return x**2 * jnp.cos(jnp.pi * x)

    def symbol(self, k):
        return -self.epsilon * k**2 + 0j

    def nonlinear(self, grid, v):
        u = grid.to_physical(v)
        return grid.to_spectral(self.a * (u - u**3))

    def stable_dt(self, grid, u0):
        return reaction_dt(u0, self.a)

    def residual(self, u, x, t):
        val = u(x, t)
        return _ut(u, x, t) - self.epsilon * _ux(u, x, t, 2) - self.a * (val - val**3)

    @property
    def parameters(self) -> dict[str, Any]:
        return {"epsilon": self.epsilon, "a": self.a, "t_final": self.t_final}


class KuramotoSivashinsky1D(AbstractPeriodic1D):
    """`u_t + u u_x + u_xx + u_xxxx = 0` on `[0, 32 pi)`,
    `u(x, 0) = cos(x/16) (1 + sin(x/16))` (Kassam & Trefethen, 2005)."""

    t_final: float = eqx.field(static=True)
    interval = (0.0, 32 * math.pi)
    default_dt = 0.25

    def initial_condition(self, x):
        return jnp.cos(x / 16) * (1 + jnp.sin(x / 16))

    def symbol(self, k):
        return k**2 - k**4 + 0j

    def stable_dt(self, grid, u0):
        return _advective_dt(grid, u0, 1.0)

    def nonlinear(self, grid, v):
        return _square_flux(grid, v, -0.5)

    def residual(self, u, x, t):
        return (_ut(u, x, t) + u(x, t) * _ux(u, x, t) + _ux(u, x, t, 2) + _ux(u, x, t, 4))

    @property
    def parameters(self) -> dict[str, Any]:
        return {"t_final": self.t_final}


class KdV1D(AbstractPeriodic1D):
    """`u_t + 6 u u_x + u_xxx = 0` on `[-L/2, L/2)` with the soliton
    `u = (c/2) sech^2(sqrt(c)/2 (x - c t - x0))` as initial condition and exact solution
    (exact up to the exponentially small periodic images)."""

    speed: float = eqx.field(static=True)
    length: float = eqx.field(static=True)
    t_final: float = eqx.field(static=True)
    default_dt = 1e-3

    @property
    def interval(self) -> tuple[float, float]:
        return (-self.length / 2, self.length / 2)

    def solution(self, x, t):
        x0 = -self.length / 4
        z = jnp.sqrt(self.speed) / 2 * (x - self.speed * t - x0)
        return self.speed / 2 / jnp.cosh(z) ** 2

    def exact_solution(self, coords, t):
        return on_grid(self.solution, coords, t)

    def initial_condition(self, x):
        return self.solution(x, jnp.zeros_like(x))

    def symbol(self, k):
        return 1j * k**3

    def stable_dt(self, grid, u0):
        return _advective_dt(grid, u0, 6.0)

    def nonlinear(self, grid, v):
        return _square_flux(grid, v, -3.0)

    def residual(self, u, x, t):
        return _ut(u, x, t) + 6 * u(x, t) * _ux(u, x, t) + _ux(u, x, t, 3)

    @property
    def parameters(self) -> dict[str, Any]:
        return {"speed": self.speed, "length": self.length, "t_final": self.t_final}


register("advection1d", Advection1D,
         (Param("c", 1.0, "advection speed (50 is the PINN failure case)", float),
          Param("initial", "sin", "initial condition: sin or gaussian", str,
                choices=("sin", "gaussian")),
          Param("t_final", 1.0, "final time", float, positive)),
         summary="u_t + c u_x = 0 on [0, 2 pi) periodic; exact sin(x - c t)", family="advection")
register("burgers1d_periodic", Burgers1DPeriodic,
         (Param("nu", 0.01 / math.pi, "viscosity", float, positive),
          Param("t_final", 1.0, "final time", float, positive),
          Param("length", 2.0, "period L: 2 is [-1, 1) (PINNs), 1 the operator benchmarks'",
                float, positive)),
         summary="u_t + u u_x = nu u_xx on [-L/2, L/2) periodic, u0 = -sin(2 pi x / L)",
         family="burgers")
register("allen_cahn1d", AllenCahn1D,
         (Param("epsilon", 1e-4, "diffusion coefficient", float, positive),
          Param("a", 5.0, "reaction strength", float, positive),
          Param("t_final", 1.0, "final time", float, positive)),
         summary="u_t = eps u_xx + a (u - u^3) on [-1, 1) periodic, u0 = x^2 cos(pi x)",
         family="allen_cahn")
register("ks1d", KuramotoSivashinsky1D,
         (Param("t_final", 150.0, "final time", float, positive),),
         summary="u_t + u u_x + u_xx + u_xxxx = 0 on [0, 32 pi) periodic",
         family="kuramoto_sivashinsky")
register("kdv1d", KdV1D,
         (Param("speed", 16.0, "soliton speed", float, positive),
          Param("length", 40.0, "period of the domain", float, positive),
          Param("t_final", 0.5, "final time", float, positive)),
         summary="u_t + 6 u u_x + u_xxx = 0 periodic; exact soliton", family="kdv")
