"""The tuned configurations are library data (`operators.DATASETS`, `tuned_config`): every
case resolves to options its model accepts and a schedule that can run, bad names are
refused, and `sciopt train-operator --dataset` trains a case from them."""

import inspect
import json

import numpy as np
import pytest

import operators
from sciopt.cli._app import main


def _accepted(model: str) -> set[str]:
    return set(inspect.signature(operators.MODELS[model]).parameters)


@pytest.mark.parametrize("target", ["cpu", "gpu", "quick"])
def test_every_case_resolves_to_a_runnable_configuration(target):
    for name, dataset in operators.DATASETS.items():
        for model in ("deeponet", "multionet", "fno", "dymixop"):
            if dataset.time_stepping and model in ("deeponet", "multionet"):
                with pytest.raises(ValueError, match="time-stepping set"):
                    operators.tuned_config(name, model, target=target)
                continue
            config = operators.tuned_config(name, model, target=target)
            assert isinstance(config, operators.TrainingConfig)
            unknown = set(config.options) - _accepted(model)
            assert not unknown, (name, model, target, unknown)
            assert config.total_steps > 0 and config.batch_size > 0
            if target == "quick":
                assert config.total_steps == 60 and config.curriculum is None
            if config.curriculum:  # every stage's window fits the saved times
                times = dataset.generator["num_times"]
                assert max(k for k, *_ in config.curriculum) < times
                assert config.total_steps == sum(s for _, s, *_ in config.curriculum)
            # the optimiser is an optax transformation with the config's schedule
            opt = config.optimizer()
            assert hasattr(opt, "init") and hasattr(opt, "update")


def test_tuned_configurations_differ_where_the_docs_say():
    """Spot checks of the documented choices (docs/methods/operators.md)."""
    cpu = operators.tuned_config("burgers_1024", "deeponet")
    gpu = operators.tuned_config("burgers_1024", "deeponet", target="gpu")
    # learning rate scaled by 128 / 1024 on both targets (sensor count)
    assert cpu.learning_rate == gpu.learning_rate == pytest.approx(1e-3 * 128 / 1024)
    ns = operators.tuned_config("navier_stokes_32", "dymixop", target="gpu")
    assert ns.options["hidden"] == operators.tuned_config("navier_stokes_32",
                                                          "dymixop").options["hidden"]
    assert operators.tuned_config("burgers_128", "dymixop").options["coordinates"] is False


def test_bad_names_are_refused():
    with pytest.raises(ValueError, match="dataset must be one of"):
        operators.tuned_config("burgers_64", "fno")
    with pytest.raises(ValueError, match="model must be one of"):
        operators.tuned_config("burgers_128", "unet")
    with pytest.raises(ValueError, match="target must be one of"):
        operators.tuned_config("burgers_128", "fno", target="tpu")
    with pytest.raises(ValueError, match="curriculum stage"):
        operators.TrainingConfig({}, 10, curriculum=((1, 10, 2),))
    with pytest.raises(ValueError, match="learning_rate"):
        operators.TrainingConfig({}, 10, learning_rate=-1.0)


def test_train_operator_from_a_tuned_dataset(tmp_path, capsys):
    """`--dataset burgers_128 --target quick` generates and caches the set (60 samples),
    takes the quick sizes and configuration, and the flags override it."""
    out = tmp_path / "out"
    args = ["train-operator", "fno", "--dataset", "burgers_128", "--target", "quick",
            "--data-dir", str(tmp_path / "data"), "--steps", "5", "--out", str(out)]
    assert main(args) == 0
    record = json.loads((out / "fno.json").read_text())
    quick = operators.tuned_config("burgers_128", "fno", target="quick")
    assert record["steps"] == 5 and record["options"] == quick.options
    assert (record["train_samples"], record["test_samples"]) == (40, 20)
    files = list((tmp_path / "data").glob("burgers_128_60_*.h5"))
    assert len(files) == 1 and record["data"] == str(files[0])
    model, _ = operators.load_model(out / "fno.eqx")
    _, test = operators.DATASETS["burgers_128"].pairs(files[0], 40, 20)
    np.testing.assert_allclose(operators.evaluate(model, test.astype(np.float64)),
                               record["test_relative_l2"], rtol=1e-10)
    capsys.readouterr()
    assert main(["train-operator", "fno", "--out", str(out)]) == 2
    assert "give --data FILE, or --dataset NAME" in capsys.readouterr().err
    assert main(["train-operator", "deeponet", "--dataset", "navier_stokes_32",
                 "--out", str(tmp_path / "bad")]) == 2
    assert "time-stepping set" in capsys.readouterr().err
    assert not (tmp_path / "bad").exists()
