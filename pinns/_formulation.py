"""A problem's PINN formulation (its `pointwise_form()`) and the network built for it."""

from __future__ import annotations

from jaxtyping import PRNGKeyArray

from sciopt import problems

from ._model import PINN

# A problem's pointwise form, as this package uses it (defined in the core, built by each
# problem's `pointwise_form()`).
Formulation = problems.PointwiseForm


def formulation(problem: problems.AbstractProblem) -> Formulation:
    """The PINN formulation of a registered problem (its `pointwise_form()`); `ValueError`
    names what is missing and which problems have one."""
    if not callable(getattr(problem, "pointwise_form", None)):
        raise ValueError(f"problem must be a sciopt problem (e.g. sciopt.problems.get("
                         f"'heat1d')); got {type(problem).__name__} {problem!r:.40}")
    f = problem.pointwise_form()
    if f is None:
        supported = [n for n in problems.names() if problems.get(n).pointwise_form()]
        raise ValueError(f"{type(problem).__name__} has no PINN formulation yet (a PINN needs "
                         f"a pointwise residual and initial/boundary data); supported "
                         f"problems: {', '.join(supported)}")
    return f


def pinn_for(problem: problems.AbstractProblem, *, width: int = 64, depth: int = 4,
             activation: str = "tanh", periodic_modes: int = 4,
             fourier_features: tuple[int, float] | None = None,
             hard_boundary: bool = False, key: PRNGKeyArray) -> PINN:
    """A `PINN` with the problem's input size and an exact periodic embedding of its
    periodic axes. `hard_boundary=True` (problems on a ball with zero boundary data, e.g.
    the high-dimensional two-body problems) builds `u = 0` on the sphere into the network."""
    f = formulation(problem)
    envelope = None
    if hard_boundary:
        if f.ball is None:
            raise ValueError("hard_boundary applies to problems on a ball with zero boundary "
                             "data (poisson_highdim, sine_gordon_highdim)")
        envelope = f.ball
    return PINN(f.in_size, width=width, depth=depth, activation=activation,
                periodic=f.periodic, periodic_modes=periodic_modes,
                fourier_features=fourier_features, envelope=envelope, key=key)
