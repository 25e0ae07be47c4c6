"""`fit`: the training loop every method in sciopt uses."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.tree_util as jtu
import numpy as np
import optax
from jaxtyping import Array, Bool, Float, Int, PRNGKeyArray, PyTree

from .._atomic import atomic_open
from ..optim import is_least_squares
from ..validate import directory, one_of, output_file, positive_int, prng_key
from ._checkpoint import (
    latest_checkpoint,
    list_checkpoints,
    load_checkpoint,
    remove_stale_temporaries,
)
from ._loop import Chunk, run_chunks
from ._progress import ProgressReporter
from ._sources import AbstractBatchSource, as_source

LossFn = Callable[[PyTree, PyTree[Array], PRNGKeyArray],
                  Float[Array, ""] | tuple[Float[Array, ""], dict[str, Float[Array, ""]]]]

# Names of the checks after the user's loss terms, in the guard's order.
_BUILTIN_CHECKS = ("loss", "gradient", "parameters")


class NonFiniteError(FloatingPointError):
    """Raised by `fit(..., throw=True)` when a loss term, gradient or parameter goes NaN/Inf.

    The `result` attribute holds the `FitResult` (the last finite state, or the rolled-back
    one).
    """

    def __init__(self, message: str, result: FitResult):
        super().__init__(message)
        self.result = result


class TrainState(eqx.Module):
    """Everything a checkpoint holds: enough to continue bit for bit."""

    params: PyTree[Array]
    opt_state: PyTree
    key: Any
    step: Int[Array, ""]
    data_state: PyTree


class _Guard(eqx.Module):
    bad_step: Int[Array, ""]
    bad_checks: Bool[Array, " k"]


@dataclasses.dataclass(frozen=True)
class FitResult:
    """What `fit` returns.

    **Fields:**

    - `model`: the trained model (the last finite one if the run stopped on NaN/Inf).
    - `opt_state`: the optimiser state that goes with `model`.
    - `step`: the step `model` corresponds to.
    - `losses`: the total loss of every step run by this call (NumPy, float).
    - `status`: `"ok"`, `"nonfinite"` (stopped) or `"rolled_back"`.
    - `message`: a human-readable account of a non-`"ok"` status.
    - `resumed_from`: the checkpoint step this call started from, or `None`.
    - `state`: the full `TrainState` (PRNG key and data position included).
    """

    model: PyTree
    opt_state: PyTree
    step: int
    losses: np.ndarray
    status: str = "ok"
    message: str = ""
    resumed_from: int | None = None
    state: TrainState | None = None


def _raw_key(key: Any) -> Array:
    key = jnp.asarray(key) if not isinstance(key, jax.Array) else key
    if jnp.issubdtype(key.dtype, jax.dtypes.prng_key):
        return jax.random.key_data(key)
    if key.dtype != jnp.uint32:
        raise ValueError(
            f"key must be a PRNG key (jax.random.key(seed) or jax.random.PRNGKey(seed)); "
            f"got an array of dtype {key.dtype}"
        )
    return key


def _split_loss(out: Any) -> tuple[Array, dict[str, Array]]:
    if isinstance(out, tuple):
        if len(out) != 2 or not isinstance(out[1], dict):
            raise ValueError(
                "loss must return a scalar or a pair (total, {name: term}); got a tuple of "
                f"length {len(out)}"
            )
        return out[0], dict(out[1])
    return out, {}


def _all_finite(tree: PyTree) -> Bool[Array, ""]:
    leaves = [jnp.all(jnp.isfinite(x)) for x in jtu.tree_leaves(tree)
              if eqx.is_inexact_array(x)]
    return jnp.all(jnp.stack(leaves)) if leaves else jnp.array(True)


def _shard_batch(batch: PyTree[Array], mesh: jax.sharding.Mesh | None) -> PyTree[Array]:
    if mesh is None:
        return batch
    spec = jax.sharding.PartitionSpec(mesh.axis_names[0])
    sharding = jax.sharding.NamedSharding(mesh, spec)
    return jtu.tree_map(
        lambda x: jax.lax.with_sharding_constraint(x, sharding) if jnp.ndim(x) else x, batch
    )


def _replicate(tree: PyTree, mesh: jax.sharding.Mesh) -> PyTree:
    """Place every array of `tree` on all devices of `mesh`."""
    arrays, static = eqx.partition(tree, eqx.is_array)
    sharding = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec())
    return eqx.combine(jax.device_put(arrays, sharding), static)


@eqx.filter_jit
def _run_chunk(state: TrainState, num: Int[Array, ""], source: AbstractBatchSource,
               loss: LossFn, optimizer: optax.GradientTransformation, model_static: PyTree,
               term_names: tuple[str, ...], chunk_size: int, mesh: Any, grouped: bool):
    num_checks = len(term_names) + len(_BUILTIN_CHECKS)

    def one_step(state: TrainState):
        batch, data_state = source.next(state.data_state)
        batch = _shard_batch(batch, mesh)
        step_key = jax.random.fold_in(state.key, state.step)

        def total_loss(params):
            total, terms = _split_loss(loss(eqx.combine(params, model_static), batch, step_key))
            return total, terms

        if grouped:
            # One gradient per loss term (in `term_names` order), stacked on a leading axis:
            # what per-group optimisers such as MultiAdam take.
            def term_vector(params):
                total, terms = total_loss(params)
                return jnp.stack([terms[n] for n in term_names]), (total, terms)

            grads, (total, terms) = jax.jacrev(term_vector, has_aux=True)(state.params)
        else:
            (total, terms), grads = jax.value_and_grad(total_loss, has_aux=True)(state.params)
        if is_least_squares(optimizer):
            updates, opt_state = optimizer.update(
                grads, state.opt_state, state.params,
                residual_fn=lambda p: loss.residuals(eqx.combine(p, model_static), batch,
                                                     step_key),
                jacobian_fn=lambda p: loss.jacobian(eqx.combine(p, model_static), batch,
                                                    step_key))
        elif isinstance(optimizer, optax.GradientTransformationExtraArgs):
            # Line-search methods (optax.lbfgs) re-evaluate the loss on this step's batch.
            updates, opt_state = optimizer.update(
                grads, state.opt_state, state.params, value=total, grad=grads,
                value_fn=lambda p: total_loss(p)[0])
        else:
            updates, opt_state = optimizer.update(grads, state.opt_state, state.params)
        params = optax.apply_updates(state.params, updates)
        checks = jnp.stack([jnp.all(jnp.isfinite(terms[n])) for n in term_names]
                           + [jnp.isfinite(total), _all_finite(grads), _all_finite(params)])
        new = TrainState(params, opt_state, state.key, state.step + 1, data_state)
        term_values = jnp.stack([jnp.asarray(terms[n], total.dtype).reshape(())
                                 for n in term_names]) if term_names else jnp.zeros((0,))
        return new, total, term_values, checks

    def body(carry, i):
        state, guard = carry

        def run(carry):
            state, guard = carry
            new, total, term_values, checks = one_step(state)
            ok = jnp.all(checks)
            kept = jtu.tree_map(lambda a, b: jnp.where(ok, a, b), new, state)
            guard = _Guard(jnp.where(ok, guard.bad_step, state.step),
                           jnp.where(ok, guard.bad_checks, ~checks))
            return (kept, guard), (total, term_values)

        def skip(carry):
            dtype = jtu.tree_leaves(carry[0].params)[0].dtype
            nan = jnp.full((), jnp.nan, dtype)
            return carry, (nan, jnp.full((len(term_names),), jnp.nan, dtype))

        active = (i < num) & (guard.bad_step < 0)
        return jax.lax.cond(active, run, skip, carry)

    guard = _Guard(jnp.array(-1, dtype=state.step.dtype), jnp.zeros((num_checks,), bool))
    (state, guard), (totals, terms) = jax.lax.scan(body, (state, guard),
                                                   jnp.arange(chunk_size))
    return state, guard, totals, terms


def _truncate_metrics(path: Path, step: int) -> None:
    """Drop metric lines newer than `step` (written by a run killed after its checkpoint)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        return
    kept = []
    for line in path.read_text().splitlines():
        try:
            if json.loads(line)["step"] <= step:
                kept.append(line)
        except (ValueError, KeyError, TypeError):
            break  # a torn last line from a killed write
    with atomic_open(path, "w") as f:
        f.write("".join(k + "\n" for k in kept))


