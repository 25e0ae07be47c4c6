"""`iterate`: the driver of every iterative method that is not a gradient fit (time
stepping, outer iterations of a scheme): an `AbstractIterativeSolver` (`init` / `step` /
`terminate`, in the optimistix style) run in compiled `lax.scan` chunks with progress,
JSON-lines metrics, atomic checkpoints with bitwise resume and the NaN/Inf guard, the same
host machinery as `fit`."""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.tree_util as jtu
import numpy as np
from jaxtyping import Array, Bool, Float, Int, PRNGKeyArray, PyTree

from ..validate import directory, one_of, output_file, positive_int, prng_key, protocol
from ._fit import _all_finite, _raw_key, _truncate_metrics, resume_state
from ._loop import Chunk, run_chunks
from ._progress import ProgressReporter


class AbstractIterativeSolver(eqx.Module):
    """An iterative method as `iterate` runs it.

    - `init(key) -> state`: the state before the first step (any pytree of arrays with
      fixed shapes).
    - `step(state, key) -> (state, metrics)`: one iteration; `metrics` is a dict of scalar
      arrays (the first is the one progress shows). Step `s` receives
      `fold_in(key, s)`, so a resumed run repeats the uninterrupted one bit for bit.
    - `terminate(state) -> bool array`: stop early (default: never).
    """

    @abc.abstractmethod
    def init(self, key: PRNGKeyArray) -> PyTree[Array]:
        """The initial state."""

    @abc.abstractmethod
    def step(self, state: PyTree[Array], key: PRNGKeyArray
             ) -> tuple[PyTree[Array], dict[str, Float[Array, ""]]]:
        """One iteration: the new state and its scalar metrics."""

    def terminate(self, state: PyTree[Array]) -> Bool[Array, ""]:
        """Whether to stop before `num_steps` (checked after every step)."""
        return jnp.asarray(False)


class IterationState(eqx.Module):
    """What an `iterate` checkpoint holds: the solver's state, the key and the step."""

    state: PyTree[Array]
    key: Any
    step: Int[Array, ""]


@dataclasses.dataclass(frozen=True)
class IterateResult:
    """What `iterate` returns.

    **Fields:**

    - `state`: the solver's state after the last finite step.
    - `step`: the steps that state has taken (resumed steps included).
    - `metrics`: `{name: [steps run by this call]}` (NumPy).
    - `status`: `"ok"`, `"terminated"` (the solver's `terminate`), `"nonfinite"`.
    - `message`: an account of a non-`"ok"` status; `resumed_from`: the checkpoint step this
      call started from, or `None`.
    """

    state: PyTree
    step: int
    metrics: dict[str, np.ndarray]
    status: str = "ok"
    message: str = ""
    resumed_from: int | None = None


class NonFiniteIteration(FloatingPointError):
    """Raised by `iterate(..., throw=True)` on a NaN/Inf metric or state; `result` holds the
    `IterateResult` with the last finite state."""

    def __init__(self, message: str, result: IterateResult):
        super().__init__(message)
        self.result = result


@eqx.filter_jit
def _chunk(solver: AbstractIterativeSolver, carry: IterationState, num: Int[Array, ""],
           names: tuple[str, ...], chunk_size: int):
    def body(c, i):
        carry, bad, stop = c

        def run(c):
            carry, bad, stop = c
            state, metrics = solver.step(carry.state, jax.random.fold_in(carry.key,
                                                                         carry.step))
            values = jnp.stack([jnp.asarray(metrics[n]).reshape(()) for n in names]
                               ).astype(jnp.result_type(float))
            ok = jnp.all(jnp.isfinite(values)) & _all_finite(state)
            new = IterationState(state, carry.key, carry.step + 1)
            kept = jtu.tree_map(lambda a, b: jnp.where(ok, a, b), new, carry)
            stop = ok & solver.terminate(state)
            return (kept, jnp.where(ok, bad, carry.step), stop), values

        def skip(c):
            return c, jnp.full((len(names),), jnp.nan, jnp.result_type(float))

        active = (i < num) & (bad < 0) & ~stop
        return jax.lax.cond(active, run, skip, c)

    start = (carry, jnp.asarray(-1, carry.step.dtype), jnp.asarray(False))
    (carry, bad, stop), values = jax.lax.scan(body, start, jnp.arange(chunk_size))
    return carry, bad, stop, values


