"""Linear plane-stress elasticity on a regular mesh of bilinear (Q4) elements: the element
stiffness, the half MBB beam (supports, load, element-to-dof map) and a differentiable
displacement solve (dense assembly, lineax Cholesky, implicit adjoint).

Reference: Andreassen, Clausen, Schevenels, Lazarov & Sigmund, "Efficient topology
optimization in MATLAB using 88 lines of code", Struct. Multidisc. Optim. 43 (2011).
"""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp
import lineax as lx
import numpy as np
from jaxtyping import Array, Float, Int

from ..validate import array, positive_int, protocol, real


def q4_stiffness(nu: float = 0.3) -> np.ndarray:
    """The 8 x 8 stiffness matrix of a unit-square bilinear (Q4) plane-stress element with
    Young's modulus 1 and Poisson ratio `nu`, by 2 x 2 Gauss quadrature (exact here). Local
    node order: counter-clockwise from the lower-left corner `(0,0), (1,0), (1,1), (0,1)`;
    dofs `(u, v)` per node."""
    nu = float(real("nu", nu, low=-1.0, high=0.5, high_inclusive=True))
    d = np.array([[1, nu, 0], [nu, 1, 0], [0, 0, (1 - nu) / 2]]) / (1 - nu**2)
    corners = np.array([[0, 0], [1, 0], [1, 1], [0, 1]], float)
    ke = np.zeros((8, 8))
    g = (1 - 1 / np.sqrt(3)) / 2
    for x in (g, 1 - g):
        for y in (g, 1 - g):
            # Bilinear shape functions N_i = (1 - |x - x_i|)(1 - |y - y_i|) on [0, 1]^2.
            dndx = np.array([(2 * cx - 1) * (1 - abs(y - cy)) for cx, cy in corners])
            dndy = np.array([(2 * cy - 1) * (1 - abs(x - cx)) for cx, cy in corners])
            b = np.zeros((3, 8))
            b[0, 0::2], b[1, 1::2] = dndx, dndy
            b[2, 0::2], b[2, 1::2] = dndy, dndx
            ke += 0.25 * b.T @ d @ b
    return ke


class MBBBeam(eqx.Module):
    """The half MBB beam: `nelx x nely` unit elements, symmetric about the left edge
    (x-displacements fixed there), on a roller at the lower-right corner (y fixed), with a
    unit downward load at the upper-left corner (the setting of the 88-line code).

    Element `e = ex * nely + ey` (`ey` counted from the top); node `n = ix * (nely + 1) + iy`.
    """

    nelx: int = eqx.field(static=True)
    nely: int = eqx.field(static=True)
    edofs: Int[Array, "e 8"]
    free: Int[Array, " f"]
    load: Float[Array, " d"]

    def __init__(self, nelx: int = 60, nely: int = 20):
        self.nelx, self.nely = positive_int("nelx", nelx), positive_int("nely", nely)
        ex, ey = np.meshgrid(np.arange(nelx), np.arange(nely), indexing="ij")
        # Node indices of each element, ordered as in `q4_stiffness` (lower-left first;
        # rows count downwards, so "lower" is row ey + 1).
        ll = ex * (nely + 1) + ey + 1
        nodes = np.stack([ll, ll + nely + 1, ll + nely, ll - 1], -1).reshape(-1, 4)
        self.edofs = jnp.asarray(np.stack([2 * nodes, 2 * nodes + 1], -1).reshape(-1, 8))
        ndof = 2 * (nelx + 1) * (nely + 1)
        fixed = np.union1d(np.arange(0, 2 * (nely + 1), 2), [ndof - 1])
        self.free = jnp.asarray(np.setdiff1d(np.arange(ndof), fixed))
        load = np.zeros(ndof)
        load[1] = -1.0
        self.load = jnp.asarray(load)

    @property
    def num_dofs(self) -> int:
        return 2 * (self.nelx + 1) * (self.nely + 1)


def solve_elasticity_q4(modulus: Float[Array, " e"], beam: MBBBeam, *, nu: float = 0.3
                        ) -> Float[Array, " d"]:
    """Nodal displacements `K(E) u = f` for element Young's moduli `modulus` (element order
    of `beam`); the supported dofs are zero. Differentiable in `modulus`."""
    protocol("beam", beam, ("edofs", "free", "load", "num_dofs"), "a sciopt.solvers.MBBBeam")
    modulus = array("modulus", modulus, shape=(beam.edofs.shape[0],), traced=False)
    ke = jnp.asarray(q4_stiffness(nu), modulus.dtype)
    rows = jnp.repeat(beam.edofs, 8, axis=1).reshape(-1)
    cols = jnp.tile(beam.edofs, (1, 8)).reshape(-1)
    vals = (modulus[:, None, None] * ke[None]).reshape(-1)
    k = jnp.zeros((beam.num_dofs, beam.num_dofs), modulus.dtype).at[rows, cols].add(vals)
    kf = k[beam.free][:, beam.free]
    op = lx.MatrixLinearOperator(kf, lx.positive_semidefinite_tag)
    u = lx.linear_solve(op, beam.load[beam.free], lx.Cholesky()).value
    return jnp.zeros(beam.num_dofs, modulus.dtype).at[beam.free].set(u)
