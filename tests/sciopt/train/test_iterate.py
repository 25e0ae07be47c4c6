"""`sciopt.train.iterate`: chunking does not change the result, the NaN guard keeps the last
finite state, `terminate` stops early, checkpoints resume, and bad input is refused."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from sciopt.train import AbstractIterativeSolver, NonFiniteIteration, iterate


class Decay(AbstractIterativeSolver):
    """x <- rate x + noise; NaN from step `poison` on (never by default); stops when
    |x| < `tol` (never by default)."""

    rate: jax.Array
    poison: int = 10**9
    tol: float = 0.0

    def init(self, key):
        return {"x": jax.random.normal(key, (4,)), "k": jnp.asarray(0)}

    def step(self, state, key):
        x = self.rate * state["x"] + 1e-3 * jax.random.normal(key, (4,))
        x = jnp.where(state["k"] + 1 >= self.poison, jnp.nan, x)
        return {"x": x, "k": state["k"] + 1}, {"norm": jnp.linalg.norm(x), "k": state["k"]}

    def terminate(self, state):
        return jnp.linalg.norm(state["x"]) < self.tol


KEY = jax.random.key(3)


def test_chunking_and_the_host_loop_do_not_change_the_result():
    a = iterate(Decay(jnp.asarray(0.9)), 25, key=KEY, chunk_size=25, progress="off")
    b = iterate(Decay(jnp.asarray(0.9)), 25, key=KEY, chunk_size=4, progress="off")
    np.testing.assert_array_equal(a.state["x"], b.state["x"])
    np.testing.assert_array_equal(a.metrics["norm"], b.metrics["norm"])
    assert a.step == 25 and a.metrics["k"].tolist() == list(range(25)) and a.status == "ok"
    # the same law as a plain Python loop with the documented keys
    x = jax.random.normal(jax.random.split(KEY)[0], (4,))
    for s in range(25):
        x = 0.9 * x + 1e-3 * jax.random.normal(jax.random.fold_in(KEY, s), (4,))
    np.testing.assert_allclose(a.state["x"], x, rtol=1e-13, atol=1e-15)


def test_the_guard_keeps_the_last_finite_state():
    with pytest.raises(NonFiniteIteration, match="non-finite metric or state at step 6") as e:
        iterate(Decay(jnp.asarray(0.9), poison=7), 20, key=KEY, chunk_size=4, progress="off")
    result = e.value.result
    assert result.step == 6 and result.status == "nonfinite"
    assert np.all(np.isfinite(result.state["x"])) and int(result.state["k"]) == 6
    quiet = iterate(Decay(jnp.asarray(0.9), poison=7), 20, key=KEY, throw=False,
                    progress="off")
    assert quiet.status == "nonfinite" and quiet.step == 6


def test_terminate_stops_after_the_step_that_meets_it():
    out = iterate(Decay(jnp.asarray(0.5), tol=1e-2), 200, key=KEY, chunk_size=8,
                  progress="off")
    norms = out.metrics["norm"]
    assert out.status == "terminated" and out.step == len(norms) < 200
    assert norms[-1] < 1e-2 and np.all(norms[:-1] >= 1e-2)


def test_checkpoints_resume_to_the_uninterrupted_run(tmp_path):
    whole = iterate(Decay(jnp.asarray(0.9)), 30, key=KEY, chunk_size=7, progress="off")
    iterate(Decay(jnp.asarray(0.9)), 14, key=KEY, chunk_size=7, checkpoint_dir=tmp_path,
            progress="off")
    seen = []
    rest = iterate(Decay(jnp.asarray(0.9)), 30, key=KEY, chunk_size=7, checkpoint_dir=tmp_path,
                   on_chunk=lambda state, step: seen.append(step), progress="off")
    assert rest.resumed_from == 14 and seen == [21, 28, 30]
    np.testing.assert_array_equal(rest.state["x"], whole.state["x"])  # bitwise
    lines = (tmp_path / "metrics.jsonl").read_text().splitlines()
    assert len(lines) == 30  # one record a step, none repeated by the resume
    with pytest.raises(ValueError, match="already holds checkpoints and resume=False"):
        iterate(Decay(jnp.asarray(0.9)), 30, key=KEY, checkpoint_dir=tmp_path, resume=False,
                progress="off")


def test_bad_input():
    with pytest.raises(ValueError, match="AbstractIterativeSolver"):
        iterate(object(), 3, key=KEY)
    with pytest.raises(ValueError, match="num_steps must be a non-negative integer"):
        iterate(Decay(jnp.asarray(0.9)), -1, key=KEY)

    class NoMetrics(Decay):
        def step(self, state, key):
            return state, {}

    with pytest.raises(ValueError, match="at least one metric"):
        iterate(NoMetrics(jnp.asarray(0.9)), 3, key=KEY)


def test_scan_iterate_is_iterate_as_a_pure_function():
    """The same state and metrics as `iterate`, and it composes: jit, vmap over the rate,
    grad through every step (against the closed form of the noiseless part)."""
    from sciopt.train import scan_iterate

    ref = iterate(Decay(jnp.asarray(0.9)), 12, key=KEY, chunk_size=5, progress="off")
    state, metrics = jax.jit(lambda r: scan_iterate(Decay(r), 12, key=KEY))(jnp.asarray(0.9))
    np.testing.assert_array_equal(state["x"], ref.state["x"])
    np.testing.assert_array_equal(metrics["norm"], ref.metrics["norm"])
    rates = jnp.asarray([0.5, 0.9])
    batched = jax.vmap(lambda r: scan_iterate(Decay(r), 12, key=KEY)[0]["x"])(rates)
    np.testing.assert_array_equal(batched[1], ref.state["x"])
    # d x_12 / d rate: x_12 = r^12 x_0 + sum_s r^(11 - s) e_s
    x0 = jax.random.normal(jax.random.split(KEY)[0], (4,))
    noise = [1e-3 * jax.random.normal(jax.random.fold_in(KEY, s), (4,)) for s in range(12)]
    exact = 12 * 0.9**11 * x0 + sum((11 - s) * 0.9 ** (10 - s) * e
                                    for s, e in enumerate(noise) if s < 11)
    grad = jax.grad(lambda r: jnp.sum(scan_iterate(Decay(r), 12, key=KEY)[0]["x"]))(0.9)
    np.testing.assert_allclose(grad, jnp.sum(exact), rtol=1e-12)
