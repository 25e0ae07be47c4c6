"""Steady elliptic problems on the unit square with finite-difference references: Poisson
(manufactured), Helmholtz (manufactured, PINNacle's setting) and Darcy flow (random
piecewise-constant or lognormal permeability, the FNO / PDEBench setting)."""

from __future__ import annotations

from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, PRNGKeyArray

from ..derivatives import laplacian
from ..geometry import Box
from ..solvers import PeriodicGrid, solve_elliptic_2d
from ._pointwise import PointwiseForm, steady_form
from ._reference import DataPlan, ReferenceRun, on_grid, steady_2d_run
from ._registry import AbstractProblem, Param, positive, register


def _nodes(coords: dict[str, Array]) -> tuple[Array, Array]:
    x, y = np.asarray(coords["x"]), np.asarray(coords["y"])  # checked concretely
    for name, c in (("x", x), ("y", y)):
        if c.ndim != 1 or len(c) < 3 or abs(float(c[0])) > 1e-12 or abs(float(c[-1]) - 1) > 1e-12:
            raise ValueError(f"coords[{name!r}] must be nodes from 0 to 1 (endpoints "
                             f"included, at least 3)")
    return jnp.meshgrid(x, y, indexing="ij")


class _AbstractUnitSquare(AbstractProblem):
    @property
    def domain(self) -> Box:
        return Box([0.0, 0.0], [1.0, 1.0])

    def reference_run(self, resolution, t=None, *, dt=None) -> ReferenceRun:
        """Finite differences on `resolution` nodes per axis of the unit square."""
        return steady_2d_run(self, resolution)


class Poisson2D(_AbstractUnitSquare):
    """`-Delta u = f` on the unit square with Dirichlet data from the manufactured solution
    `u = sin(pi a x) sin(pi b y) + exp(x) y` (f computed with exact Taylor-mode
    Laplacians)."""

    a: int = eqx.field(static=True)
    b: int = eqx.field(static=True)

    @property
    def parameters(self) -> dict[str, Any]:
        return {"a": self.a, "b": self.b}

    def solution(self, p: Float[Array, "... 2"]) -> Float[Array, "..."]:
        x, y = p[..., 0], p[..., 1]
        return jnp.sin(jnp.pi * self.a * x) * jnp.sin(jnp.pi * self.b * y) + jnp.exp(x) * y

    def source(self, p: Float[Array, " 2"]) -> Float[Array, ""]:
        return -laplacian(self.solution, p)

    def exact_solution(self, coords, t=None):
        return on_grid(self.solution, coords, None)

    def pointwise_form(self) -> PointwiseForm:
        return steady_form(self)

    def residual(self, u, p: Float[Array, " 2"]) -> Float[Array, ""]:
        return -laplacian(u, p) - self.source(p)

    def reference(self, coords, t=None) -> Float[Array, "1 nx ny 1"]:
        """Second-order finite differences (CG) on the nodes `coords["x"] x coords["y"]`."""
        xx, yy = _nodes(coords)
        p = jnp.stack([xx, yy], -1)
        f = jax.vmap(jax.vmap(self.source))(p)
        u = solve_elliptic_2d(f, lengths=(1.0, 1.0), boundary=self.solution(p))
        return u[None, ..., None]


class Helmholtz2D(_AbstractUnitSquare):
    """`-Delta u - k^2 u = f` on the unit square, `u = 0` on the boundary, manufactured
    `u = sin(a pi x) sin(b pi y)` (PINNacle's Helmholtz: a = 1, b = 4, k = 1)."""

    a: int = eqx.field(static=True)
    b: int = eqx.field(static=True)
    k: float = eqx.field(static=True)

    @property
    def parameters(self) -> dict[str, Any]:
        return {"a": self.a, "b": self.b, "k": self.k}

    def solution(self, p):
        return jnp.sin(jnp.pi * self.a * p[..., 0]) * jnp.sin(jnp.pi * self.b * p[..., 1])

    def source(self, p):
        return ((jnp.pi**2 * (self.a**2 + self.b**2) - self.k**2) * self.solution(p))

    def residual(self, u, p):
        return -laplacian(u, p) - self.k**2 * u(p) - self.source(p)

    def exact_solution(self, coords, t=None):
        return on_grid(self.solution, coords, None)

    def pointwise_form(self) -> PointwiseForm:
        return steady_form(self)

    def reference(self, coords, t=None):
        """Second-order finite differences (CG below the first eigenvalue, GMRES above)."""
        xx, yy = _nodes(coords)
        f = jax.vmap(jax.vmap(self.source))(jnp.stack([xx, yy], -1))
        u = solve_elliptic_2d(f, lengths=(1.0, 1.0), k2=self.k**2)
        return u[None, ..., None]


