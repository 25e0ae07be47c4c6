"""Sinkhorn: agreement with a float64 NumPy reference and with POT, the closed form of
entropic OT between Gaussians (cost and entropic map), primal = dual for the unbalanced
problem, implicit gradients against finite differences and unrolling, small epsilon without
NaN, and clear errors on bad input."""

import math
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.linalg import sqrtm
from scipy.special import logsumexp

import flows

RNG = np.random.default_rng(0)
X = RNG.standard_normal((40, 2))
Y = 0.6 * RNG.standard_normal((30, 2)) + np.array([1.0, 0.5])
A = RNG.uniform(0.5, 1.0, 40)
A /= A.sum()
B = RNG.uniform(0.5, 1.0, 30)
B /= B.sum()
C = ((X[:, None] - Y[None]) ** 2).sum(-1)
TIGHT = flows.Sinkhorn(epsilon=0.1, threshold=1e-12, max_iterations=5000, momentum=1.0)


def _reference(eps, iterations=4000):
    """Plain log-domain Sinkhorn in NumPy, float64."""
    f, g = np.zeros(len(A)), np.zeros(len(B))
    for _ in range(iterations):
        g = -eps * logsumexp((f[:, None] - C) / eps + np.log(A)[:, None], axis=0)
        f = -eps * logsumexp((g[None] - C) / eps + np.log(B)[None], axis=1)
    return f, g


@pytest.mark.parametrize("geom", [flows.Geometry(C), flows.PointCloud(X, Y, block_size=16)],
                         ids=["dense", "pointcloud"])
def test_matches_numpy_reference(geom):
    f_ref, g_ref = _reference(0.1)
    out = flows.solve_ot(flows.LinearProblem(geom, A, B), TIGHT)
    assert bool(out.converged) and 0 < int(out.iterations) < 5000
    # Potentials are defined up to (f + c, g - c); compare after fixing the gauge.
    shift = float(out.f[0] - f_ref[0])
    np.testing.assert_allclose(out.f - shift, f_ref, atol=1e-10)
    np.testing.assert_allclose(out.g + shift, g_ref, atol=1e-10)
    np.testing.assert_allclose(float(out.reg_ot_cost), f_ref @ A + g_ref @ B, rtol=1e-12)
    rows, cols = out.marginals
    assert float(jnp.sum(jnp.abs(rows - A))) < 1e-11 and float(jnp.sum(jnp.abs(cols - B))) < 1e-11
    plan = np.asarray(out.matrix)
    np.testing.assert_allclose(float(out.transport_cost), (plan * C).sum(), rtol=1e-12)
    v = RNG.standard_normal((30, 3))
    np.testing.assert_allclose(out.apply(v), plan @ v, atol=1e-14)
    errors = np.asarray(out.errors)
    k = int(out.iterations)
    assert errors[k - 1] <= 1e-12 and errors[k - 2] > 1e-12 and np.all(errors[k:] == -1)


def test_matches_pot_float64():
    ot = pytest.importorskip("ot")
    eps = 0.05
    out = flows.solve_ot(flows.LinearProblem(flows.PointCloud(X, Y), A, B),
                         flows.Sinkhorn(epsilon=eps, threshold=1e-11, max_iterations=20000,
                                        momentum=1.5))
    plan = ot.bregman.sinkhorn_log(A, B, C, eps, numItermax=100000, stopThr=1e-13)
    np.testing.assert_allclose(float(out.transport_cost), float((plan * C).sum()), rtol=1e-8)
    np.testing.assert_allclose(np.asarray(out.matrix), plan, atol=1e-10)


def test_momentum_and_epsilon_scaling_reach_the_same_solution_faster():
    eps = 0.01

    def solve(**options):
        return flows.solve_ot(flows.LinearProblem(flows.Geometry(C), A, B),
                              flows.Sinkhorn(epsilon=eps, threshold=1e-9,
                                             max_iterations=20000, **options))

    base = solve(momentum=1.0)
    fixed, auto = solve(momentum=1.6), solve()  # the default is adaptive
    scaled = solve(epsilon_init=1.0, epsilon_decay=0.95, momentum=1.0)
    for out in (fixed, auto, scaled):
        assert bool(out.converged)
        np.testing.assert_allclose(float(out.reg_ot_cost), float(base.reg_ot_cost), rtol=1e-8)
    assert int(fixed.iterations) < 0.6 * int(base.iterations)
    assert int(auto.iterations) < 0.25 * int(base.iterations), (int(auto.iterations),
                                                                int(base.iterations))


