"""The wrong calls of the bad-input issue, one case each: a clear library error that names
the argument (raised by sciopt, not from inside jax / numpy / h5py), or a correct result
where the input has a meaning (integer weights, unsorted sample indices)."""

import json
import traceback

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import flows
import operators
import pinns
from sciopt import data, derivatives, inverse, kernels, optim, problems, solvers, train

KEY = jax.random.key(0)
X = jax.random.normal(jax.random.key(1), (6, 2))
Y = jax.random.normal(jax.random.key(2), (5, 2))
GAUSS = kernels.GaussianKernel(1.0)
SCORE = kernels.SquaredDistanceScore(1.0)
OURS = ("/sciopt/", "/operators/", "/pinns/", "/flows/")


def raises_ours(call, match, error=ValueError):
    """`call()` raises `error` matching `match`, and the raise is in our code (a message
    written for the user), not deep inside a dependency."""
    with pytest.raises(error, match=match) as info:
        call()
    where = traceback.extract_tb(info.value.__traceback__)[-1].filename
    assert any(part in where for part in OURS), f"raised from {where}"


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    path = tmp_path_factory.mktemp("bad") / "burgers.h5"
    tensor = np.arange(3 * 2 * 8, dtype=float).reshape(3, 2, 8, 1)
    return data.write_dataset(path, tensor, t=np.array([0.0, 1.0]),
                              coords={"x": np.linspace(0, 1, 8)}, problem="burgers1d_periodic")


# -- silent wrong answers ------------------------------------------------------------------

def test_integer_weights_are_promoted_not_truncated():
    w = jnp.arange(5)
    np.testing.assert_allclose(kernels.kernel_matvec(GAUSS, X, Y, w),
                               kernels.kernel_matvec(GAUSS, X, Y, w.astype(float)), rtol=1e-14)
    np.testing.assert_allclose(kernels.kernel_logsumexp(SCORE, X, Y, w),
                               kernels.kernel_logsumexp(SCORE, X, Y, w.astype(float)),
                               rtol=1e-14)
    # -inf is the log of a zero weight; NaN and +inf are refused
    out = kernels.kernel_logsumexp(SCORE, X, Y, jnp.array([0.0, -jnp.inf, 0, 0, 0]))
    assert bool(jnp.all(jnp.isfinite(out)))
    raises_ours(lambda: kernels.kernel_logsumexp(SCORE, X, Y, jnp.full(5, jnp.nan)),
                "v must not contain NaN or \\+Inf")


def test_nan_in_a_cost_matrix_or_an_initial_condition_is_refused():
    cost = jnp.ones((3, 3)).at[0, 0].set(jnp.nan)
    raises_ours(lambda: flows.Geometry(cost), "cost_matrix must not contain NaN or -Inf")
    # +inf forbids a pair and stays allowed
    ok = flows.LinearProblem(flows.Geometry(jnp.ones((3, 3)).at[0, 1].set(jnp.inf)))
    assert bool(flows.solve_ot(ok, flows.Sinkhorn(epsilon=0.5)).converged)
    u0 = jnp.sin(jnp.linspace(0, 2 * jnp.pi, 16, endpoint=False)).at[3].set(jnp.nan)
    raises_ours(lambda: solvers.solve_burgers_fv(u0, length=1.0, nu=0.01, t_final=0.1),
                "u0 must not contain NaN")
    grid = solvers.PeriodicGrid(16, 2 * np.pi)
    raises_ours(lambda: solvers.solve_on_grid(grid, -grid.wavenumbers()[0] ** 2,
                                              lambda v: 0 * v, u0, dt=0.1, num_steps=2,
                                              save_every=1), "u0 must not contain NaN")
    raises_ours(lambda: solvers.solve_elliptic_2d(jnp.ones((5, 5)).at[2, 2].set(jnp.inf),
                                                  lengths=(1.0, 1.0)), "source must not")


