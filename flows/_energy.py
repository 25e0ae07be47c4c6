"""Mean-field free energies for the particle methods: `MeanFieldEnergy`
(`F(mu) = ∫ V dmu + 1/2 ∫∫ W dmu dmu + G(mu)`, forces through blocked `sciopt.kernels` sums)
and the blob internal energy `BlobInternalEnergy` (Carrillo, Craig & Patacchini 2019)."""

from __future__ import annotations

import math
from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from sciopt.kernels import gaussian_kernel, kernel_matvec
from sciopt.validate import positive_float, real

from ._particles import (
    check_differentiable,
    check_function,
    interaction_force,
)

_UNIT = gaussian_kernel(1.0)

class MeanFieldEnergy(eqx.Module):
    """The energy part of a mean-field free energy (the dynamics add `lambda Ent(mu)`):

        F(mu) = ∫ V dmu + 1/2 ∫∫ W(x, y) dmu(x) dmu(y) + G(mu).

    **Arguments:**

    - `potential`: `V(x [d]) -> scalar`, or `None`.
    - `interaction`: `W(x [d], y [d]) -> scalar`, symmetric (`W(x, y) = W(y, x)`), or
      `None`. Its forces are summed in blocks by `sciopt.kernels` (memory O(N d + block^2)).
    - `functional`: `G(particles [N, d]) -> scalar`, any functional evaluated on the
      empirical measure (e.g. the risk of a mean-field two-layer network whose neurons are
      the particles), or `None`. Its first variation's gradient at particle i is
      `N grad_{x_i} G`.
    - `block_size`, `mesh`: passed to `sciopt.kernels.kernel_matvec` for the interaction.
    """

    potential: Callable | None = None
    interaction: Callable | None = None
    functional: Callable | None = None
    block_size: int | None = eqx.field(static=True, default=None)
    mesh: jax.sharding.Mesh | None = eqx.field(static=True, default=None)

    def __check_init__(self):
        if self.potential is None and self.interaction is None and self.functional is None:
            raise ValueError("MeanFieldEnergy needs at least one of potential, interaction "
                             "and functional")

    def check(self, x: Float[Array, "N d"]) -> None:
        """Trace each term once on `x` and raise a clear error if one does not return a
        scalar."""
        if self.potential is not None:
            check_function("potential", self.potential, x[0])
            check_differentiable("potential", self.potential, x)
        if self.interaction is not None:
            check_function("interaction", self.interaction, x[0], x[0])
        if self.functional is not None:
            check_function("functional", self.functional, x)

    def value(self, x: Float[Array, "N d"]) -> Float[Array, ""]:
        """`F(mu_N)` for the empirical measure of `x` (the interaction's double sum is
        blocked)."""
        n = x.shape[0]
        total = jnp.zeros((), x.dtype)
        if self.potential is not None:
            total = total + jnp.mean(jax.vmap(self.potential)(x))
        if self.interaction is not None:
            inner = kernel_matvec(self.interaction, x, x, jnp.full(n, 1.0 / n, x.dtype),
                                  block_size=self.block_size, mesh=self.mesh, check=False)
            total = total + 0.5 * jnp.mean(inner)
        if self.functional is not None:
            total = total + self.functional(x)
        return total

    def field_force(self, y: Float[Array, "M d"], cloud: Float[Array, "N d"]
                    ) -> Float[Array, "M d"]:
        """The potential and interaction part of `-grad (dF/dmu)(mu)` at the points `y`, for
        the empirical measure `mu` of `cloud` (the functional term is not included)."""
        f = jnp.zeros_like(y)
        if self.potential is not None:
            f = f - jax.vmap(jax.grad(self.potential))(y)
        if self.interaction is not None:
            n = cloud.shape[0]
            f = f + interaction_force(self.interaction, y, cloud,
                                      jnp.full(n, 1.0 / n, y.dtype),
                                      block_size=self.block_size, mesh=self.mesh)
        return f

    def force(self, x: Float[Array, "N d"]) -> Float[Array, "N d"]:
        """`-grad (dF/dmu)(mu_N)(x_i)` for every particle."""
        f = self.field_force(x, x)
        if self.functional is not None:
            f = f - x.shape[0] * jax.grad(self.functional)(x)
        return f


class BlobInternalEnergy(eqx.Module):
    """The blob (mollified) internal energy of a particle measure, a `functional=` for
    `MeanFieldEnergy`:

        G(mu) = ∫ (phi_eps * mu)^(m-1) / (m - 1) dmu       (m > 1),
        G(mu) = ∫ log(phi_eps * mu) dmu                     (m = 1, entropy),

    with `phi_eps` the Gaussian of standard deviation `epsilon`. Its gradient flow for
    particles (temperature 0) approximates the porous-medium equation
    `d rho / dt = Laplacian(rho^m)` (m = 1: the heat equation) as `epsilon -> 0`; the
    mollified density `phi_eps * mu` at the particles is one blocked `sciopt.kernels` sum.

    **Arguments:**

    - `m`: the exponent, >= 1.
    - `epsilon`: the blob width (a few particle spacings).
    - `block_size`, `mesh`: passed to `sciopt.kernels.kernel_matvec`.

    Reference: Carrillo, Craig & Patacchini, "A blob method for diffusion" (Calc. Var. PDE
    2019).
    """

    m: float = eqx.field(static=True)  # m = 1 is another formula: static
    epsilon: Float[Array, ""]
    block_size: int | None = eqx.field(static=True)
    mesh: jax.sharding.Mesh | None = eqx.field(static=True)

    def __init__(self, m: float, epsilon: float, block_size: int | None = None,
                 mesh: jax.sharding.Mesh | None = None):
        self.m = positive_float("m", m)
        if self.m < 1:
            raise ValueError(f"m must be >= 1; got {m}")
        self.epsilon = real("epsilon", epsilon)
        self.block_size, self.mesh = block_size, mesh

    def density(self, x: Float[Array, "N d"]) -> Float[Array, " N"]:
        """`(phi_eps * mu_N)(x_i)` at every particle."""
        n, d = x.shape
        eps = self.epsilon.astype(x.dtype)
        norm = (2 * math.pi * eps**2) ** (-d / 2)
        z = x / eps  # the unit kernel on scaled points: epsilon stays a traced leaf
        rho = kernel_matvec(_UNIT, z, z, jnp.full(n, 1.0 / n, x.dtype),
                            block_size=self.block_size, mesh=self.mesh, check=False)
        return norm * rho

    def __call__(self, x: Float[Array, "N d"]) -> Float[Array, ""]:
        rho = self.density(x)
        if self.m == 1:
            return jnp.mean(jnp.log(rho))
        return jnp.mean(rho ** (self.m - 1)) / (self.m - 1)
