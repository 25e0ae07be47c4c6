"""Geometries of optimal transport problems: a dense cost matrix, or two point clouds with a
cost function whose pairwise work goes through `sciopt.kernels` (never n x m in memory).

Every geometry answers the same three questions, at any (traced) epsilon:

- `lse_rows(v, eps)[i] = log sum_j exp(-C_ij / eps + v_j)` and `lse_cols(u, eps)` (the
  Sinkhorn updates);
- `plan_apply(alpha, beta, eps, v)[i] = sum_j exp(alpha_i + beta_j - C_ij / eps) w_ij v_j`
  with `w = 1` or `w = C` (transport-plan products and the transport cost without the plan).

Point clouds carry epsilon and the log-weights as extra coordinates of the points, so one
compiled streaming kernel serves every epsilon of an annealing schedule.
"""

from __future__ import annotations

from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Bool, Float

from sciopt.kernels import kernel_logsumexp, kernel_matvec, pairwise, squared_distances
from sciopt.validate import array, is_concrete

Cost = Callable[[Float[Array, " d"], Float[Array, " d"]], Float[Array, ""]]


class SqEuclidean(eqx.Module):
    """`c(x, y) = |x - y|^2`, with a vectorised block form."""

    def __call__(self, x: Float[Array, " d"], y: Float[Array, " d"]) -> Float[Array, ""]:
        return jnp.sum((x - y) ** 2)

    def block(self, x: Float[Array, "a d"], y: Float[Array, "b d"]) -> Float[Array, "a b"]:
        return squared_distances(x, y)


def _costs(cost: Cost, rows: Array, cols: Array, transpose: bool) -> Array:
    """`c(row, col)` for a block pair, or `c(col, row)` laid out `[rows, cols]` when the
    rows are y points (`transpose`)."""
    return pairwise(cost, cols, rows).T if transpose else pairwise(cost, rows, cols)


class _Score(eqx.Module):
    """`-c(x, y) / eps` on augmented points: rows `[x, 1/eps]`, columns `[y, 0]`; with
    `transpose`, rows are y points and the cost is `c(col, row)`."""

    cost: Cost = eqx.field(static=True)
    transpose: bool = eqx.field(static=True)

    def __call__(self, a, b):
        return self.block(a[None], b[None])[0, 0]

    def block(self, a, b):
        return -_costs(self.cost, a[:, :-1], b[:, :-1], self.transpose) * a[:, -1:]


class _PlanKernel(eqx.Module):
    """`exp(alpha_i + beta_j - c_ij / eps) [* c_ij]` on rows `[x, alpha, 1/eps]` and columns
    `[y, beta, 0]` (`transpose`: rows are y points, as in `_Score`)."""

    cost: Cost = eqx.field(static=True)
    transpose: bool = eqx.field(static=True)
    times_cost: bool = eqx.field(static=True)

    def __call__(self, a, b):
        return self.block(a[None], b[None])[0, 0]

    def block(self, a, b):
        c = _costs(self.cost, a[:, :-2], b[:, :-2], self.transpose)
        out = jnp.exp(a[:, -2:-1] + b[:, -2][None, :] - c * a[:, -1:])
        return out * c if self.times_cost else out


class AbstractGeometry(eqx.Module):
    """The cost between two finite sets of points (see the module docstring)."""

    @property
    def shape(self) -> tuple[int, int]:
        raise NotImplementedError

    def lse_rows(self, v: Float[Array, " m"], eps) -> Float[Array, " n"]:
        raise NotImplementedError

    def lse_cols(self, u: Float[Array, " n"], eps) -> Float[Array, " m"]:
        raise NotImplementedError

    def plan_apply(self, alpha, beta, eps, v, *, transpose: bool = False,
                   times_cost: bool = False):
        raise NotImplementedError

    def cost_matrix(self) -> Float[Array, "n m"]:
        raise NotImplementedError

    def finite_points(self) -> Bool[Array, ""]:
        """Whether the points behind the cost are finite (for a cost matrix: no NaN or
        `-inf`; it may hold `+inf` for forbidden pairs)."""
        return jnp.asarray(True)


class Geometry(AbstractGeometry):
    """A dense cost matrix `C [n, m]` (any costs; the whole matrix is held in memory).

    **Arguments:**

    - `cost_matrix`: `[n, m]`, no NaN or `-inf` (`+inf` forbids a pair); integer costs
      are promoted to floats.
    """

    cost: Float[Array, "n m"]

    def __init__(self, cost_matrix: Float[Array, "n m"]):
        cost = array("cost_matrix", cost_matrix, finite=False)
        with jax.ensure_compile_time_eval():
            bad = jnp.any(jnp.isnan(cost) | (cost == -jnp.inf))
        if is_concrete(bad) and bool(bad):
            raise ValueError("cost_matrix must not contain NaN or -Inf (+Inf forbids a pair)")
        if cost.ndim != 2 or 0 in cost.shape:
            raise ValueError(f"cost_matrix must be a non-empty [n, m] array; got shape "
                             f"{cost.shape}")
        if not jnp.issubdtype(cost.dtype, jnp.floating):
            cost = cost.astype(float)
        self.cost = cost

    @property
    def shape(self) -> tuple[int, int]:
        return tuple(self.cost.shape)

    def lse_rows(self, v, eps):
        return jax.nn.logsumexp(-self.cost / eps + v[None, :], axis=1)

    def lse_cols(self, u, eps):
        return jax.nn.logsumexp(-self.cost / eps + u[:, None], axis=0)

    def plan_apply(self, alpha, beta, eps, v, *, transpose=False, times_cost=False):
        plan = jnp.exp(alpha[:, None] + beta[None, :] - self.cost / eps)
        if times_cost:
            plan = plan * self.cost
        return (plan.T if transpose else plan) @ v

    def cost_matrix(self):
        return self.cost

    def finite_points(self) -> Bool[Array, ""]:
        # +inf forbids a pair; NaN and -inf have no meaning
        return ~jnp.any(jnp.isnan(self.cost) | (self.cost == -jnp.inf))


