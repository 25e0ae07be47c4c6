"""Operator data and training: pairs from a generated dataset, training lowers the test
error for every model, checkpoints reload to bitwise-equal predictions, and mismatched or
broken data get clear errors."""

import dataclasses
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import operators
from sciopt import data as sdata

from .._subprocess import run_json_script
from .conftest import burgers_file


@pytest.fixture(scope="module")
def burgers(tmp_path_factory):
    return operators.operator_pairs(burgers_file(
        tmp_path_factory.mktemp("data") / "burgers.h5", samples=24, resolution=32, seed=0,
        num_times=2, t_final=0.05))


def _models(grid):
    k = jax.random.key(0)
    return {"fno": operators.FNO(1, 1, modes=6, width=12, layers=2, projection=24, key=k),
            "deeponet": operators.DeepONet(grid, 1, basis=16, width=24, depth=2, key=k),
            "multionet": operators.MultiONet(grid, 1, width=24, layers=2, sum_layers=2,
                                             key=k),
            "dymixop": operators.DyMixOp(1, 1, modes=6, hidden=8, layers=2, key=k)}


def test_pairs_from_a_generated_dataset(burgers):
    assert burgers.inputs.shape == (24, 1, 32) and burgers.outputs.shape == (24, 1, 32)
    assert burgers.coords.shape == (32, 1) and burgers.attrs["output_time"] == pytest.approx(0.05)
    train, test = burgers.split(20, 4)
    assert train.num_samples == 20 and test.num_samples == 4
    np.testing.assert_array_equal(test.inputs[0], burgers.inputs[20])


@pytest.mark.parametrize("name", ["fno", "deeponet", "multionet", "dymixop"])
def test_training_lowers_the_test_error_and_checkpoints_reload_bitwise(burgers, name,
                                                                       tmp_path):
    train, test = burgers.split(20, 4)
    model = _models(32)[name]
    before = operators.evaluate(model, test)
    result = operators.train_operator(model, train, steps=300, batch_size=10,
                                      learning_rate=1e-2, key=jax.random.key(1),
                                      checkpoint_dir=tmp_path / name, progress="off")
    after = operators.evaluate(result.model, test)
    assert after < 0.5 * min(before, 1.0), (before, after)
    # Reload from the checkpoint: bitwise the same predictions.
    again = operators.train_operator(model, train, steps=300, batch_size=10,
                                     learning_rate=1e-2, key=jax.random.key(1),
                                     checkpoint_dir=tmp_path / name, progress="off")
    x, c = jnp.asarray(test.inputs), jnp.asarray(test.coords)
    np.testing.assert_array_equal(operators.predict(again.model, x, c),
                                  operators.predict(result.model, x, c))


def test_mismatched_and_broken_data_are_rejected(burgers, tmp_path):
    with pytest.raises(ValueError, match="sensor values"):
        operators.evaluate(operators.DeepONet(64, 1, key=jax.random.key(0)), burgers)
    with pytest.raises(ValueError, match="channel"):
        operators.evaluate(operators.FNO(2, 1, modes=4, key=jax.random.key(0)), burgers)
    with pytest.raises(ValueError, match="2D"):
        operators.check_compatible(operators.FNO(1, 1, modes=(4, 4), key=jax.random.key(0)),
                                   burgers)
    with pytest.raises(ValueError, match="cannot split"):
        burgers.split(20, 5)
    raw = sdata.PDEDataset(np.zeros((0, 2, 8, 1)), np.array([0.0, 1.0]),
                           {"x": np.arange(8.0)})
    with pytest.raises(sdata.DatasetError, match="no samples"):
        operators.operator_pairs(raw)
    one_time = dataclasses.replace(raw, tensor=np.ones((3, 1, 8, 1)), t=np.zeros(1))
    with pytest.raises(sdata.DatasetError, match="nothing to map"):
        operators.operator_pairs(one_time)
    bad = np.ones((3, 2, 8, 1))
    bad[1, 1, 3] = np.nan
    with pytest.raises(sdata.DatasetError, match="NaN"):
        operators.operator_pairs(dataclasses.replace(raw, tensor=bad))
    corrupt = tmp_path / "corrupt.h5"
    corrupt.write_bytes(b"not an hdf5 file")
    with pytest.raises(sdata.DatasetError):
        operators.operator_pairs(corrupt)


def test_data_parallel_matches_one_device():
    """Training on 4 forced CPU devices (batch sharded, gradients all-reduced) follows the
    one-device loss curve and ends at the same parameters within float64 round-off."""
    out = run_json_script(Path(__file__).with_name("_sharded_operator.py"))
    assert out["devices"] == 4
    for name in ("fno",):
        assert out[f"{name}_loss"] < 1e-13, out  # only the reduction order differs
        assert out[f"{name}_rel"] < 1e-12, out
        assert out[f"{name}_decrease"] < 0.99, out  # and the run really trained


