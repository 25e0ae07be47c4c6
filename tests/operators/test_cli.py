"""`sciopt train-operator`: trains, reports, saves a model that a fresh process loads and
evaluates to bitwise the same predictions; bad input fails with one clear line."""

import json
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import operators
from sciopt.cli._app import main
from sciopt.train import CheckpointError

from .conftest import burgers_file

_FRESH = """
import sys, jax, numpy as np
jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp, operators
model, meta = operators.load_model(sys.argv[1])
d = operators.operator_pairs(sys.argv[2]).astype(np.float64)
np.save(sys.argv[3], np.asarray(operators.predict(model, jnp.asarray(d.inputs),
                                                  jnp.asarray(d.coords))))
"""


@pytest.fixture(scope="module")
def data_file(tmp_path_factory):
    return burgers_file(tmp_path_factory.mktemp("data") / "burgers.h5", samples=12,
                        resolution=32, seed=3, num_times=2, t_final=0.05)


def test_train_operator_saves_a_model_a_fresh_process_reproduces_bitwise(data_file,
                                                                        tmp_path, capsys):
    out = tmp_path / "out"
    # (An FNO: the file format is the same for every model, and it compiles in half
    # DyMixOp's time; DyMixOp's checkpoints reload bitwise in test_training.py.)
    assert main(["train-operator", "fno", "--data", str(data_file), "--train", "8",
                 "--test", "4", "--steps", "30", "--batch-size", "4", "--lr", "1e-2",
                 "--option", "width=6", "--option", "modes=4", "--option", "layers=2",
                 "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "test relative L2" in text
    record = json.loads((out / "fno.json").read_text())
    assert record["spec"]["args"]["modes"] == [4] and record["parameters"] > 0
    assert 0 < record["test_relative_l2"] < 10 and record["inference_seconds_per_sample"] > 0
    assert len(record["figures"]) == 3
    for png in record["figures"]:
        assert (out / png.split("/")[-1]).stat().st_size > 1000

    model, meta = operators.load_model(out / "fno.eqx")
    assert meta["test_relative_l2"] == record["test_relative_l2"]
    d = operators.operator_pairs(data_file).astype(np.float64)
    here = np.asarray(operators.predict(model, jnp.asarray(d.inputs), jnp.asarray(d.coords)))
    np.testing.assert_allclose(operators.evaluate(model, d.split(8, 4)[1]),
                               record["test_relative_l2"], rtol=1e-12)
    # The recorded error spectrum is the test error's, by wavenumber shell (Parseval).
    shells = np.asarray(record["error_spectrum"]["error"])
    assert shells.shape == (17,)
    np.testing.assert_allclose(np.sum(shells**2), np.mean((here[8:] - d.outputs[8:]) ** 2),
                               rtol=1e-10)
    fresh = tmp_path / "fresh.npy"
    subprocess.run([sys.executable, "-c", _FRESH, str(out / "fno.eqx"), str(data_file),
                    str(fresh)], check=True, timeout=300)
    np.testing.assert_array_equal(np.load(fresh), here)


def test_train_operator_rejects_bad_input(data_file, tmp_path, capsys):
    base = ["train-operator", "fno", "--data", str(data_file), "--steps", "2",
            "--out", str(tmp_path)]
    assert main(["train-operator", "transformer", "--data", str(data_file)]) == 2
    assert "unknown operator model" in capsys.readouterr().err
    assert main(base + ["--train", "10", "--test", "5"]) == 2
    assert "cannot split" in capsys.readouterr().err
    assert main(base + ["--option", "widht"]) == 2
    assert "NAME=VALUE" in capsys.readouterr().err
    missing = tmp_path / "missing.h5"
    assert main(["train-operator", "fno", "--data", str(missing)]) == 2
    assert "missing.h5" in capsys.readouterr().err
    corrupt = tmp_path / "model.eqx"
    corrupt.write_bytes(b"garbage")
    with pytest.raises(CheckpointError):
        operators.load_model(corrupt)
    spec = operators.model_spec("fno", operators.operator_pairs(data_file), width=4)
    model = operators.build_model(spec, key=jax.random.key(0))
    operators.save_model(tmp_path / "fno.eqx", model, spec)
    raw = (tmp_path / "fno.eqx").read_bytes()
    (tmp_path / "cut.eqx").write_bytes(raw[:-10])
    with pytest.raises(CheckpointError, match="truncated or corrupted"):
        operators.load_model(tmp_path / "cut.eqx")
    with pytest.raises(ValueError, match="MultiONet returns one field"):
        operators.model_spec("multionet", operators.OperatorData(
            np.zeros((2, 1, 8)), np.zeros((2, 2, 8)), np.zeros((8, 1))))


def test_train_operator_through_rollouts(trajectories, tmp_path, capsys):
    path = trajectories
    out = tmp_path / "out"
    base = ["train-operator", "fno", "--data", str(path), "--train", "4", "--test", "2",
            "--steps", "20", "--batch-size", "4", "--lr", "1e-2", "--option", "width=6",
            "--option", "modes=4", "--option", "layers=2", "--out", str(out)]
    assert main(base + ["--rollout-steps", "2"]) == 0
    assert "4 train / 2 test trajectories" in capsys.readouterr().out
    record = json.loads((out / "fno.json").read_text())
    assert record["rollout_steps"] == 2 and record["train_samples"] == 4
    # the test error is the one-step error on the last two trajectories' 3 pairs each
    model, _ = operators.load_model(out / "fno.eqx")
    pairs = operators.rollout_pairs(path, steps=1).astype(np.float64)
    np.testing.assert_allclose(operators.evaluate(model, pairs.select(np.arange(12, 18))),
                               record["test_relative_l2"], rtol=1e-12)

    bad = tmp_path / "bad"
    for extra, message in ((["--rollout-steps", "2", "--input-time", "1"],
                            "trains on every saved time"),
                           (["--rollout-steps", "4"], "cannot give 4-step windows"),
                           (["--rollout-steps", "0"], "--rollout-steps must be a positive")):
        assert main([*base[:-1], str(bad), *extra]) == 2
        assert message in capsys.readouterr().err
        assert not bad.exists()
    assert main(["train-operator", "deeponet", "--data", str(path), "--steps", "2",
                 "--rollout-steps", "2", "--out", str(bad)]) == 2
    assert "rollout needs a grid-to-grid model" in capsys.readouterr().err


def test_train_operator_through_a_rollout_curriculum(trajectories, tmp_path, capsys):
    out = tmp_path / "out"
    base = ["train-operator", "fno", "--data", str(trajectories), "--train", "4", "--test",
            "2", "--option", "width=6", "--option", "modes=4", "--option", "layers=2",
            "--out", str(out)]
    assert main(base + ["--curriculum", "1:10:6:1e-2, 2:10:4:3e-3"]) == 0
    assert "4 train / 2 test trajectories" in capsys.readouterr().out
    record = json.loads((out / "fno.json").read_text())
    assert record["curriculum"] == [[1, 10, 6, 1e-2], [2, 10, 4, 3e-3]]
    assert record["steps"] == 20
    model, _ = operators.load_model(out / "fno.eqx")
    pairs = operators.rollout_pairs(trajectories, steps=1).astype(np.float64)
    np.testing.assert_allclose(operators.evaluate(model, pairs.select(np.arange(12, 18))),
                               record["test_relative_l2"], rtol=1e-12)

    bad = tmp_path / "bad"
    for extra, message in ((["--curriculum", "1:10:4"], "cannot read stage '1:10:4'"),
                           (["--curriculum", "1:10:4:x"], "cannot read stage '1:10:4:x'"),
                           (["--curriculum", "1:10:4:1e-2", "--steps", "5", "--lr", "1"],
                            "drop --steps, --lr"),
                           (["--curriculum", "1:10:4:1e-2", "--rollout-steps", "2"],
                            "drop --rollout-steps"),
                           (["--curriculum", "1:10:4:1e-2,4:10:4:1e-2"],
                            "a 4-step stage needs more than the dataset's 4 saved time")):
        assert main([*base[:-1], str(bad), *extra]) == 2
        assert message in capsys.readouterr().err
        assert not bad.exists()


def test_train_operator_option_values():
    """`--option` values: ints, floats, lists of ints, booleans (`coordinates=false` must
    not become the truthy string "false") and strings."""
    from operators._cli import _value

    assert _value("12") == 12 and _value("3e-3") == 3e-3 and _value("12,12") == [12, 12]
    assert _value("false") is False and _value("True") is True
    assert _value("spectral") == "spectral"
    with pytest.raises(ValueError, match="list of integers"):
        _value("1,a")
