"""`sciopt.train.fit`: exactness against a hand-written loop, chunk independence, metrics,
resume, the NaN/Inf guard and bad input."""

import json
import warnings

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from sciopt.train import (
    ArrayBatches,
    CheckpointError,
    FullBatch,
    NonFiniteError,
    SampledBatches,
    fit,
    latest_checkpoint,
    load_checkpoint,
)

KEY = jax.random.key(0)
X = jnp.linspace(-1.0, 1.0, 40)[:, None]
Y = jnp.sin(3 * X)
MODEL = eqx.nn.MLP(1, 1, 8, 2, activation=jnp.tanh, key=KEY)
OPT = optax.adam(1e-2)


def loss(model, batch, key):
    x, y = batch
    data = jnp.mean((jax.vmap(model)(x) - y) ** 2)
    reg = 1e-4 * sum(jnp.sum(w**2) for w in jax.tree_util.tree_leaves(
        eqx.filter(model, eqx.is_inexact_array)))
    return data + reg, {"data": data, "reg": reg}


def leaves(model):
    return [np.asarray(v) for v in jax.tree_util.tree_leaves(eqx.filter(model, eqx.is_array))]


def assert_same(a, b):
    for u, v in zip(leaves(a), leaves(b), strict=True):
        np.testing.assert_array_equal(u, v)


def test_matches_hand_written_loop():
    steps = 25
    result = fit(loss, MODEL, OPT, (X, Y), steps, key=KEY, chunk_size=10, progress="off")
    params, static = eqx.partition(MODEL, eqx.is_inexact_array)
    state = OPT.init(params)
    expected = []
    for _ in range(steps):
        (value, _), grads = jax.value_and_grad(
            lambda p: loss(eqx.combine(p, static), (X, Y), None), has_aux=True)(params)
        updates, state = OPT.update(grads, state, params)
        params = optax.apply_updates(params, updates)
        expected.append(float(value))
    # Same arithmetic, different compiled programs (scan vs op-by-op): round-off only.
    np.testing.assert_allclose(result.losses, expected, rtol=1e-12)
    for u, v in zip(leaves(result.model), leaves(eqx.combine(params, static)), strict=True):
        np.testing.assert_allclose(u, v, rtol=1e-11, atol=1e-13)
    assert result.step == steps and result.status == "ok"
    assert result.losses[-1] < 0.5 * result.losses[0]


def test_chunk_size_does_not_change_the_result():
    data = ArrayBatches((X, Y), 8)
    a = fit(loss, MODEL, OPT, data, 37, key=KEY, chunk_size=5, progress="off")
    b = fit(loss, MODEL, OPT, data, 37, key=KEY, chunk_size=16, progress="off")
    assert_same(a.model, b.model)
    np.testing.assert_array_equal(a.losses, b.losses)


def test_array_batches_visit_every_sample_once_per_epoch():
    data = ArrayBatches(jnp.arange(12.0), 4)
    state = data.init(jax.random.key(3))
    seen = []
    for _ in range(6):
        batch, state = data.next(state)
        seen.append(np.asarray(batch))
    first, second = np.concatenate(seen[:3]), np.concatenate(seen[3:])
    assert sorted(first) == list(range(12)) and sorted(second) == list(range(12))
    assert not np.array_equal(first, second)  # reshuffled


def test_sampled_batches_and_progress_lines(capsys):
    source = SampledBatches(lambda k: (x := jax.random.uniform(k, (16, 1)), jnp.sin(3 * x)))
    r = fit(loss, MODEL, OPT, source, 20, key=KEY, chunk_size=10, progress="lines")
    err = capsys.readouterr().err
    assert "step 20/20" in err and "loss" in err and "steps/s" in err
    assert np.all(np.isfinite(r.losses)) and r.losses.shape == (20,)


