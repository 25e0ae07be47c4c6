"""`generate_dataset`: random initial conditions, solved in vmapped chunks, written in the
PDEBench layout. Resumable: finished chunks are kept beside the output until the file is
assembled, so a killed run re-run with the same arguments continues and produces the same
file."""

from __future__ import annotations

import hashlib
import json
import math
import shutil
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, PRNGKeyArray

from .. import __version__, problems
from .._atomic import atomic_open
from .._validate import positive_float, positive_int
from ..problems._registry import save_schedule
from ..solvers import PeriodicGrid
from ..train import ProgressReporter
from ._hdf5 import DatasetError, write_dataset


def gaussian_random_field(key: PRNGKeyArray, grid: PeriodicGrid, *, length_scale: float,
                          std: float = 1.0) -> Float[Array, "..."]:
    """A periodic, zero-mean Gaussian random field on `grid` with squared-exponential
    covariance `std^2 exp(-|x - y|^2 / (2 length_scale^2))` (periodised), drawn by filtering
    white noise in Fourier space and normalised to pointwise standard deviation `std`."""
    length_scale = positive_float("length_scale", length_scale)
    std = positive_float("std", std)
    noise = jax.random.normal(key, grid.sizes, jnp.result_type(float))
    k2 = sum(k**2 for k in grid.wavenumbers())
    # The covariance's spectrum is proportional to exp(-k^2 l^2 / 2); filter by its root.
    amplitude = jnp.exp(-k2 * length_scale**2 / 4)
    field = grid.to_physical(grid.to_spectral(noise) * amplitude)
    # Pointwise variance of the filtered white noise: mean of |amplitude|^2 over all modes.
    full = np.ones(grid.sizes[-1] // 2 + 1) * 2
    full[0] = 1
    if grid.sizes[-1] % 2 == 0:
        full[-1] = 1
    weight = jnp.asarray(full.reshape((1,) * (grid.ndim - 1) + (-1,)))
    variance = jnp.sum(weight * jnp.broadcast_to(amplitude**2, k2.shape)) / math.prod(grid.sizes)
    return std * field / jnp.sqrt(variance)


def _config_hash(config: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:16]


def generate_dataset(
    out: str | Path,
    problem: str,
    *,
    samples: int,
    resolution: int,
    seed: int,
    num_times: int = 11,
    t_final: float | None = None,
    dt: float | None = None,
    length_scale: float = 0.1,
    std: float = 1.0,
    chunk_size: int = 32,
    params: Mapping[str, Any] | None = None,
    overwrite: bool = False,
    progress: str = "auto",
) -> Path:
    """Generate a dataset of trajectories from random initial conditions.

    **Arguments:**

    - `out`: the HDF5 file to write (atomically).
    - `problem`: a registered periodic problem (`sciopt.problems.names()`), built with
      `params`.
    - `samples`, `resolution`, `seed`: number of trajectories, grid points, PRNG seed.
      Sample `i` uses `fold_in(key(seed), i)`, so samples do not depend on `chunk_size`.
    - `num_times`, `t_final`: saved times `linspace(0, t_final, num_times)` (default
      `t_final`: the problem's).
    - `dt`: solver step (default the problem's; rejected above its stability limit).
    - `length_scale`, `std`: the Gaussian random field of the initial conditions, as a
      fraction of the period and in absolute units.
    - `chunk_size`: trajectories solved together (vmapped) and saved as one resumable unit.
    - `overwrite`: replace an existing `out`.

    **Returns:**

    The path written. Unfinished work lives in `OUT.partial/` until the file is complete.
    """
    out = Path(out)
    samples = positive_int("samples", samples)
    resolution = positive_int("resolution", resolution)
    chunk_size = positive_int("chunk_size", chunk_size)
    num_times = positive_int("num_times", num_times)
    if num_times < 2:
        raise ValueError(f"num_times must be at least 2; got {num_times}")
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise ValueError(f"seed must be an integer; got {seed!r}")
    prob = problems.get(problem, **dict(params or {}))
    if not isinstance(prob, problems.AbstractPeriodic1D):
        supported = [n for n in problems.names()
                     if isinstance(problems.get(n), problems.AbstractPeriodic1D)]
        raise ValueError(f"problem {problem!r} has no random-initial-condition generator yet; "
                         f"supported: {', '.join(supported)}")
    if out.exists() and not overwrite:
        raise DatasetError(f"{out} already exists; pass overwrite=True (--overwrite) to "
                           f"replace it")
    grid = prob.grid(resolution)
    t_final = prob.t_final if t_final is None else positive_float("t_final", t_final)
    times = np.linspace(0.0, t_final, num_times)
    period = prob.interval[1] - prob.interval[0]
    field = {"kind": "gaussian_random_field", "covariance": "squared_exponential, periodic",
             "length_scale": length_scale * period, "std": std, "mean": 0.0}
    config = {"problem": problem, "parameters": prob.parameters, "samples": samples,
              "resolution": resolution, "seed": seed, "times": times.tolist(), "dt": dt,
              "initial_condition": field, "chunk_size": chunk_size, "sciopt": __version__}

    def initial(i):
        key = jax.random.fold_in(jax.random.key(seed), i)
        return gaussian_random_field(key, grid, length_scale=length_scale * period, std=std)

    # Check the step against the stability limit on one sample before any work.
    probe = jax.jit(initial)(0)
    prob.solve(probe[None], times[:2], dt=dt)

    partial = out.with_name(out.name + ".partial")
    partial.mkdir(parents=True, exist_ok=True)
    config_file = partial / "config.json"
    if config_file.exists():
        if json.loads(config_file.read_text()).get("hash") != _config_hash(config):
            raise DatasetError(f"{partial} holds chunks of a run with other arguments; delete "
                               f"it or repeat that run's arguments")
    else:
        with atomic_open(config_file, "w") as f:
            json.dump({"hash": _config_hash(config), "config": config}, f, indent=1)

    @jax.jit
    def solve_chunk(index):
        u0 = jax.vmap(initial)(index)
        return prob.solve(u0, times, dt=dt)

    num_chunks = -(-samples // chunk_size)
    done = sum((partial / f"chunk_{c:06d}.npy").exists() for c in range(num_chunks))
    reporter = ProgressReporter(samples, min(samples, done * chunk_size), mode=progress,
                                description=f"generate {problem}", unit="sample")
    if done:
        reporter.message(f"generate {problem}: resuming, {done}/{num_chunks} chunks done")
    try:
        for c in range(num_chunks):
            path = partial / f"chunk_{c:06d}.npy"
            if path.exists():
                continue
            start = c * chunk_size
            index = jnp.arange(start, start + chunk_size)  # the last chunk is cut below
            t0 = time.perf_counter()
            u = np.asarray(solve_chunk(index))[: samples - start]
            if not np.all(np.isfinite(u)):
                raise FloatingPointError(
                    f"chunk {c} of {problem} went non-finite; lower dt (now "
                    f"{dt or prob.default_dt}) or the initial-condition std ({std})")
            with atomic_open(path, "wb") as f:
                np.save(f, u)
            reporter.update(min(samples, start + chunk_size), None,
                            len(u) / (time.perf_counter() - t0))
    finally:
        reporter.close()

    tensor = np.concatenate([np.load(partial / f"chunk_{c:06d}.npy")
                             for c in range(num_chunks)])[..., None]
    _, _, step = save_schedule(times, dt, prob.default_dt)
    write_dataset(out, tensor, t=times, coords={"x": np.asarray(grid.axes()[0])},
                  problem=problem, parameters=prob.parameters,
                  solver={"name": "etdrk4", "dt": step, "dealias": "2/3", "resolution":
                          resolution, "contour_points": 64},
                  seed=seed, channels=["u"], metadata={"initial_condition": field},
                  overwrite=overwrite)
    shutil.rmtree(partial)
    return out