def test_multi_adam_needs_the_group_axis_even_when_a_shape_matches():
    opt = optim.multi_adam(num_groups=2)
    params = {"w": jnp.ones((2, 3))}
    state = opt.init(params)
    raises_ours(lambda: opt.update({"w": jnp.ones((2, 3))}, state), r"\[num_groups, "
                r"\*parameter.shape\] = \(2, 2, 3\)")
    raises_ours(lambda: opt.update({"w": jnp.ones((2, 2, 4))}, state), "leaf 0 has shape")
    updates, _ = opt.update({"w": jnp.ones((2, 2, 3))}, state)
    assert updates["w"].shape == (2, 3)


def test_save_model_refuses_a_spec_that_does_not_describe_the_model(tmp_path):
    spec = {"model": "fno", "args": {"in_channels": 1, "out_channels": 1, "modes": [4],
                                     "width": 8, "layers": 2, "projection": 8}}
    model = operators.build_model(spec, key=KEY)
    wrong = {"model": "fno", "args": {**spec["args"], "width": 16}}
    raises_ours(lambda: operators.save_model(tmp_path / "m.eqx", model, wrong),
                "spec does not describe this model")
    assert not (tmp_path / "m.eqx").exists()  # nothing written
    raises_ours(lambda: operators.save_model(tmp_path, model, spec), "is a directory")
    operators.save_model(tmp_path / "m.eqx", model, spec)
    loaded, _ = operators.load_model(tmp_path / "m.eqx")
    u = jnp.ones((1, 16))
    np.testing.assert_array_equal(loaded(u), model(u))


def test_a_misspelt_loss_group_is_an_error():
    problem = problems.get("heat1d")
    raises_ours(lambda: pinns.pinn_loss(problem, weights={"residul": 2.0}),
                "weights has unknown key\\(s\\) 'residul'")
    raises_ours(lambda: pinns.pinn_loss(problem, weights={"residual": -1.0}),
                r"weights\['residual'\] must be")
    loss = optim.SumOfSquares(lambda m, b, k: {"a": optim.Residuals(
        lambda m, p: m * p, jnp.ones(3), jnp.ones(3))}, {"b": 1.0})
    raises_ours(lambda: loss(2.0, None, KEY), "unknown group")


def test_bridges_and_flows_stay_on_their_time_interval():
    sb = flows.LightSB(2, 3, 0.1, key=KEY)
    raises_ours(lambda: sb.bridge(KEY, X, X, jnp.array([0.0, 0.5, 1.5])), r"in \[0, 1\]")
    raises_ours(lambda: sb.bridge(KEY, X, X[:4], jnp.array([0.0, 1.0])), "same number")
    flow = flows.RectifiedFlow(2, width=8, depth=1, key=KEY)
    raises_ours(lambda: flow.transport(X, times=jnp.array([0.0, 2.0])), r"in \[0, 1\]")
    raises_ours(lambda: flows.train_rectified_flow(
        flow, lambda k, n: (jnp.zeros((n, 3)), jnp.zeros((n, 3))), steps=1, key=KEY,
        progress="off"), r"shape \(256, 2\)")


def test_svgd_with_identical_particles_spreads_them_and_one_particle_is_refused():
    out = flows.svgd(lambda x: -0.5 * jnp.sum(x**2), jnp.ones((4, 2)), flows.SVGD(0.1),
                     steps=3).final
    assert bool(jnp.all(jnp.isfinite(out)))
    assert float(flows.median_bandwidth(jnp.ones((4, 2)))) > 0
    raises_ours(lambda: flows.svgd(lambda x: -jnp.sum(x**2), jnp.ones((1, 2)),
                                   flows.SVGD(0.1), steps=1), "at least 2 particles")
    raises_ours(lambda: flows.svgd(lambda x: -(x @ jnp.ones((3, 3)) @ x), X, flows.SVGD(0.1),
                                   steps=1), r"log_prob fails on arguments of shape \(2,\)")


# -- unclear errors made clear ---------------------------------------------------------------

