"""Finite-volume Burgers: second order on smooth solutions, Cole-Hopf agreement with
viscosity, and no new extrema / no growth of total variation across a shock."""

import numpy as np
import pytest

from sciopt import problems
from sciopt.solvers import solve_burgers_fv


def cell_averages(n):
    """Exact cell averages of -sin(pi x) on [-1, 1)."""
    e = np.linspace(-1, 1, n + 1)
    return (np.cos(np.pi * e[1:]) - np.cos(np.pi * e[:-1])) / (np.pi * 2 / n)


def centres(n):
    return -1 + (np.arange(n) + 0.5) * 2 / n


def characteristics(x, t):
    """The smooth inviscid solution before the shock (t < 1/pi): u = -sin(pi (x - u t))."""
    u = -np.sin(np.pi * x)
    for _ in range(60):
        g = u + np.sin(np.pi * (x - u * t))
        u = u - g / (1 - np.pi * t * np.cos(np.pi * (x - u * t)))
    return u


def test_second_order_before_the_shock():
    errors = []
    for n in (128, 256, 512):
        u = np.asarray(solve_burgers_fv(cell_averages(n), length=2.0, nu=0.0, t_final=0.2))[-1]
        errors.append(np.mean(np.abs(u - characteristics(centres(n), 0.2))))
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert np.all(orders >= 1.9), (errors, orders)


def test_viscous_burgers_converges_to_cole_hopf():
    burgers = problems.get("burgers1d_periodic")  # nu = 0.01 / pi, t = 1: a steep front
    errors = []
    for n in (512, 1024):
        u = np.asarray(solve_burgers_fv(cell_averages(n), length=2.0, nu=burgers.nu,
                                        t_final=1.0))[-1]
        exact = burgers.solution(centres(n), 1.0)
        errors.append(np.linalg.norm(u - exact) / np.linalg.norm(exact))
    assert errors[1] < 1e-3 and np.log2(errors[0] / errors[1]) >= 1.8, errors


@pytest.mark.parametrize("limiter", ["minmod", "vanleer"])
def test_inviscid_shock_is_captured_without_oscillations(limiter):
    u0 = cell_averages(400)
    traj = np.asarray(solve_burgers_fv(u0, length=2.0, nu=0.0, t_final=1.0, num_saves=4,
                                       limiter=limiter))
    tv = np.sum(np.abs(np.diff(traj, axis=1, append=traj[:, :1])), axis=1)
    assert np.all(np.diff(tv) <= 1e-12)  # total variation never grows (TVD)
    assert traj.max() <= u0.max() + 1e-14 and traj.min() >= u0.min() - 1e-14
    np.testing.assert_allclose(traj.sum(1), u0.sum(), atol=1e-11)  # conservation
    # The shock sits at x = 0 by symmetry: u jumps from about +0.74 to -0.74 there.
    mid = len(u0) // 2
    assert traj[-1, mid - 2] > 0.6 and traj[-1, mid + 1] < -0.6


def test_bad_input():
    with pytest.raises(ValueError, match="limiter must be one of"):
        solve_burgers_fv(cell_averages(8), length=2.0, nu=0.0, t_final=1.0, limiter="superbee")
    with pytest.raises(ValueError, match="nu must be non-negative"):
        solve_burgers_fv(cell_averages(8), length=2.0, nu=-1.0, t_final=1.0)