def test_rollout_pairs_stack_the_next_states(trajectories, tmp_path):
    tensor = np.asarray(sdata.read_dataset(trajectories).tensor)  # [6, 4, 16, 1]
    windows = operators.rollout_pairs(trajectories, steps=2)
    assert windows.inputs.shape == (12, 1, 16) and windows.outputs.shape == (12, 2, 16)
    assert windows.attrs["windows_per_trajectory"] == 2
    assert windows.attrs["time_step"] == pytest.approx(0.02)
    for i, k in ((0, 0), (0, 1), (5, 1)):
        np.testing.assert_array_equal(windows.inputs[2 * i + k, 0], tensor[i, k, :, 0])
        np.testing.assert_array_equal(windows.outputs[2 * i + k],
                                      tensor[i, k + 1:k + 3, :, 0])
    with pytest.raises(sdata.DatasetError, match="4 saved time.*cannot give 4-step windows"):
        operators.rollout_pairs(trajectories, steps=4)
    darcy = tmp_path / "darcy.h5"
    sdata.generate_dataset(darcy, "darcy2d", samples=1, resolution=9, seed=0, progress="off")
    with pytest.raises(sdata.DatasetError, match="no trajectories to roll out"):
        operators.rollout_pairs(darcy, steps=1)


def test_rollout_training_minimises_the_window_error(trajectories):
    windows = operators.rollout_pairs(trajectories, steps=3)  # 6 windows of 3 steps
    model = operators.FNO(1, 1, modes=4, width=8, layers=2, projection=16,
                          key=jax.random.key(0))
    pred = jax.vmap(lambda u: operators.rollout(model, u, 3))(jnp.asarray(windows.inputs))
    expected = jnp.mean(operators.relative_l2(pred.reshape(6, 3, 16),
                                              jnp.asarray(windows.outputs)))
    result = operators.train_operator(model, windows, steps=150, key=jax.random.key(1),
                                      batch_size=6, learning_rate=3e-3, progress="off",
                                      rollout_steps=3)
    # the first loss is the initial model's 3-step rollout error on the (full) batch
    assert float(result.losses[0]) == pytest.approx(float(expected), rel=1e-12)
    assert float(np.mean(result.losses[-10:])) < 0.25 * float(expected)

    # bad input: one-step pairs, or a model that cannot step, are refused up front
    one_step = dataclasses.replace(windows, outputs=windows.outputs[:, :1])
    with pytest.raises(ValueError, match="rollout_steps=3 needs 3 stacked next states"):
        operators.train_operator(model, one_step, steps=1, key=jax.random.key(1),
                                 rollout_steps=3, progress="off")
    deeponet = operators.DeepONet(16, 1, basis=4, width=8, depth=2, key=jax.random.key(0))
    with pytest.raises(ValueError, match="rollout needs a grid-to-grid model"):
        operators.train_operator(deeponet, windows, steps=1, key=jax.random.key(1),
                                 rollout_steps=3, progress="off")


def test_split_trajectories_keeps_whole_trajectories(trajectories, burgers):
    windows = operators.rollout_pairs(trajectories, steps=2)  # 2 windows per trajectory
    train, test = windows.split_trajectories(4, 2)
    assert train.num_samples == 8 and test.num_samples == 4
    np.testing.assert_array_equal(test.inputs, windows.inputs[8:])
    with pytest.raises(ValueError, match="cannot split 6 trajectories into 5 train and 2"):
        windows.split_trajectories(5, 2)
    with pytest.raises(ValueError, match="needs data from rollout_pairs"):
        burgers.split_trajectories(1, 1)