def test_laplacian_at_an_integer_point_is_the_float_one():
    f = lambda z: jnp.sum(z**3)  # noqa: E731
    assert float(derivatives.laplacian(f, jnp.array([1, 2]))) == 18.0
    raises_ours(lambda: derivatives.laplacian(f, "x"), "x must be an array")


def test_dataset_samples_out_of_range_unsorted_and_writes_onto_a_directory(dataset, tmp_path):
    raises_ours(lambda: data.read_dataset(dataset, samples=[5]), "index 5 is out of range",
                data.DatasetError)
    raises_ours(lambda: data.read_dataset(dataset, samples=[0.5]), "integer indices",
                data.DatasetError)
    full = data.read_dataset(dataset).tensor
    np.testing.assert_array_equal(data.read_dataset(dataset, samples=[2, 0, 2, -1]).tensor,
                                  full[[2, 0, 2, -1]])
    np.testing.assert_array_equal(data.read_dataset(dataset, samples=slice(None, None, -1))
                                  .tensor, full[::-1])
    folder = tmp_path / "taken.h5"
    folder.mkdir()
    raises_ours(lambda: data.write_dataset(folder, np.ones((1, 2, 8, 1)), t=np.arange(2.0),
                                           coords={"x": np.arange(8.0)}, problem="p",
                                           overwrite=True), "is a directory", data.DatasetError)
    assert folder.is_dir() and not any(folder.iterdir())


def test_operator_pairs_times_and_split_sizes(dataset):
    raises_ours(lambda: operators.operator_pairs(dataset, input_time=5),
                r"input_time must be in \[-2, 1\] \(there are 2 saved times\)")
    raises_ours(lambda: operators.operator_pairs(dataset, output_time=-3), "output_time")
    pairs = operators.operator_pairs(dataset)
    raises_ours(lambda: pairs.split(1.0, 1), "train must be an integer")
    raises_ours(lambda: pairs.split(2, 2), "cannot split 3 samples")


def test_fit_refuses_a_file_as_checkpoint_dir(tmp_path):
    afile = tmp_path / "f"
    afile.write_text("keep me")
    raises_ours(lambda: train.fit(lambda m, b, k: jnp.sum(m**2), jnp.ones(2), optax.sgd(0.1),
                                  jnp.ones((4, 1)), 2, key=KEY, checkpoint_dir=afile,
                                  progress="off"), "checkpoint_dir must be a directory")
    assert afile.read_text() == "keep me"


def test_least_squares_step_damping_and_a_singular_system():
    raises_ours(lambda: optim.least_squares_step(jnp.eye(3), jnp.ones(3), damping=-1.0),
                "damping must be finite and >= 0")
    raises_ours(lambda: optim.least_squares_step(jnp.zeros((3, 3)), jnp.ones(3)),
                "Cholesky solve of the normal equations failed")
    step = optim.least_squares_step(jnp.zeros((3, 3)), jnp.ones(3), solver="svd")
    np.testing.assert_array_equal(step, 0.0)  # the minimum-norm answer


def test_model_and_loss_settings_of_the_wrong_type():
    raises_ours(lambda: operators.FNO(1, 1, modes=4.0, key=KEY), "modes must be a positive "
                "integer or a sequence")
    problem = problems.get("heat1d")
    raises_ours(lambda: pinns.pinn_loss(problem, sampling="rad", rad_candidates=0),
                "rad_candidates must be a positive integer")
    raises_ours(lambda: pinns.pinn_loss(problem, causal_chunks=-2),
                "causal_chunks must be a non-negative integer")


def test_a_checkpoint_header_that_is_json_but_not_an_object(tmp_path):
    path = train.save_checkpoint(tmp_path, 1, {"w": jnp.ones(2)})
    raw = path.read_bytes().split(b"\n")
    raw[1] = json.dumps([1, 2, 3]).encode()
    path.write_bytes(b"\n".join(raw))
    raises_ours(lambda: train.load_checkpoint(path, {"w": jnp.ones(2)}), "corrupted header",
                train.CheckpointError)


