"""Time marching for PINNs: train on one time window after another, each window's initial
condition being the previous window's network at the window's start.

A space-time PINN on a long horizon tends to settle on a wrong (often trivial) solution of
stiff reaction-diffusion problems such as Allen–Cahn; marching through short windows, each
warm-started from the last and refined by Gauss–Newton, keeps every fit local in time
(Wight & Zhao, "Solving Allen-Cahn and Cahn-Hilliard equations using the adaptive physics
informed neural networks", Commun. Comput. Phys. 29 (2021); Mattey & Ghosh, "A novel
sequential method to train physics informed neural networks for Allen Cahn and Cahn
Hilliard equations", CMAME 390 (2022)).
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, PRNGKeyArray

from sciopt import problems
from sciopt.validate import directory, positive_int, prng_key

from ._formulation import formulation
from ._model import PINN
from ._train import optimizer_for, train_pinn


class MarchingPINN(eqx.Module):
    """A piecewise-in-time PINN: window `k`'s network on `edges[k] <= t < edges[k + 1]`
    (the last window includes its end). The networks share one structure; their parameters
    are stacked along a leading window axis, so evaluation is one gather, `vmap`-friendly.

    **Fields:** `stacked` (the parameters, leading axis `K`), `static` (the shared
    structure), `edges` (`K + 1` times).
    """

    stacked: Any
    static: Any = eqx.field(static=True)
    edges: tuple[float, ...] = eqx.field(static=True)

    @classmethod
    def from_models(cls, models: list[PINN], edges) -> MarchingPINN:
        parts = [eqx.partition(m, eqx.is_inexact_array) for m in models]
        stacked = jax.tree.map(lambda *a: jnp.stack(a), *[p for p, _ in parts])
        return cls(stacked, parts[0][1], tuple(float(e) for e in edges))

    @property
    def num_windows(self) -> int:
        return len(self.edges) - 1

    def window(self, k: int) -> PINN:
        """Window `k`'s network."""
        return eqx.combine(jax.tree.map(lambda a: a[k], self.stacked), self.static)

    def __call__(self, z: Float[Array, " n"]) -> Float[Array, ""]:
        inner = jnp.asarray(self.edges[1:-1], z.dtype)
        k = jnp.searchsorted(inner, z[-1], side="right")
        params = jax.tree.map(lambda a: a[k], self.stacked)
        return eqx.combine(params, self.static)(z)


@dataclasses.dataclass
class MarchingResult:
    """What `train_pinn_marching` returns: the piecewise `model`, every step's total loss
    (`losses`, windows one after another), each window's final loss (`window_losses`) and
    wall time (`window_times`, seconds, compilation included)."""

    model: MarchingPINN
    losses: np.ndarray
    window_losses: np.ndarray
    window_times: np.ndarray


def train_pinn_marching(problem: problems.AbstractProblem, model: PINN, *, windows: int,
                        steps: int, key: PRNGKeyArray, optimizer: Any = "adam",
                        learning_rate: float = 1e-3, refine: Any = "gauss-newton",
                        refine_steps: int = 50, refine_learning_rate: float = 1e-3,
                        checkpoint_dir: str | Path | None = None, progress: Any = "auto",
                        **loss_options: Any) -> MarchingResult:
    """Time-marching PINN training on `[0, t_final]` split into `windows` equal windows.

    In window `k` the network (warm-started from window `k - 1`'s) is trained with
    `train_pinn(..., time_window=(t_k, t_{k+1}), initial=<window k-1 at t_k>)`: `steps`
    steps of `optimizer`, then `refine_steps` of `refine` (default Gauss–Newton /
    Levenberg–Marquardt, whose damping starts at `refine_learning_rate`; `None` skips it);
    both are optimiser objects (`pinns.Adam(lr)`, `pinns.GaussNewton(damping)`, ...) or
    names, as for `train_pinn`.
    `loss_options` go to `pinn_loss` (points, weights, sampling, causal weighting).
    With `checkpoint_dir`, each window checkpoints under `window_<k>/` and a rerun resumes.

    **Returns:** a `MarchingResult` whose `model` evaluates the right window's network.

    References: Wight & Zhao (2021); Mattey & Ghosh (2022) (see the module docstring).
    """
    prng_key("key", key)
    f = formulation(problem)
    if f.kind != "evolution":
        raise ValueError(f"time marching needs a time-dependent problem; "
                         f"{type(problem).__name__} is steady")
    windows = positive_int("windows", windows)
    positive_int("steps", steps)
    first = optimizer_for(optimizer, learning_rate)  # checked before any work
    if refine is not None:
        positive_int("refine_steps", refine_steps)
        second = optimizer_for(refine, refine_learning_rate)
    for name in ("time_window", "initial"):
        if name in loss_options:
            raise ValueError(f"{name} is set by train_pinn_marching for each window")
    edges = np.linspace(0.0, float(problem.t_final), windows + 1)
    root = None if checkpoint_dir is None else directory("checkpoint_dir", checkpoint_dir)
    models, losses, finals, times = [], [], [], []
    previous = None
    for k in range(windows):
        start = time.perf_counter()
        t0, t1 = float(edges[k]), float(edges[k + 1])
        options = dict(loss_options, time_window=(t0, t1))
        if previous is not None:
            options["initial"] = _at_time(previous, t0)
        stages = [(first, steps)]
        if refine is not None:
            stages.append((second, refine_steps))
        for i, (opt, n) in enumerate(stages):
            where = None if root is None else root / f"window_{k:03d}" / opt.name
            result = train_pinn(problem, model, steps=n, key=jax.random.fold_in(key, 2 * k + i),
                                optimizer=opt, checkpoint_dir=where, progress=progress,
                                **options)
            model = result.model
            losses.append(np.asarray(result.losses))
        previous = model
        models.append(model)
        finals.append(float(losses[-1][-1]) if losses[-1].size else float("nan"))
        times.append(time.perf_counter() - start)
        if progress not in ("off", False, None):
            print(f"time marching: window {k + 1}/{windows} [{t0:.4g}, {t1:.4g}] "
                  f"loss {finals[-1]:.3e} ({times[-1]:.1f} s)", flush=True)
    return MarchingResult(MarchingPINN.from_models(models, edges), np.concatenate(losses),
                          np.asarray(finals), np.asarray(times))


def _at_time(model: PINN, t: float):
    def initial(x: Float[Array, " d"]) -> Float[Array, ""]:
        return model(jnp.append(x, t))

    return initial