class Darcy2D(_AbstractUnitSquare):
    """`-div(a grad u) = f` on the unit square, `u = 0` on the boundary, with a random
    permeability `a`: `"piecewise"` (`high` where a Gaussian random field is >= 0, `low`
    elsewhere; FNO's setting 12 / 3) or `"lognormal"` (`exp` of the field)."""

    coefficient: str = eqx.field(static=True)
    high: float = eqx.field(static=True)
    low: float = eqx.field(static=True)
    length_scale: float = eqx.field(static=True)
    forcing: float = eqx.field(static=True)

    @property
    def parameters(self) -> dict[str, Any]:
        return {"coefficient": self.coefficient, "high": self.high, "low": self.low,
                "length_scale": self.length_scale, "forcing": self.forcing}

    def sample_coefficient(self, key: PRNGKeyArray, n: int) -> Float[Array, "n n"]:
        """A permeability field on the `n x n` nodes of the unit square."""
        from ..solvers import gaussian_random_field

        even = n + (n % 2)
        field = gaussian_random_field(key, PeriodicGrid([even, even], [1.0, 1.0]),
                                      length_scale=self.length_scale)[:n, :n]
        if self.coefficient == "piecewise":
            return jnp.where(field >= 0, self.high, self.low)
        return jnp.exp(field)

    def solve(self, a: Float[Array, "n n"]) -> Float[Array, "n n"]:
        """The pressure for permeability `a` on the nodes of the unit square."""
        return solve_elliptic_2d(jnp.full_like(a, self.forcing), lengths=(1.0, 1.0),
                                 coefficient=a)

    def reference(self, coords, t=None, *, key: PRNGKeyArray | None = None):
        """The pressure for a permeability drawn with `key` (default `key(0)`)."""
        xx, _ = _nodes(coords)
        a = self.sample_coefficient(jax.random.key(0) if key is None else key, xx.shape[0])
        return self.solve(a)[None, ..., None]

    def data_plan(self, resolution, *, seed, num_times, t_final, dt, field, default_field
                  ) -> DataPlan:
        """Permeabilities drawn from the problem's own parameters, and their pressures, on
        `resolution` nodes per axis (PDEBench's Darcy layout: `tensor [sample, 1, x, y]`,
        the coefficient as `nu`)."""
        if not default_field:
            raise ValueError("darcy2d draws its permeability from the problem's own "
                             "parameters (--param length_scale=...); the initial-condition "
                             "field options do not apply")
        if resolution < 3:
            raise ValueError(f"resolution must be at least 3 nodes; got {resolution}")
        nodes = np.linspace(0.0, 1.0, resolution)

        def draw(i):
            return self.sample_coefficient(jax.random.fold_in(jax.random.key(seed), i),
                                           resolution)

        return DataPlan(
            draw=draw,
            solve=lambda a: {"tensor": jax.vmap(self.solve)(a)[:, None], "nu": a},
            check=lambda: None,
            times=np.zeros(1), coords={"x": nodes, "y": nodes},
            solver={"name": "finite_differences_cg", "order": 2, "rtol": 1e-11,
                    "resolution": resolution},
            metadata={"coefficient": self.parameters},
            config={},
            advice="the coefficient field is out of range",
        )

    def reference_run(self, resolution, t=None, *, dt=None) -> ReferenceRun:
        """The pressure for the permeability drawn with `key(0)`, shown beside it."""
        return steady_2d_run(self, resolution, {"a": np.asarray(
            self.sample_coefficient(jax.random.key(0), max(resolution, 3)))})


def _modes(v: int) -> str | None:
    return None if v >= 1 else "must be at least 1"


register("poisson2d", Poisson2D,
         (Param("a", 1, "x frequency of the manufactured solution", int, _modes),
          Param("b", 2, "y frequency of the manufactured solution", int, _modes)),
         summary="-Delta u = f on [0, 1]^2, manufactured solution, Dirichlet data",
         family="poisson")
register("helmholtz2d", Helmholtz2D,
         (Param("a", 1, "x frequency", int, _modes), Param("b", 4, "y frequency", int, _modes),
          Param("k", 1.0, "wavenumber", float, positive)),
         summary="-Delta u - k^2 u = f on [0, 1]^2, u = 0 on the boundary", family="helmholtz")
register("darcy2d", Darcy2D,
         (Param("coefficient", "piecewise", "permeability: piecewise or lognormal", str,
                choices=("piecewise", "lognormal")),
          Param("high", 12.0, "piecewise: value where the field is >= 0", float, positive),
          Param("low", 3.0, "piecewise: value where the field is < 0", float, positive),
          Param("length_scale", 0.1, "correlation length of the random field", float,
                positive),
          Param("forcing", 1.0, "constant source f", float)),
         summary="-div(a grad u) = f on [0, 1]^2, random permeability, u = 0 on the boundary",
         family="darcy")