def _gaussian_entropic_ot(m0, s0, m1, s1, eps):
    """Closed form of OT_eps(N(m0, s0), N(m1, s1)) with cost |x - y|^2 and eps KL(P | a b),
    and the cross-covariance of the optimal plan (Janati, Muzellec, Peyré & Cuturi,
    NeurIPS 2020, with sigma^2 = eps / 2)."""
    s2, d = eps / 2, len(m0)
    eye = np.eye(d)
    root = np.real(sqrtm(s0))
    dmat = np.real(sqrtm(4 * root @ s1 @ root + s2**2 * eye))
    cost = (np.sum((m0 - m1) ** 2) + np.trace(s0 + s1 - dmat) + d * s2 * (1 - np.log(2 * s2))
            + s2 * np.log(np.linalg.det(dmat + s2 * eye)))
    return cost, (root @ dmat @ np.linalg.inv(root) - s2 * eye) / 2


def _whitened(n, mean, cov, seed):
    """n samples whose empirical mean and covariance are exactly `mean`, `cov`."""
    z = np.random.default_rng(seed).standard_normal((n, len(mean)))
    z -= z.mean(0)
    z = z @ np.linalg.inv(np.linalg.cholesky(np.cov(z.T, bias=True))).T
    return mean + z @ np.real(sqrtm(cov)).T


def test_gaussian_closed_form_cost_and_entropic_map():
    m0, m1 = np.zeros(2), np.array([1.0, -0.5])
    s0 = np.array([[1.0, 0.3], [0.3, 0.5]])
    s1 = np.array([[0.4, -0.1], [-0.1, 0.8]])
    eps, n = 1.0, 2000
    x, y = _whitened(n, m0, s0, 1), _whitened(n, m1, s1, 2)
    out = flows.solve_ot(flows.LinearProblem(flows.PointCloud(x, y)),
                         flows.Sinkhorn(epsilon=eps, threshold=1e-10))
    cost, cross = _gaussian_entropic_ot(m0, s0, m1, s1, eps)
    # Sampling error of the empirical cost is O(n^-1/2) times the fourth moments; with the
    # first two moments matched exactly, n = 2000 lands within 2e-4 here (8e-4 at n = 500).
    assert abs(float(out.reg_ot_cost) - cost) / cost < 2e-3
    # The entropic map of Gaussians is affine: E[y | x] = m1 + cross^T s0^-1 (x - m0);
    # the plug-in estimator converges slowly (rms 0.036 at n = 500, 0.023 at 2000).
    mapped = np.asarray(out.to_target())
    exact = m1 + (x - m0) @ np.linalg.inv(s0) @ cross
    assert np.sqrt(np.mean(np.sum((mapped - exact) ** 2, 1))) < 0.04
    # Out-of-sample points use the same formula.
    z = np.array([[0.2, -0.1], [1.0, 0.5]])
    np.testing.assert_allclose(out.to_target(z), m1 + (z - m0) @ np.linalg.inv(s0) @ cross,
                               atol=0.1)


def test_unbalanced_primal_equals_dual():
    eps, rho_a, rho_b = 0.1, 1.0, 0.5
    a2 = 1.5 * A  # masses differ: allowed once the marginals are relaxed
    out = flows.solve_ot(flows.LinearProblem(flows.Geometry(C), a2, B, rho_a=rho_a,
                                             rho_b=rho_b), TIGHT)
    assert bool(out.converged)
    plan = np.asarray(out.matrix)

    def kl(p, q):
        return float(np.sum(p * np.log(p / q) - p + q))

    primal = ((plan * C).sum() + eps * kl(plan, np.outer(a2, B))
              + rho_a * kl(plan.sum(1), a2) + rho_b * kl(plan.sum(0), B))
    np.testing.assert_allclose(float(out.reg_ot_cost), primal, rtol=1e-9)


def test_implicit_gradients_match_finite_differences_and_unrolling():
    direction = RNG.standard_normal(X.shape)

    @partial(jax.jit, static_argnums=1)
    def transport(x, implicit=True):
        solver = flows.Sinkhorn(epsilon=0.1, threshold=1e-12, max_iterations=400,
                                implicit_diff=implicit)
        return flows.solve_ot(flows.LinearProblem(flows.PointCloud(x, Y), A, B),
                              solver).transport_cost

    implicit = float(jnp.sum(jax.grad(transport)(jnp.asarray(X)) * direction))
    unrolled = float(jnp.sum(jax.grad(transport)(jnp.asarray(X), False) * direction))
    h = 1e-5
    fd = (float(transport(X + h * direction)) - float(transport(X - h * direction))) / (2 * h)
    np.testing.assert_allclose(implicit, fd, rtol=1e-6)
    np.testing.assert_allclose(unrolled, implicit, rtol=1e-8)

    @jax.jit
    def of_weights(b):  # weights on the simplex: the gradient is checked along it
        problem = flows.LinearProblem(flows.Geometry(C), A, b / jnp.sum(b))
        return flows.solve_ot(problem, TIGHT).reg_ot_cost

    db = RNG.standard_normal(B.shape)
    grad_b = float(jax.grad(of_weights)(jnp.asarray(B)) @ db)
    fd_b = (float(of_weights(B + h * db)) - float(of_weights(B - h * db))) / (2 * h)
    np.testing.assert_allclose(grad_b, fd_b, rtol=1e-6)