class PointCloud(AbstractGeometry):
    """Two point clouds and a cost function; the pairwise work streams in blocks through
    `sciopt.kernels.kernel_logsumexp` / `kernel_matvec`, so memory is O((n + m) d + block^2)
    and n = m = 1e6 fits where an n x m matrix would not.

    **Arguments:**

    - `x`: `[n, d]`; `y`: `[m, d]`.
    - `cost_fn`: a traceable `c(x_i [d], y_j [d]) -> scalar` (default squared Euclidean); an
      object with a `block(x [a, d], y [b, d]) -> [a, b]` method is used block-wise.
    - `block_size`: rows and columns per streamed block (default 1024, capped at n, m).
    - `mesh`: a `jax.sharding.Mesh`; rows are split over its first axis.
    """

    x: Float[Array, "n d"]
    y: Float[Array, "m d"]
    cost_fn: Cost = eqx.field(static=True)
    block_size: int | None = eqx.field(static=True)
    mesh: jax.sharding.Mesh | None = eqx.field(static=True)

    def __init__(self, x: Float[Array, "n d"], y: Float[Array, "m d"],
                 cost_fn: Cost | None = None, *, block_size: int | None = None,
                 mesh: jax.sharding.Mesh | None = None):
        x, y = array("x", x, traced=False), array("y", y, traced=False)
        if x.ndim != 2 or y.ndim != 2 or x.shape[1] != y.shape[1] or 0 in (*x.shape,
                                                                             *y.shape):
            raise ValueError(f"x and y must be non-empty point clouds [n, d] and [m, d] with "
                             f"the same d; got shapes {x.shape} and {y.shape}")
        dtype = jnp.result_type(x, y, float)
        self.x, self.y = x.astype(dtype), y.astype(dtype)
        cost_fn = SqEuclidean() if cost_fn is None else cost_fn
        if not callable(cost_fn):
            raise ValueError(f"cost_fn must be a function of two points; got {cost_fn!r}")
        out = jax.eval_shape(cost_fn, self.x[0], self.y[0]).shape
        if out != ():
            raise ValueError(f"cost_fn(x_i, y_j) must return a scalar; it returns shape {out}")
        self.cost_fn, self.block_size, self.mesh = cost_fn, block_size, mesh

    @property
    def shape(self) -> tuple[int, int]:
        return (self.x.shape[0], self.y.shape[0])

    def finite_points(self) -> Bool[Array, ""]:
        return jnp.all(jnp.isfinite(self.x)) & jnp.all(jnp.isfinite(self.y))

    def _aug(self, points, *columns):
        cols = [jnp.broadcast_to(jnp.asarray(c, points.dtype), (points.shape[0],))[:, None]
                for c in columns]
        return jnp.concatenate([points, *cols], axis=1)

    def _lse(self, rows, cols, v, eps, transpose):
        return kernel_logsumexp(_Score(self.cost_fn, transpose), self._aug(rows, 1 / eps),
                                self._aug(cols, 0.0), v, block_size=self.block_size,
                                mesh=self.mesh, check=False)

    def lse_rows(self, v, eps):
        return self._lse(self.x, self.y, v, eps, False)

    def lse_cols(self, u, eps):
        return self._lse(self.y, self.x, u, eps, True)

    def plan_apply(self, alpha, beta, eps, v, *, transpose=False, times_cost=False):
        rows, cols = (self.y, self.x) if transpose else (self.x, self.y)
        if transpose:
            alpha, beta = beta, alpha
        kernel = _PlanKernel(self.cost_fn, transpose, times_cost)
        return kernel_matvec(kernel, self._aug(rows, alpha, 1 / eps),
                             self._aug(cols, beta, 0.0), v, block_size=self.block_size,
                             mesh=self.mesh, check=False)

    def lse_points(self, z: Float[Array, "k d"], v: Float[Array, " m"], eps
                   ) -> Float[Array, " k"]:
        """`log sum_j exp(-c(z_k, y_j) / eps + v_j)` for new points `z` (out-of-sample
        potentials and the entropic map)."""
        return kernel_logsumexp(_Score(self.cost_fn, False), self._aug(z, 1 / eps),
                                self._aug(self.y, 0.0), v, block_size=self.block_size,
                                check=False)

    def apply_points(self, z: Float[Array, "k d"], alpha: Float[Array, " k"],
                     beta: Float[Array, " m"], eps, v: Float[Array, "m ..."]):
        """`sum_j exp(alpha_k + beta_j - c(z_k, y_j) / eps) v_j` for new points `z`."""
        return kernel_matvec(_PlanKernel(self.cost_fn, False, False),
                             self._aug(z, alpha, 1 / eps), self._aug(self.y, beta, 0.0), v,
                             block_size=self.block_size, check=False)

    def cost_matrix(self):
        return pairwise(self.cost_fn, self.x, self.y)
