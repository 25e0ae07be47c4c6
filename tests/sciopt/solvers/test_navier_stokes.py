"""2D Navier-Stokes (vorticity form): Taylor-Green exactness, enstrophy decay, forcing."""

import jax.numpy as jnp
import numpy as np
import pytest

from sciopt import problems


def test_taylor_green_vortex_is_reproduced_to_round_off():
    p = problems.get("navier_stokes2d", nu=0.05)
    grid = p.grid(32)
    t = jnp.linspace(0, 1, 3)
    w = p.reference({"x": grid.axes()[0], "y": grid.axes()[1]}, t)[..., 0]
    x, y = grid.points()
    exact = p.solution(x[None], y[None], t[:, None, None])
    assert float(jnp.linalg.norm(w - exact) / jnp.linalg.norm(exact)) <= 1e-10


def test_unforced_enstrophy_decays_and_forced_flow_stays_finite():
    p = problems.get("navier_stokes2d", initial="random", nu=0.01)
    grid = p.grid(32)
    w = p.reference({"x": grid.axes()[0]}, jnp.linspace(0, 1, 3))[..., 0]
    enstrophy = np.asarray(jnp.mean(w**2, axis=(1, 2)))
    assert np.all(np.diff(enstrophy) < 0)
    mean = np.asarray(jnp.mean(w, axis=(1, 2)))  # the mean vorticity is conserved
    np.testing.assert_allclose(mean, mean[0], atol=1e-13)
    forced = problems.get("navier_stokes2d", initial="random", forcing="kolmogorov")
    wf = forced.reference({"x": grid.axes()[0]}, jnp.linspace(0, 1, 3))
    assert bool(jnp.all(jnp.isfinite(wf)))


@pytest.mark.parametrize("params, match", [
    ({"initial": "vortex"}, "must be one of"),
    ({"nu": 0.0}, "must be positive"),
    ({"forcing_wavenumber": 0}, "at least 1"),
])
def test_bad_parameters(params, match):
    with pytest.raises(ValueError, match=match):
        problems.get("navier_stokes2d", **params)