def test_metrics_and_resume_in_process(tmp_path):
    data = ArrayBatches((X, Y), 8)
    full = fit(loss, MODEL, OPT, data, 60, key=KEY, chunk_size=10, progress="off")
    first = fit(loss, MODEL, OPT, data, 30, key=KEY, chunk_size=10, checkpoint_dir=tmp_path,
                progress="off")
    assert first.resumed_from is None
    second = fit(loss, MODEL, OPT, data, 60, key=KEY, chunk_size=10, checkpoint_dir=tmp_path,
                 progress="off")
    assert second.resumed_from == 30
    assert_same(second.model, full.model)
    np.testing.assert_array_equal(np.concatenate([first.losses, second.losses]), full.losses)
    records = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == list(range(10, 61, 10))
    assert {"loss", "data", "reg", "steps_per_second"} <= set(records[0])
    np.testing.assert_allclose(records[0]["loss"], records[0]["data"] + records[0]["reg"],
                               rtol=1e-12)


def _poisoned(step: int):
    """Unshuffled 4-sample batches over 40 samples: step `step` sees the NaN."""
    y = np.array(Y)
    y[4 * step + 1] = np.nan
    return ArrayBatches((X, jnp.asarray(y)), 4, shuffle=False)


def test_nonfinite_stop_reports_step_and_term():
    data = _poisoned(6)
    with pytest.raises(NonFiniteError) as info:
        fit(loss, MODEL, OPT, data, 20, key=KEY, chunk_size=4, progress="off")
    message = str(info.value)
    assert "step 6" in message and "'data'" in message and "'reg'" not in message
    result = info.value.result
    assert result.status == "nonfinite" and result.step == 6
    clean = fit(loss, MODEL, OPT, data, 6, key=KEY, chunk_size=4, progress="off")
    assert_same(result.model, clean.model)  # the last finite state, exactly
    assert np.all(np.isfinite(result.losses)) and len(result.losses) == 6


def test_nonfinite_rollback_keeps_good_checkpoints(tmp_path):
    data = _poisoned(6)
    result = fit(loss, MODEL, OPT, data, 20, key=KEY, chunk_size=2, checkpoint_dir=tmp_path,
                 checkpoint_every=4, on_nonfinite="rollback", throw=False, progress="off")
    assert result.status == "rolled_back" and result.step == 4
    assert "step 6" in result.message and "rolled back to the state at step 4" in result.message
    latest = latest_checkpoint(tmp_path)
    assert latest.name == "step_0000000004.ckpt"
    step, state, _ = load_checkpoint(latest, result.state)
    assert step == 4
    assert all(np.all(np.isfinite(v)) for v in leaves(state.params))
    clean = fit(loss, MODEL, OPT, data, 4, key=KEY, chunk_size=2, progress="off")
    assert_same(result.model, clean.model)
    # Without checkpoints, rollback returns to the initial model.
    r0 = fit(loss, MODEL, OPT, data, 20, key=KEY, chunk_size=2, on_nonfinite="rollback",
             throw=False, progress="off")
    assert r0.step == 0
    assert_same(r0.model, MODEL)


def test_nonfinite_gradient_is_named():
    def sqrt_loss(model, batch, key):  # finite value, infinite gradient at 0
        return jnp.sqrt(jnp.sum(eqx.filter(model, eqx.is_inexact_array).layers[0].bias * 0.0))

    r = fit(sqrt_loss, MODEL, OPT, (X, Y), 5, key=KEY, throw=False, progress="off")
    assert r.status == "nonfinite" and r.step == 0 and "'gradient'" in r.message


def test_corrupted_newest_checkpoint_falls_back(tmp_path):
    data = ArrayBatches((X, Y), 8)
    fit(loss, MODEL, OPT, data, 20, key=KEY, chunk_size=10, checkpoint_dir=tmp_path,
        progress="off")
    newest = tmp_path / "step_0000000020.ckpt"
    raw = bytearray(newest.read_bytes())
    raw[-10] ^= 0xFF
    newest.write_bytes(bytes(raw))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert latest_checkpoint(tmp_path).name == "step_0000000010.ckpt"
    assert any("checksum" in str(w.message) for w in caught)
    with pytest.raises(CheckpointError, match="step_0000000020.ckpt.*corrupted"):
        load_checkpoint(newest, None)


