"""Domains and samplers: points land where they should, with the right distribution."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.stats import qmc

from sciopt.geometry import Box, Disk, Interval, Torus, latin_hypercube, sobol, unit_cube

KEY = jax.random.key(0)


@pytest.mark.parametrize("method", ["uniform", "lhs", "sobol"])
def test_interior_points_are_inside(method):
    for domain in (Box([0.0, -1.0, 2.0], [1.0, 1.0, 5.0]), Disk((1.0, -2.0), 0.5),
                   Interval(-3.0, 4.0), Torus([0.0, 0.0], [2 * np.pi, 1.0])):
        x = domain.sample_interior(256, key=KEY, method=method)
        assert x.shape == (256, domain.dim) and x.dtype == jnp.float64
        assert bool(jnp.all(domain.contains(x)))


def test_box_boundary_points_lie_on_faces_in_proportion_to_area():
    box = Box([0.0, 0.0, 0.0], [1.0, 2.0, 4.0])
    x = np.asarray(box.sample_boundary(40_000, key=KEY))
    lo, hi = box.bounds
    on_face = np.isclose(x, lo) | np.isclose(x, hi)
    assert np.all(on_face.sum(1) >= 1) and np.all(box.contains(x))
    # Faces normal to x, y, z have areas 8, 4, 2 (each twice): fractions 8/14, 4/14, 2/14.
    frac = on_face.mean(0)
    np.testing.assert_allclose(frac, np.array([8, 4, 2]) / 14, atol=0.01)  # ~4 sigma
    # Uniform on a face: the free coordinates of the x = 0 face have means 1 and 2.
    face = x[np.isclose(x[:, 0], 0.0)]
    np.testing.assert_allclose(face[:, 1:].mean(0), [1.0, 2.0], atol=0.03)
    n = box.normal(face)
    np.testing.assert_array_equal(np.asarray(n), np.tile([-1.0, 0.0, 0.0], (len(face), 1)))


def test_interval_boundary_and_torus_has_none():
    x = Interval(-1.0, 2.0).sample_boundary(100, key=KEY)
    assert set(np.asarray(x).ravel().tolist()) == {-1.0, 2.0}
    with pytest.raises(ValueError, match="periodic and has no boundary"):
        Torus([0.0], [1.0]).sample_boundary(4, key=KEY)
    t = Torus([0.0, -1.0], [1.0, 1.0])
    np.testing.assert_allclose(t.wrap(jnp.array([[1.25, 1.5], [-0.25, -3.5]])),
                               [[0.25, -0.5], [0.75, 0.5]], atol=1e-15)


def test_disk_sampling_is_area_uniform():
    disk = Disk((0.0, 0.0), 2.0)
    x = np.asarray(disk.sample_interior(50_000, key=KEY))
    r2 = (x**2).sum(1)
    # For a uniform disk of radius R, E[r^2] = R^2 / 2 with sd R^2 / sqrt(12).
    assert abs(r2.mean() - 2.0) < 5 * (4 / np.sqrt(12)) / np.sqrt(len(r2))
    b = np.asarray(disk.sample_boundary(100, key=KEY))
    np.testing.assert_allclose(np.linalg.norm(b, axis=1), 2.0, rtol=1e-14)
    np.testing.assert_allclose(disk.normal(b), b / 2.0, rtol=1e-14)


def test_lhs_is_stratified_and_sobol_beats_uniform():
    u = np.asarray(latin_hypercube(KEY, 64, 3))
    for k in range(3):
        assert sorted(np.floor(u[:, k] * 64).astype(int).tolist()) == list(range(64))
    s = np.asarray(sobol(KEY, 256, 2))
    r = np.asarray(unit_cube(KEY, 256, 2, "uniform"))
    assert qmc.discrepancy(s) < 0.2 * qmc.discrepancy(r)
    assert not np.array_equal(s, np.asarray(sobol(jax.random.key(1), 256, 2)))
    # Traceable: works under jit with the same result.
    np.testing.assert_array_equal(jax.jit(lambda k: sobol(k, 256, 2))(KEY), s)


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: Box([0.0, 1.0], [1.0, 1.0]), "upper bound must exceed"),
        (lambda: Box([0.0], [1.0, 2.0]), "same length"),
        (lambda: Box([0.0], [np.inf]), "finite"),
        (lambda: Disk((0.0, 0.0), -1.0), "radius must be positive"),
        (lambda: Disk((0.0, 0.0, 0.0), 1.0), "2 coordinates"),
        (lambda: Box([0.0], [1.0]).sample_interior(-5, key=KEY), "n must be a positive"),
        (lambda: Box([0.0], [1.0]).sample_interior(5, key=KEY, method="grid"), "method must"),
    ],
)
def test_bad_input(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize("method", ["uniform", "lhs", "sobol"])
def test_ball_sampling_is_uniform_in_volume(method):
    from sciopt.geometry import Ball

    d = 7
    ball = Ball([0.5] * d, 2.0)
    x = np.asarray(ball.sample_interior(20_000, key=KEY, method=method)) - 0.5
    r = np.linalg.norm(x, axis=1) / 2.0
    assert r.max() <= 1 + 1e-12
    # Uniform in volume: (r / R)^d is uniform on [0, 1): mean 1/2, sd 1/sqrt(12).
    assert abs(np.mean(r**d) - 0.5) < 5 / np.sqrt(12 * len(r))
    # Directions are isotropic: the mean of x is ~0 in every coordinate.
    assert np.all(np.abs(x.mean(0)) < 5 * 2.0 / np.sqrt(len(r)))
    b = np.asarray(ball.sample_boundary(100, key=KEY, method=method)) - 0.5
    np.testing.assert_allclose(np.linalg.norm(b, axis=1), 2.0, rtol=1e-13)
