"""Plane-stress linear elasticity of the half MBB beam (the topology-optimisation benchmark
of the 88-line code): `-div sigma(u) = 0`, `sigma = E C eps(u)`, unit load at the top-left
corner, symmetry on the left edge, roller at the lower-right corner."""

from __future__ import annotations

from typing import Any

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from ..geometry import Box
from ..solvers import MBBBeam, solve_elasticity_q4
from ._reference import ReferenceRun
from ._registry import AbstractProblem, Param, positive, register


class MBBBeamProblem(AbstractProblem):
    """The half MBB beam on `nelx x nely` unit Q4 elements with Poisson ratio `nu`; the
    topology-optimisation settings (`volfrac`, `penal`, `rmin`) are carried for
    `sciopt solve mbb_beam --method inverse`."""

    nelx: int = eqx.field(static=True)
    nely: int = eqx.field(static=True)
    nu: float = eqx.field(static=True)
    volfrac: float = eqx.field(static=True)
    penal: float = eqx.field(static=True)
    rmin: float = eqx.field(static=True)

    @property
    def domain(self) -> Box:
        return Box([0.0, 0.0], [float(self.nelx), float(self.nely)])

    @property
    def parameters(self) -> dict[str, Any]:
        return {"nelx": self.nelx, "nely": self.nely, "nu": self.nu, "volfrac": self.volfrac,
                "penal": self.penal, "rmin": self.rmin}

    def reference(self, coords=None, t=None) -> Float[Array, "1 nx ny 2"]:
        """Nodal displacements `(u, v)` of the solid beam (E = 1), `[1, nelx + 1, nely + 1,
        2]`, nodes ordered by column and from the top edge down."""
        beam = MBBBeam(self.nelx, self.nely)
        u = solve_elasticity_q4(jnp.ones(self.nelx * self.nely), beam, nu=self.nu)
        return u.reshape(1, self.nelx + 1, self.nely + 1, 2)

    def reference_run(self, resolution=None, t=None, *, dt=None) -> ReferenceRun:
        """The displacement magnitude on the beam's nodes (its mesh is a parameter, so
        `resolution` is ignored) and the solid beam's compliance."""
        d = np.asarray(self.reference())[0]
        x, y = np.arange(self.nelx + 1.0), self.nely - np.arange(self.nely + 1.0)
        return ReferenceRun("steady_2d", {"x": x, "y": y[::-1]}, None,
                            np.linalg.norm(d, axis=-1)[:, ::-1], None,
                            {"compliance": float(-d[0, 0, 1])})


def _at_least(k: int):
    return lambda v: None if v >= k else f"must be at least {k}"


register("mbb_beam", MBBBeamProblem,
         (Param("nelx", 60, "elements along the beam", int, _at_least(2)),
          Param("nely", 20, "elements through the depth", int, _at_least(2)),
          Param("nu", 0.3, "Poisson ratio", float,
                lambda v: None if -1 < v < 0.5 else "must lie in (-1, 0.5)"),
          Param("volfrac", 0.5, "volume fraction (topology optimisation)", float,
                lambda v: None if 0 < v < 1 else "must lie in (0, 1)"),
          Param("penal", 3.0, "SIMP penalty", float, positive),
          Param("rmin", 1.5, "density-filter radius in elements", float, positive)),
         summary="plane-stress elasticity of the half MBB beam (Q4 finite elements); "
                 "SIMP topology optimisation with --method inverse",
         family="elasticity")