def test_rollout_curriculum_runs_its_stages_in_order(trajectories, tmp_path):
    model = operators.FNO(1, 1, modes=4, width=8, layers=2, projection=16,
                          key=jax.random.key(0))
    stages = [(1, 20, 6, 3e-3), (3, 20, 4, 1e-3)]
    key = jax.random.key(1)
    result = operators.train_rollout_curriculum(model, trajectories, stages, trajectories=4,
                                                key=key, progress="off",
                                                checkpoint_dir=tmp_path / "ckpt")
    assert result.step == 40 and result.losses.shape == (40,) and result.status == "ok"
    # the same as the stages run by hand on the first 4 trajectories' windows
    k1, k2 = jax.random.split(key, 2)
    one = operators.rollout_pairs(trajectories, steps=1).split_trajectories(4, 2)[0]
    first = operators.train_operator(model, one, steps=20, key=k1, batch_size=6,
                                     learning_rate=3e-3, progress="off")
    three = operators.rollout_pairs(trajectories, steps=3).split_trajectories(4, 2)[0]
    second = operators.train_operator(first.model, three, steps=20, key=k2, batch_size=4,
                                      learning_rate=1e-3, progress="off", rollout_steps=3)
    np.testing.assert_array_equal(result.losses, np.concatenate([first.losses,
                                                                 second.losses]))
    u0 = jnp.asarray(three.inputs[:2])
    expected = operators.predict(second.model, u0, jnp.asarray(three.coords))
    np.testing.assert_array_equal(
        operators.predict(result.model, u0, jnp.asarray(three.coords)), expected)
    # a rerun resumes from the stages' checkpoints: nothing left to train, same model
    again = operators.train_rollout_curriculum(model, trajectories, stages, trajectories=4,
                                               key=key, progress="off",
                                               checkpoint_dir=tmp_path / "ckpt")
    assert again.step == 40 and again.losses.shape == (0,)
    np.testing.assert_array_equal(
        operators.predict(again.model, u0, jnp.asarray(three.coords)), expected)

    # bad input is refused before any stage trains
    deeponet = operators.DeepONet(16, 1, basis=4, width=8, depth=2, key=jax.random.key(0))
    for bad, kwargs, message in (
            ([], {}, "stages is empty"),
            ([(1, 10, 4)], {}, r"stage 0 must be \(K, steps, batch_size, learning_rate\)"),
            ([(1, 10, 4, 1e-3), (0, 10, 4, 1e-3)], {}, "stage 1 K must be"),
            ([(1, 10, 4, -1.0)], {}, "stage 0 learning_rate must be"),
            ([(1, 10, 4, 1e-3), (4, 10, 4, 1e-3)], {}, "a 4-step stage needs more than the "
                                                       "dataset's 4 saved time"),
            ([(1, 10, 4, 1e-3)], {"trajectories": 7}, "trajectories=7 but the dataset holds 6"),
            ([(1, 10, 4, 1e-3)], {"model": deeponet}, "rollout needs a grid-to-grid model")):
        args = {"model": model, "trajectories": 4, **kwargs}
        with pytest.raises(ValueError, match=message):
            operators.train_rollout_curriculum(args.pop("model"), trajectories, bad, key=key,
                                               progress="off", **args)


def test_shell_spectrum_is_parseval_and_places_a_mode_in_its_shell():
    rng = np.random.default_rng(0)
    # Parseval: the shells' squares add up to the mean square per grid point (1D and 2D).
    for shape in [(5, 2, 32), (4, 3, 12, 10)]:
        f = rng.standard_normal(shape)
        s = operators.shell_spectrum(f)
        np.testing.assert_allclose(np.sum(s**2), np.mean(np.sum(f**2, axis=1)), rtol=1e-12)
    # A single mode: cos(2 pi (3 x + 4 y)) lies in shell 5 with rms 1/sqrt(2), nothing else.
    x = np.arange(16) / 16
    xx, yy = np.meshgrid(x, x, indexing="ij")
    f = np.cos(2 * np.pi * (3 * xx + 4 * yy))[None, None]
    s = operators.shell_spectrum(f)
    assert len(s) == 12  # |k| up to round(sqrt(8^2 + 8^2))
    np.testing.assert_allclose(s[5], np.sqrt(0.5), rtol=1e-12)
    np.testing.assert_allclose(np.delete(s, 5), 0.0, atol=1e-14)
    # 1D: a constant is shell 0.
    np.testing.assert_allclose(operators.shell_spectrum(np.full((2, 1, 8), 3.0)),
                               [3.0, 0, 0, 0, 0], atol=1e-14)
    for bad in (np.zeros((3, 4)), np.zeros((0, 1, 8))):
        with pytest.raises(ValueError, match=r"\[samples, channels, \*grid\]"):
            operators.shell_spectrum(bad)


@pytest.mark.parametrize("name", ["fno", "deeponet"])
def test_error_spectrum_is_the_shell_spectrum_of_the_prediction_error(burgers, name):
    model = _models(32)[name]
    out = operators.error_spectrum(model, burgers, batch_size=7)  # batches of 7, 7, 7, 3
    pred = operators.predict(model, jnp.asarray(burgers.inputs), jnp.asarray(burgers.coords))
    err = np.asarray(pred) - burgers.outputs
    np.testing.assert_allclose(out["error"], operators.shell_spectrum(err), rtol=1e-10)
    np.testing.assert_allclose(out["target"], operators.shell_spectrum(burgers.outputs),
                               rtol=1e-12)
    np.testing.assert_array_equal(out["wavenumber"], np.arange(17))
    # Its squares add up to the mean square error per point.
    np.testing.assert_allclose(np.sum(out["error"] ** 2), np.mean(err**2), rtol=1e-10)
    two_channels = np.concatenate([burgers.inputs, burgers.inputs], axis=1)
    with pytest.raises(ValueError, match="channel|sensor"):
        operators.error_spectrum(model, dataclasses.replace(burgers, inputs=two_channels))
