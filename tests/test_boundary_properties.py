"""Property tests (hypothesis) at the boundaries of the kernels, the derivatives, Sinkhorn and
the datasets: random shapes and dtypes, degenerate sizes (one point, identical points),
NaN / Inf placement. Each call gives a result that matches a dense float64 reference, or a
library error that names the argument. (Shapes are kept small: every new shape compiles.)"""

import tempfile
from pathlib import Path

import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.special import logsumexp

import flows
from sciopt import data, derivatives, kernels

SETTINGS = settings(max_examples=20, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])
DTYPES = st.sampled_from([np.float32, np.float64, np.int32])


@st.composite
def clouds(draw):
    n, m, d = draw(st.integers(1, 6)), draw(st.integers(1, 6)), draw(st.integers(1, 3))
    dtype = draw(DTYPES)
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    x = rng.integers(-3, 4, (n, d)) if dtype == np.int32 else rng.standard_normal((n, d))
    y = rng.integers(-3, 4, (m, d)) if dtype == np.int32 else rng.standard_normal((m, d))
    if draw(st.booleans()):  # identical points
        y = np.broadcast_to(x[:1], (m, d)).copy()
    v = rng.integers(-2, 3, m) if draw(st.booleans()) else rng.standard_normal(m)
    return x.astype(dtype), y.astype(dtype), v, draw(st.integers(1, 8))


def _tolerance(*arrays):
    return 1e-5 if any(np.asarray(a).dtype == np.float32 for a in arrays) else 1e-12


@SETTINGS
@given(clouds())
def test_kernel_matvec_matches_the_dense_float64_sum(case):
    x, y, v, block = case
    out = kernels.kernel_matvec(kernels.GaussianKernel(0.7), x, y, v, block_size=block)
    d2 = ((x[:, None].astype(float) - y[None].astype(float)) ** 2).sum(-1)
    ref = np.exp(-d2 / (2 * 0.7**2)) @ v.astype(float)
    np.testing.assert_allclose(np.asarray(out, float), ref, rtol=_tolerance(x, y, v),
                               atol=_tolerance(x, y, v))


@SETTINGS
@given(clouds(), st.booleans())
def test_kernel_logsumexp_matches_the_dense_float64_value(case, zero_weight):
    x, y, v, block = case
    v = v.astype(float)
    if zero_weight and len(v) > 1:
        v[0] = -np.inf  # the log of a zero weight
    out = kernels.kernel_logsumexp(kernels.SquaredDistanceScore(0.5), x, y, v, block_size=block)
    d2 = ((x[:, None].astype(float) - y[None].astype(float)) ** 2).sum(-1)
    ref = logsumexp(-d2 / 0.5 + v[None], axis=1)
    np.testing.assert_allclose(np.asarray(out, float), ref, rtol=_tolerance(x, y),
                               atol=_tolerance(x, y))


@SETTINGS
@given(clouds(), st.sampled_from(["x", "y", "v"]), st.sampled_from([np.nan, np.inf, -np.inf]))
def test_a_non_finite_entry_is_named(case, where, bad):
    x, y, v, block = case
    args = {"x": x.astype(float), "y": y.astype(float), "v": v.astype(float)}
    args[where].flat[0] = bad
    with pytest.raises(ValueError, match=f"^{where} must not contain"):
        kernels.kernel_matvec(kernels.GaussianKernel(1.0), block_size=block, **args)


@SETTINGS
@given(st.integers(1, 4), st.integers(0, 2**16), DTYPES)
def test_laplacian_of_a_quadratic_is_twice_its_trace(d, seed, dtype):
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal((d, d)), rng.standard_normal(d)
    x = rng.integers(-3, 4, d).astype(dtype) if dtype == np.int32 else rng.standard_normal(
        d).astype(dtype)
    f = lambda z: z @ jnp.asarray(a, z.dtype) @ z + jnp.asarray(b, z.dtype) @ z  # noqa: E731
    out = derivatives.laplacian(f, x)
    np.testing.assert_allclose(float(out), 2 * np.trace(a), rtol=_tolerance(x), atol=1e-4
                               if dtype == np.float32 else 1e-10)
    bad = np.asarray(x, float)
    bad[rng.integers(0, d)] = np.nan
    with pytest.raises(ValueError, match="^x must not contain NaN"):
        derivatives.laplacian(f, bad)


@SETTINGS
@given(clouds(), st.sampled_from([0.5, 1.0]))
def test_sinkhorn_plans_meet_their_marginals_or_say_so(case, eps):
    x, y, _, _ = case
    x, y = x.astype(float), y.astype(float)
    out = flows.solve_ot(flows.LinearProblem(flows.PointCloud(x, y)),
                         flows.Sinkhorn(epsilon=eps, threshold=1e-6, max_iterations=2000))
    f, g = np.asarray(out.f), np.asarray(out.g)
    n, m = len(x), len(y)
    log_plan = (f[:, None] + g[None] - ((x[:, None] - y[None]) ** 2).sum(-1)) / eps \
        - np.log(n) - np.log(m)
    err = max(np.abs(np.exp(logsumexp(log_plan, 1)) - 1 / n).sum(),
              np.abs(np.exp(logsumexp(log_plan, 0)) - 1 / m).sum())
    # converged means the returned plan meets the threshold; otherwise it says so, and the
    # error it reports is the returned plan's error either way
    assert bool(out.converged) == (err <= 1e-6 + 1e-9)
    assert abs(float(out.errors[int(out.iterations) - 1]) - err) <= 1e-9 * max(1.0, err)
    cost = ((x[:, None] - y[None]) ** 2).sum(-1)
    cost[0, 0] = np.nan
    with pytest.raises(ValueError, match="cost_matrix must not contain NaN"):
        flows.Geometry(cost)


@SETTINGS
@given(st.integers(1, 4), st.integers(1, 3), st.integers(2, 5),
       st.lists(st.integers(-6, 6), max_size=6))
def test_dataset_samples_in_any_order_or_a_named_error(n, times, cells, picks):
    with tempfile.TemporaryDirectory() as folder:
        tensor = np.random.default_rng(n).standard_normal((n, times, cells, 1))
        path = data.write_dataset(Path(folder) / "d.h5", tensor, t=np.arange(float(times)),
                                  coords={"x": np.linspace(0, 1, cells)}, problem="p")
        if all(-n <= i < n for i in picks):
            got = data.read_dataset(path, samples=picks).tensor
            np.testing.assert_array_equal(got, tensor[picks] if picks else tensor[:0])
        else:
            with pytest.raises(data.DatasetError, match="samples: index .* out of range"):
                data.read_dataset(path, samples=picks)