def iterate(
    solver: AbstractIterativeSolver,
    num_steps: int,
    *,
    key: PRNGKeyArray,
    chunk_size: int = 100,
    checkpoint_dir: str | Path | None = None,
    keep_checkpoints: int = 2,
    resume: bool = True,
    metrics_path: str | Path | Literal[False] | None = None,
    on_chunk: Callable[[PyTree, int], None] | None = None,
    throw: bool = True,
    progress: bool | Literal["auto", "bar", "lines", "off"] = "auto",
    description: str = "iterate",
) -> IterateResult:
    """Run `solver` for `num_steps` steps (counted from 0, resumed steps included) in
    compiled chunks of `chunk_size` steps.

    **Arguments:**

    - `solver`: an `AbstractIterativeSolver`.
    - `num_steps`: the step to run up to; `key`: PRNG key (step `s` gets
      `fold_in(key, s)`; `init` gets `split(key)[0]`).
    - `chunk_size`: steps per compiled `lax.scan` chunk; between chunks the host reports
      progress, writes metrics, checkpoints and calls `on_chunk(state, step)`.
    - `checkpoint_dir`: checkpoints after every chunk (atomic; the newest
      `keep_checkpoints` kept); an existing one there is resumed (`resume=False`: refuse).
    - `metrics_path`: JSON-lines metrics, one line a step (default
      `checkpoint_dir/metrics.jsonl`; `False`: none); lines past the resumed step are
      dropped.
    - `throw`: raise `NonFiniteIteration` on a NaN/Inf metric or state (the result, with
      the last finite state, on the exception); otherwise return it with
      `status="nonfinite"`.
    - `progress`, `description`: as for `fit`.

    **Returns:** an `IterateResult`.
    """
    prng_key("key", key)
    num_steps = positive_int("num_steps", num_steps, allow_zero=True)
    chunk_size = min(positive_int("chunk_size", chunk_size), max(num_steps, 1))
    keep_checkpoints = positive_int("keep_checkpoints", keep_checkpoints)
    progress = {True: "auto", False: "off"}.get(progress, progress)
    one_of("progress", progress, ("auto", "bar", "lines", "off"))
    if not isinstance(solver, AbstractIterativeSolver):
        raise ValueError(f"solver must be a sciopt.train.AbstractIterativeSolver; got "
                         f"{type(solver).__name__}")
    # step s gets fold_in(key, s) (the keys TENG's steps always had); init another stream
    step_key = _raw_key(key)
    init_key = jax.random.split(step_key)[0]
    carry = IterationState(solver.init(init_key), step_key, jnp.asarray(0))
    _, metrics_shape = eqx.filter_eval_shape(solver.step, carry.state, step_key)
    if not isinstance(metrics_shape, dict) or not metrics_shape or any(
            getattr(v, "shape", None) != () for v in metrics_shape.values()):
        raise ValueError("solver.step must return (state, {name: scalar}) with at least one "
                         "metric")
    names = tuple(metrics_shape)

    ckpt_dir = (directory("checkpoint_dir", checkpoint_dir) if checkpoint_dir is not None
                else None)
    metrics_file = (None if metrics_path is False
                    else output_file("metrics_path", metrics_path, overwrite=True)
                    if metrics_path is not None
                    else (ckpt_dir / "metrics.jsonl" if ckpt_dir is not None else None))
    resumed_from, carry = resume_state(ckpt_dir, resume, carry, num_steps)
    if metrics_file is not None:
        _truncate_metrics(metrics_file, int(carry.step))

    step = int(carry.step)
    reporter = ProgressReporter(num_steps, step, mode=progress, description=description)
    if resumed_from is not None:
        reporter.message(f"{description}: resuming from checkpoint at step {resumed_from}")
    status, message = "ok", ""
    if resumed_from is not None and bool(eqx.filter_jit(solver.terminate)(carry.state)):
        status, message = "terminated", f"{description}: terminated at step {step}"
        num_steps = step  # a finished run resumed: nothing left to do

    def run_chunk(carry, num):
        first = int(carry.step)
        carry, bad, stop, values = _chunk(solver, carry, jnp.asarray(num), names, chunk_size)
        return Chunk(carry, np.asarray(values)[:int(carry.step) - first], int(bad),
                     bool(stop))

    try:
        out = run_chunks(run_chunk, carry, step=step, num_steps=num_steps,
                         chunk_size=chunk_size, names=names, reporter=reporter,
                         checkpoint_dir=ckpt_dir, keep_checkpoints=keep_checkpoints,
                         metrics_file=metrics_file, on_chunk=(
                             None if on_chunk is None
                             else lambda c, s: on_chunk(c.state, s)))
        carry, step = out.carry, out.step
        if out.status == "nonfinite":
            status = "nonfinite"
            message = (f"{description}: non-finite metric or state at step {out.bad_step}; "
                       f"stopped with the last finite state (step {step})")
            reporter.message(message)
        elif out.status == "terminated":
            status, message = "terminated", f"{description}: terminated at step {step}"
    finally:
        reporter.close()
    result = IterateResult(carry.state, step,
                           {n: out.values[:, k] for k, n in enumerate(names)}, status,
                           message, resumed_from)
    if status == "nonfinite" and throw:
        raise NonFiniteIteration(message, result)
    return result


def scan_iterate(solver: AbstractIterativeSolver, num_steps: int, *, key: PRNGKeyArray
                 ) -> tuple[PyTree[Array], dict[str, Float[Array, " num_steps"]]]:
    """`solver`'s `num_steps` steps as one `lax.scan`, with the keys `iterate` gives them
    (`init` gets `split(key)[0]`, step `s` gets `fold_in(key, s)`), so both return the
    same state: the pure form, for callers' `jax.jit`, `jax.vmap` and `jax.grad`.

    No host machinery: no progress, checkpoints or NaN/Inf guard, and `terminate` is not
    consulted (every step runs).

    **Returns:** `(state, metrics)` with `metrics[name]` of shape `[num_steps]`.
    """
    prng_key("key", key)
    protocol("solver", solver, ("init", "step"), "an iterative solver "
             "(sciopt.train.AbstractIterativeSolver)")
    num_steps = positive_int("num_steps", num_steps, allow_zero=True)
    step_key = _raw_key(key)
    state = solver.init(jax.random.split(step_key)[0])

    def body(state, s):
        state, metrics = solver.step(state, jax.random.fold_in(step_key, s))
        return state, {n: jnp.asarray(v).reshape(()) for n, v in metrics.items()}

    return jax.lax.scan(body, state, jnp.arange(num_steps))