def test_checkpoint_of_another_model_is_rejected(tmp_path):
    fit(loss, MODEL, OPT, (X, Y), 10, key=KEY, checkpoint_dir=tmp_path, progress="off")
    other = eqx.nn.MLP(1, 1, 9, 2, activation=jnp.tanh, key=KEY)
    with pytest.raises(CheckpointError, match="different model"):
        fit(loss, other, OPT, (X, Y), 20, key=KEY, checkpoint_dir=tmp_path, progress="off")
    with pytest.raises(ValueError, match="resume=False"):
        fit(loss, MODEL, OPT, (X, Y), 20, key=KEY, checkpoint_dir=tmp_path, resume=False,
            progress="off")
    with pytest.raises(ValueError, match="beyond num_steps"):
        fit(loss, MODEL, OPT, (X, Y), 5, key=KEY, checkpoint_dir=tmp_path, progress="off")


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"num_steps": -1}, "num_steps must be a non-negative integer"),
        ({"num_steps": 2.5}, "num_steps must be an integer"),
        ({"chunk_size": 0}, "chunk_size must be a positive integer"),
        ({"on_nonfinite": "ignore"}, "on_nonfinite must be one of"),
        ({"checkpoint_every": 5}, "checkpoint_every needs checkpoint_dir"),
        ({"optimizer": "adam"}, "optax.GradientTransformation"),
        ({"key": jnp.array([1.0, 2.0])}, "key must be a PRNG key"),
    ],
)
def test_bad_arguments(kwargs, match):
    args = {"loss": loss, "model": MODEL, "optimizer": OPT, "data": (X, Y), "num_steps": 3,
            "key": KEY, "progress": "off"} | kwargs
    with pytest.raises(ValueError, match=match):
        fit(**args)


def test_bad_loss_and_batches():
    with pytest.raises(ValueError, match="loss must return a scalar"):
        fit(lambda m, b, k: jax.vmap(m)(b[0]), MODEL, OPT, (X, Y), 3, key=KEY,
            progress="off")
    with pytest.raises(ValueError, match="batch_size .* exceeds"):
        ArrayBatches((X, Y), 41)
    with pytest.raises(ValueError, match="leading"):
        ArrayBatches((X, Y[:5]), 4)


def test_no_recompile_on_second_call():
    traces = []

    def counted(model, batch, key):
        traces.append(1)
        return loss(model, batch, key)

    data = FullBatch((X, Y))
    fit(counted, MODEL, OPT, data, 4, key=KEY, chunk_size=2, progress="off")
    n = len(traces)
    fit(counted, MODEL, OPT, data, 4, key=jax.random.key(5), chunk_size=2, progress="off")
    assert len(traces) - n == 1  # only the up-front shape check traces again


def test_progress_bar_on_a_terminal_stream():
    import io

    from sciopt.train import ProgressReporter

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    stream = Terminal()
    reporter = ProgressReporter(100, 0, stream=stream, description="demo")
    assert reporter.mode == "bar"
    reporter.update(50, 1.25e-3, 321.0)
    reporter.update(100, 1.0e-3, 320.0)
    reporter.close()
    text = stream.getvalue()
    assert "demo" in text and "100/100" in text and "1.0000e-03" in text
    plain = io.StringIO()
    lines = ProgressReporter(10, 0, stream=plain, every_seconds=0.0)
    assert lines.mode == "lines"
    lines.update(10, 0.5, 9.0)
    assert plain.getvalue().strip() == "fit: step 10/10  loss 5.0000e-01  9.0 steps/s"