def test_small_epsilon_stays_finite():
    """eps = 1e-4 of the mean cost: log-domain updates never form exp(-C / eps). (Near
    exact OT converges slowly: scaling plus momentum reach 1e-6 in 9092 iterations here,
    plain Sinkhorn stalls at 4e-3 after 20000.)"""
    eps = 1e-4 * float(C.mean())
    out = flows.solve_ot(flows.LinearProblem(flows.PointCloud(X, Y), A, B),
                         flows.Sinkhorn(epsilon=eps, threshold=1e-3, max_iterations=10000,
                                        epsilon_init=float(C.mean()), epsilon_decay=0.95,
                                        momentum=1.5))
    for value in (out.f, out.g, out.reg_ot_cost, out.transport_cost, out.to_target()):
        assert bool(jnp.all(jnp.isfinite(value)))
    assert bool(out.converged)


def test_sinkhorn_divergence_is_zero_on_equal_measures_and_positive_otherwise():
    solver = flows.Sinkhorn(epsilon=0.1, threshold=1e-10)
    same = flows.sinkhorn_divergence(flows.PointCloud(X, X), solver=solver)
    other = flows.sinkhorn_divergence(flows.PointCloud(X, Y), solver=solver)
    assert abs(float(same)) < 1e-10 and float(other) > 0.1


def test_bad_input_is_rejected_clearly():
    geom = flows.Geometry(C)
    with pytest.raises(ValueError, match="non-negative"):
        flows.LinearProblem(geom, -A, B)
    with pytest.raises(ValueError, match="equal mass"):
        flows.LinearProblem(geom, 2 * A, B)
    with pytest.raises(ValueError, match="shape"):
        flows.LinearProblem(geom, A[:-1], B)
    bad = X.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        flows.LinearProblem(flows.PointCloud(bad, Y))
    for eps in (0.0, -1.0, math.nan):
        with pytest.raises(ValueError, match="epsilon"):
            flows.Sinkhorn(epsilon=eps)
    with pytest.raises(ValueError, match="momentum"):
        flows.Sinkhorn(epsilon=0.1, momentum=2.5)
    with pytest.raises(ValueError, match="momentum"):
        flows.Sinkhorn(epsilon=0.1, momentum="fast")
    with pytest.raises(ValueError, match="same d"):
        flows.PointCloud(X, Y[:, :1])
    with pytest.raises(ValueError, match="LinearProblem"):
        flows.solve_ot(geom, TIGHT)
    # throw=True turns a non-converged run into an error that names the remedy.
    with pytest.raises(Exception, match="did not reach"):
        flows.solve_ot(flows.LinearProblem(geom, A, B),
                       flows.Sinkhorn(epsilon=0.001, max_iterations=5, throw=True))
    out = flows.solve_ot(flows.LinearProblem(geom, A, B),
                         flows.Sinkhorn(epsilon=0.001, max_iterations=5))
    assert not bool(out.converged) and int(out.iterations) == 5


def test_solve_ot_takes_any_solver_with_a_solve_method():
    """`solve_ot` dispatches on the solver protocol (`solve(problem)`), not on a class: a
    user's own solver serves, `Sinkhorn.solve` is what `solve_ot` runs, and an object
    without `solve` is refused by name."""
    cost = jnp.abs(jnp.linspace(0, 1, 5)[:, None] - jnp.linspace(0, 1, 4)[None, :])
    problem = flows.LinearProblem(flows.Geometry(cost))

    class NorthWest:
        def solve(self, problem):
            return ("north-west", problem.geom.shape)

    assert flows.solve_ot(problem, NorthWest()) == ("north-west", (5, 4))
    sink = flows.Sinkhorn(epsilon=0.1)
    np.testing.assert_array_equal(flows.solve_ot(problem, sink).f, sink.solve(problem).f)
    with pytest.raises(ValueError, match="solver must be an OT solver"):
        flows.solve_ot(problem, "sinkhorn")