def resume_state(ckpt_dir: Path | None, resume: bool, like: PyTree, num_steps: int
                 ) -> tuple[int | None, PyTree]:
    """`(resumed step or None, state)`: the newest checkpoint in `ckpt_dir` loaded into the
    structure of `like` (stale temporaries removed first), or `like` itself. Refuses a
    directory with checkpoints when `resume=False`, and a checkpoint beyond `num_steps`."""
    if ckpt_dir is None:
        return None, like
    remove_stale_temporaries(ckpt_dir)
    if list_checkpoints(ckpt_dir) and not resume:
        raise ValueError(f"{ckpt_dir} already holds checkpoints and resume=False; pass "
                         f"resume=True to continue, or choose an empty directory")
    latest = latest_checkpoint(ckpt_dir) if resume else None
    if latest is None:
        return None, like
    step, state, _ = load_checkpoint(latest, like)
    if step > num_steps:
        raise ValueError(f"the checkpoint {latest} is at step {step}, beyond "
                         f"num_steps={num_steps}; raise num_steps or use another "
                         f"checkpoint_dir")
    return step, state


def fit(
    loss: LossFn,
    model: PyTree,
    optimizer: optax.GradientTransformation,
    data: AbstractBatchSource | PyTree[Array],
    num_steps: int,
    *,
    key: PRNGKeyArray,
    chunk_size: int = 100,
    checkpoint_dir: str | Path | None = None,
    checkpoint_every: int | None = None,
    keep_checkpoints: int = 2,
    resume: bool = True,
    metrics_path: str | Path | None = None,
    log_every: int = 10,
    on_nonfinite: Literal["stop", "rollback"] = "stop",
    throw: bool = True,
    mesh: jax.sharding.Mesh | None = None,
    progress: bool | Literal["auto", "bar", "lines", "off"] = "auto",
    description: str = "fit",
    grouped_gradients: bool = False,
) -> FitResult:
    """Train `model` for `num_steps` optimiser steps in compiled `lax.scan` chunks.

    Each step draws a batch from `data`, evaluates `loss(model, batch, key)` and its gradient
    with respect to the model's arrays, and applies `optimizer`. Chunks of `chunk_size` steps
    run in one compiled `lax.scan`; between chunks the host reports progress, writes metrics
    and checkpoints.

    **Arguments:**

    - `loss`: `loss(model, batch, key)` returning a scalar, or `(total, {name: term})` so that
      metrics and non-finite reports name each term.
    - `model`: an equinox module (any pytree); its inexact arrays are trained.
    - `optimizer`: an `optax.GradientTransformation` (one with extra arguments, such as
      `optax.lbfgs`, also receives `value`, `grad` and `value_fn` of the step's batch), or
      `sciopt.optim.gauss_newton(...)` for a `sciopt.optim.SumOfSquares` loss.
    - `data`: an `AbstractBatchSource` (`ArrayBatches`, `SampledBatches`, ...), or a pytree of
      arrays used as the batch at every step.
    - `num_steps`: the step to train up to (counted from 0, including resumed steps).
    - `key`: PRNG key; step `s` receives `fold_in(key, s)`, so results do not depend on where
      chunks or restarts fall.
    - `chunk_size`: steps per compiled chunk.
    - `checkpoint_dir`: where to write checkpoints; an existing checkpoint there is resumed.
    - `checkpoint_every`: steps between checkpoints (default: every chunk). One is always
      written at the end.
    - `keep_checkpoints`: how many checkpoint files to keep.
    - `resume`: continue from the newest checkpoint in `checkpoint_dir`. With `False`, a
      directory that already holds checkpoints is an error (nothing is overwritten).
    - `metrics_path`: JSON-lines metrics file (default `checkpoint_dir/metrics.jsonl`).
    - `log_every`: steps between metric records.
    - `on_nonfinite`: on a NaN/Inf loss term, gradient or parameter, `"stop"` keeps the last
      finite state; `"rollback"` returns to the newest checkpoint (or the initial state).
      A non-finite state is never checkpointed.
    - `throw`: raise `NonFiniteError` (carrying the result) instead of returning it.
    - `mesh`: a `jax.sharding.Mesh`; the batch's leading axis is sharded over its first axis
      and the parameters are replicated (data parallel).
    - `progress`: `"auto"` (bar on a terminal, lines otherwise), `"bar"`, `"lines"`, `"off"`.
    - `description`: the label of the progress output.
    - `grouped_gradients`: give `optimizer` one gradient per loss term (the terms returned by
      `loss`, in sorted-name order) stacked on a leading axis, as `sciopt.optim.multi_adam`
      expects; the loss must then return `(total, terms)`.

    **Returns:**

    A `FitResult`.
    """
    prng_key("key", key)
    num_steps = positive_int("num_steps", num_steps, allow_zero=True)
    chunk_size = positive_int("chunk_size", chunk_size)
    log_every = positive_int("log_every", log_every)
    keep_checkpoints = positive_int("keep_checkpoints", keep_checkpoints)
    one_of("on_nonfinite", on_nonfinite, ("stop", "rollback"))
    if progress is True:
        progress = "auto"
    elif progress is False:
        progress = "off"
    one_of("progress", progress, ("auto", "bar", "lines", "off"))
    if checkpoint_every is not None:
        checkpoint_every = positive_int("checkpoint_every", checkpoint_every)
        if checkpoint_dir is None:
            raise ValueError("checkpoint_every needs checkpoint_dir; pass checkpoint_dir=PATH")
    if not (isinstance(optimizer, optax.GradientTransformation) or is_least_squares(optimizer)):
        raise ValueError(f"optimizer must be an optax.GradientTransformation or a "
                         f"sciopt.optim.gauss_newton transformation, got "
                         f"{type(optimizer).__name__}")
    if is_least_squares(optimizer) and not all(
            callable(getattr(loss, m, None)) for m in ("residuals", "jacobian")):
        raise ValueError("a Gauss-Newton optimizer needs a sum-of-squares loss with "
                         "residuals(model, batch, key) and jacobian(model, batch, key) "
                         "methods (sciopt.optim.SumOfSquares)")
    if not callable(loss):
        raise ValueError(f"loss must be callable as loss(model, batch, key); got {loss!r}")
    raw_key = _raw_key(key)
    source = as_source(data)
    chunk_size = min(chunk_size, max(num_steps, 1))

    params, model_static = eqx.partition(model, eqx.is_inexact_array)
    data_key, train_key = jax.random.split(raw_key)
    state = TrainState(params, optimizer.init(params), train_key, jnp.array(0),
                       source.init(data_key))

    # Trace once to check the loss and to learn the names of its terms.
    batch_shape, _ = eqx.filter_eval_shape(source.next, state.data_state)
    out = eqx.filter_eval_shape(lambda p, b: loss(eqx.combine(p, model_static), b, train_key),
                                params, batch_shape)
    total_shape, terms_shape = _split_loss(out)
    if getattr(total_shape, "shape", None) != ():
        raise ValueError(f"loss must return a scalar; got shape "
                         f"{getattr(total_shape, 'shape', type(total_shape).__name__)}")
    term_names = tuple(sorted(terms_shape))
    if grouped_gradients and not term_names:
        raise ValueError("grouped_gradients=True needs a loss that returns (total, {name: "
                         "term}) with at least one term")
    check_names = term_names + _BUILTIN_CHECKS

    if mesh is not None:
        size = mesh.shape[mesh.axis_names[0]]
        for leaf in jtu.tree_leaves(batch_shape):
            if leaf.ndim and leaf.shape[0] % size:
                raise ValueError(
                    f"the batch size {leaf.shape[0]} is not divisible by the {size} devices of "
                    f"mesh axis {mesh.axis_names[0]!r}; choose a multiple of {size}"
                )
        state = _replicate(state, mesh)
        source = _replicate(source, mesh)

    initial_state = state
    ckpt_dir = (directory("checkpoint_dir", checkpoint_dir) if checkpoint_dir is not None
                else None)
    metrics_file = (output_file("metrics_path", metrics_path, overwrite=True)
                    if metrics_path is not None
                    else (ckpt_dir / "metrics.jsonl" if ckpt_dir is not None else None))
    resumed_from, state = resume_state(ckpt_dir, resume, state, num_steps)
    if resumed_from is not None and mesh is not None:
        state = _replicate(state, mesh)
    if metrics_file is not None:
        # Records past the starting step came from a run that was killed after them.
        _truncate_metrics(metrics_file, int(state.step))

    step = int(state.step)
    reporter = ProgressReporter(num_steps, step, mode=progress, description=description)
    if resumed_from is not None:
        reporter.message(f"{description}: resuming from checkpoint at step {resumed_from}")
    bad_checks: list[np.ndarray] = []

    def run_chunk(state, num):
        first = int(state.step)
        state, guard, totals, terms = _run_chunk(
            state, jnp.array(num), source, loss, optimizer, model_static, term_names,
            chunk_size, mesh, grouped_gradients)
        bad_step = int(guard.bad_step)
        done = num if bad_step < 0 else bad_step - first
        bad_checks.append(np.asarray(guard.bad_checks))
        values = np.column_stack([np.asarray(totals)[:done], np.asarray(terms)[:done]])
        return Chunk(state, values, bad_step)

    status, message = "ok", ""
    try:
        out = run_chunks(run_chunk, state, step=step, num_steps=num_steps,
                         chunk_size=chunk_size, names=("loss", *term_names),
                         reporter=reporter, checkpoint_dir=ckpt_dir,
                         checkpoint_every=checkpoint_every, keep_checkpoints=keep_checkpoints,
                         metrics_file=metrics_file, log_every=log_every)
        state, step = out.carry, out.step
        if out.status == "nonfinite":
            bad = [n for n, b in zip(check_names, bad_checks[-1], strict=True) if b]
            message = (f"{description}: non-finite value at step {out.bad_step} in "
                       f"{', '.join(repr(b) for b in bad)}; ")
            if on_nonfinite == "rollback":
                latest = latest_checkpoint(ckpt_dir) if ckpt_dir is not None else None
                if latest is not None:
                    _, state, _ = load_checkpoint(latest, initial_state)
                    if mesh is not None:
                        state = _replicate(state, mesh)
                else:
                    state = initial_state
                step = int(state.step)
                status = "rolled_back"
                message += f"rolled back to the state at step {step}"
            else:
                status = "nonfinite"
                message += f"stopped with the last finite state (step {step})"
            reporter.message(message)
    finally:
        reporter.close()

    result = FitResult(
        model=eqx.combine(state.params, model_static),
        opt_state=state.opt_state,
        step=step,
        losses=out.values[:, 0],
        status=status,
        message=message,
        resumed_from=resumed_from,
        state=state,
    )
    if status != "ok" and throw:
        raise NonFiniteError(message, result)
    return result