def test_teng_with_a_model_of_the_wrong_input_dimension_or_a_string_setting():
    problem = problems.get("heat2d")
    raises_ours(lambda: pinns.TENG(lambda z: jnp.ones((3,)) @ z, problem, dt=0.1),
                r"model must take one point z = \(x, y\)")
    three_inputs = pinns.MLP(3, 1, 8, 2, key=KEY)
    raises_ours(lambda: pinns.TENG(three_inputs, problem, dt=0.1), "model must take one point")
    good = pinns.teng_model(problem, width=8, depth=2, key=KEY)
    raises_ours(lambda: pinns.TENG(good, problem, dt="0.1"), "dt must be a real number")
    raises_ours(lambda: pinns.TENG(good, problem, dt=0.1, damping="none"),
                "damping must be a real number")


def test_point_observations_with_the_wrong_number_of_axes():
    axes = (np.linspace(0, 1, 5), np.linspace(0, 1, 5))
    raises_ours(lambda: inverse.PointObservations(np.full((3, 2), 0.5), np.ones(3), axes[:1]),
                "axes must be the two node-coordinate arrays")
    raises_ours(lambda: inverse.PointObservations(np.full((3, 3), 0.5), np.ones(3), axes),
                r"points must be \[m, 2\]")
    obs = inverse.PointObservations(np.full((3, 2), 0.5), np.ones(3), axes)
    raises_ours(lambda: obs(jnp.ones((5, 5, 1))), "the field has shape")


def test_sinkhorn_reports_the_error_of_the_plan_it_returns():
    """float32 with momentum (the setting where the half-step estimate passed while the
    returned plan did not): whenever `converged` is reported, the plan the potentials
    define, recomputed in float64, meets the threshold, and the reported error is its."""
    from scipy.special import logsumexp
    n, eps = 400, 0.01
    for seed in range(3):
        rng = np.random.default_rng(seed)
        x = rng.standard_normal((n, 2)).astype(np.float32)
        y = (0.5 * rng.standard_normal((n, 2)) + 1).astype(np.float32)
        out = flows.solve_ot(flows.LinearProblem(flows.PointCloud(x, y)),
                             flows.Sinkhorn(epsilon=eps))
        assert out.f.dtype == jnp.float32 and bool(out.converged)
        f, g = np.asarray(out.f, np.float64), np.asarray(out.g, np.float64)
        cost = ((x[:, None].astype(np.float64) - y[None].astype(np.float64)) ** 2).sum(-1)
        log_plan = (f[:, None] + g[None] - cost) / eps - 2 * np.log(n)
        err = max(np.abs(np.exp(logsumexp(log_plan, axis=1)) - 1 / n).sum(),
                  np.abs(np.exp(logsumexp(log_plan, axis=0)) - 1 / n).sum())
        reported = float(out.errors[int(out.iterations) - 1])
        assert err <= 1e-3
        assert abs(reported - err) <= 1e-2 * err


def test_a_model_saved_in_the_other_precision_loads_bit_for_bit(tmp_path):
    spec = {"model": "fno", "args": {"in_channels": 1, "out_channels": 1, "modes": [4],
                                     "width": 8, "layers": 1, "projection": 8}}
    model = operators.build_model(spec, key=KEY)  # float64 here (the suite runs in x64)
    single = jax.tree.map(lambda a: a.astype(jnp.float32) if eqx.is_inexact_array(a) else a,
                          model)
    operators.save_model(tmp_path / "m.eqx", single, spec)
    loaded, _ = operators.load_model(tmp_path / "m.eqx")
    u = jnp.ones((1, 16), jnp.float32)
    assert jax.tree.leaves(eqx.filter(loaded, eqx.is_inexact_array))[0].dtype == jnp.float32
    np.testing.assert_array_equal(loaded(u), single(u))
