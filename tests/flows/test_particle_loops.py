"""The particle evolutions (SVGD, Langevin, minimax Langevin, fictitious play) run on
`sciopt.train.iterate` when asked for checkpoints or progress: the same result as the pure
scan (to round-off: the two compile differently), bitwise resume from a checkpoint, and the
NaN/Inf guard."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import flows
from sciopt.train import NonFiniteIteration

KEY = jax.random.key(5)
X0 = jax.random.normal(jax.random.key(1), (24, 2))


def _log_p(x):
    return -0.5 * jnp.sum((x - 1.0) ** 2)


def _svgd(**kw):
    return flows.svgd(_log_p, X0, flows.SVGD(0.2), steps=8, save_every=2, **kw).x


def _minimax(**kw):
    game = flows.MinimaxGame(payoff=lambda x, y: x @ y,
                             potential_x=lambda x: 0.5 * x @ x,
                             potential_y=lambda y: 0.5 * y @ y)
    out = flows.minimax_langevin(game, flows.SymmetricMFL(0.1, 0.05, history=4), X0, X0[:16],
                                 steps=8, save_every=2, key=KEY, **kw)
    return jnp.concatenate([out.x.reshape(-1), out.y.reshape(-1)])


def _play(**kw):
    energy = flows.MeanFieldEnergy(potential=lambda x: 0.5 * x @ x)
    method = flows.EntropicFictitiousPlay(0.5, 0.05, inner_steps=5, mixing=0.5)
    return flows.fictitious_play(energy, method, X0, iterations=4, save_every=1, key=KEY,
                                 **kw).x


def _langevin(**kw):
    energy = flows.MeanFieldEnergy(potential=lambda x: 0.5 * x @ x)
    out = flows.langevin(energy, flows.UnderdampedMeanFieldLangevin(0.5, 0.05), X0, t1=0.4,
                         saveat=jnp.linspace(0.0, 0.4, 5), key=KEY, **kw)
    return jnp.concatenate([out.x.reshape(-1), out.v.reshape(-1)])


@pytest.mark.parametrize("run", [_svgd, _minimax, _play, _langevin],
                         ids=["svgd", "minimax", "play", "langevin"])
def test_host_loop_equals_the_pure_scan_and_resumes_bit_for_bit(run, tmp_path, capsys):
    pure = np.asarray(run())
    hosted = np.asarray(run(progress="lines"))
    np.testing.assert_allclose(hosted, pure, rtol=1e-13, atol=1e-14)  # other compilation
    assert "step 4/4" in capsys.readouterr().err
    ckpt = tmp_path / "ckpt"
    np.testing.assert_array_equal(np.asarray(run(checkpoint_dir=ckpt)), hosted)
    kept = sorted(ckpt.glob("step_*.ckpt"))
    assert [p.name for p in kept] == ["step_0000000003.ckpt", "step_0000000004.ckpt"]
    kept[-1].unlink()  # as if killed after step 3: the rerun resumes there
    np.testing.assert_array_equal(np.asarray(run(checkpoint_dir=ckpt, progress="lines")),
                                  hosted)
    assert "resuming from checkpoint at step 3" in capsys.readouterr().err
    lines = (ckpt / "metrics.jsonl").read_text().splitlines()
    assert len(lines) == 4 and '"mean_square"' in lines[0]


def test_the_guard_stops_a_diverging_run():
    """A step size far past stability overflows; the host loop stops with the last finite
    snapshot, where the pure scan would return NaN silently."""
    with pytest.raises(NonFiniteIteration, match="non-finite") as e:
        flows.svgd(lambda x: -0.5 * jnp.sum(x**4), X0, flows.SVGD(1e3), steps=40,
                   save_every=1, progress="lines")
    result = e.value.result
    assert 0 < result.step < 40
    assert np.all(np.isfinite(np.asarray(result.state[1][:result.step + 1])))
