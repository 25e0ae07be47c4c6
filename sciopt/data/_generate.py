"""`generate_dataset`: random initial conditions, solved in vmapped chunks, written in the
PDEBench layout. Resumable: finished chunks are kept beside the output until the file is
assembled, so a killed run re-run with the same arguments continues and produces the same
file."""

from __future__ import annotations

import contextlib
import hashlib
import json
import shutil
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

try:
    import fcntl  # advisory file locks (POSIX)
except ImportError:  # pragma: no cover - Windows
    fcntl = None

import jax
import jax.numpy as jnp
import numpy as np

from .. import __version__, problems
from .._atomic import atomic_open
from ..train import ProgressReporter
from ..validate import path, positive_float, positive_int
from ._hdf5 import BlockArray, DatasetError, write_dataset

# Sizes (samples, grid points per axis, saved times, horizon) of well-known collections, for
# generating sets of the same scale. Equations, domains and parameters stay sciopt's: these
# fix sizes, not physics.
PRESETS: dict[str, dict[str, dict[str, Any]]] = {
    "pdebench": {  # Takamoto et al., PDEBench (NeurIPS 2022 Datasets and Benchmarks)
        "advection1d": {"samples": 10000, "resolution": 1024, "num_times": 201,
                        "t_final": 2.0},
        "burgers1d_periodic": {"samples": 10000, "resolution": 1024, "num_times": 201,
                               "t_final": 2.0},
        "fisher_kpp1d": {"samples": 10000, "resolution": 1024, "num_times": 101,
                         "t_final": 1.0},
        "allen_cahn2d": {"samples": 1000, "resolution": 128, "num_times": 101, "t_final": 5.0},
        "heat2d": {"samples": 1000, "resolution": 128, "num_times": 101, "t_final": 5.0},
        "navier_stokes2d": {"samples": 1000, "resolution": 128, "num_times": 21,
                            "t_final": 1.0},
        "darcy2d": {"samples": 10000, "resolution": 128},
    },
    "fno": {  # Li et al., Fourier Neural Operator (ICLR 2021)
        "burgers1d_periodic": {"samples": 2048, "resolution": 8192, "num_times": 2,
                               "t_final": 1.0},
        "darcy2d": {"samples": 1024, "resolution": 421},
        "navier_stokes2d": {"samples": 1200, "resolution": 64, "num_times": 51,
                            "t_final": 50.0},
    },
}
_DEFAULTS = {"num_times": 11, "t_final": None}


def _sizes(problem: str, preset: str | None, given: dict[str, Any]) -> dict[str, Any]:
    """Explicit arguments over the preset's sizes over the defaults."""
    chosen: dict[str, Any] = dict(_DEFAULTS)
    if preset is not None:
        if preset not in PRESETS:
            raise ValueError(f"unknown preset {preset!r}; known: {', '.join(PRESETS)}")
        if problem not in PRESETS[preset]:
            raise ValueError(f"preset {preset!r} has no sizes for {problem!r}; it covers "
                             f"{', '.join(PRESETS[preset])}")
        chosen.update(PRESETS[preset][problem])
    chosen.update({k: v for k, v in given.items() if v is not None})
    for name in ("samples", "resolution"):
        if chosen.get(name) is None:
            raise ValueError(f"{name} is required (or a preset that sets it)")
    return chosen


def _config_hash(config: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:16]


_FIELD_OPTIONS = {"squared_exponential": {"length_scale": 0.1, "std": 1.0},
                  "matern": {"alpha": 2.0, "tau": 5.0, "sigma": 25.0}}


def _field(covariance: str, **given: float | None) -> dict[str, Any]:
    """The initial-condition field: its covariance's options, defaults filled in; an option
    of the other covariance is refused."""
    if covariance not in _FIELD_OPTIONS:
        raise ValueError(f"covariance must be one of {', '.join(_FIELD_OPTIONS)}; got "
                         f"{covariance!r}")
    options = _FIELD_OPTIONS[covariance]
    stray = [k for k, v in given.items() if v is not None and k not in options]
    if stray:
        raise ValueError(f"{', '.join(stray)} do(es) not apply to the {covariance} covariance "
                         f"(its options: {', '.join(options)})")
    return {"covariance": covariance,
            **{k: positive_float(k, options[k] if given.get(k) is None else given[k])
               for k in options}}


def generate_dataset(
    out: str | Path,
    problem: str,
    *,
    samples: int | None = None,
    resolution: int | None = None,
    seed: int,
    num_times: int | None = None,
    t_final: float | None = None,
    dt: float | None = None,
    length_scale: float | None = None,
    std: float | None = None,
    covariance: str = "squared_exponential",
    alpha: float | None = None,
    tau: float | None = None,
    sigma: float | None = None,
    chunk_size: int = 32,
    params: Mapping[str, Any] | None = None,
    preset: str | None = None,
    dtype: str | None = None,
    overwrite: bool = False,
    progress: str = "auto",
) -> Path:
    """Generate a dataset of trajectories from random initial conditions.

    **Arguments:**

    - `out`: the HDF5 file to write (atomically).
    - `problem`: a registered periodic problem, 1D or 2D (random initial conditions), or
      `darcy2d`
      (random permeability; the solution is stored with `t = [0]` and the coefficient as the
      extra array `nu`, as in PDEBench), built with `params`.
    - `samples`, `resolution`, `seed`: number of trajectories, grid points, PRNG seed.
      Sample `i` uses `fold_in(key(seed), i)`, so samples do not depend on `chunk_size`.
    - `num_times`, `t_final`: saved times `linspace(0, t_final, num_times)` (default 11
      and the problem's `t_final`).
    - `dt`: solver step (default the problem's; rejected above its stability limit).
    - `covariance`: of the Gaussian random field of the initial conditions:
      `"squared_exponential"` with `length_scale` (a fraction of the period, default 0.1)
      and pointwise `std` (default 1), or `"matern"`, `sigma^2 (-Laplacian + tau^2)^(-alpha)`
      with zero mean mode (`matern_random_field`; default `alpha = 2, tau = 5, sigma = 25`,
      the FNO paper's Burgers initial conditions on the unit period).
    - `chunk_size`: trajectories solved together (vmapped) and saved as one resumable unit.
    - `preset`: take `samples`, `resolution`, `num_times` and `t_final` (those not given)
      from `PRESETS[preset][problem]`, e.g. `"pdebench"` or `"fno"` for sets of their size.
    - `dtype`: stored floating-point type (default: the solver's; PDEBench stores float32).
      Solves run in the precision JAX is configured for (the CLI enables float64);
      `"float64"` with JAX in float32 is refused rather than storing float32 solves.
    - `overwrite`: replace an existing `out`.

    The file is assembled chunk by chunk, so sets larger than memory can be written.

    **Returns:**

    The path written. Unfinished work lives in `OUT.partial/` until the file is complete.
    """
    out = path("out", out)
    sizes = _sizes(problem, preset, {"samples": samples, "resolution": resolution,
                                     "num_times": num_times, "t_final": t_final})
    samples = positive_int("samples", sizes["samples"])
    resolution = positive_int("resolution", sizes["resolution"])
    num_times = positive_int("num_times", sizes["num_times"])
    t_final = sizes["t_final"]
    chunk_size = positive_int("chunk_size", chunk_size)
    if dtype is not None and dtype not in ("float32", "float64"):
        raise ValueError(f"dtype must be float32 or float64; got {dtype!r}")
    if dtype == "float64" and jnp.result_type(float) != jnp.float64:
        raise ValueError("dtype='float64' would store float32 solves: enable float64 first "
                         "(jax.config.update('jax_enable_x64', True); the CLI does)")
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise ValueError(f"seed must be an integer; got {seed!r}")
    prob = problems.get(problem, **dict(params or {}))
    field = _field(covariance, length_scale=length_scale, std=std, alpha=alpha, tau=tau,
                   sigma=sigma)
    plan = prob.data_plan(resolution, seed=seed, num_times=num_times, t_final=t_final, dt=dt,
                          field=field, default_field=field == _field("squared_exponential"))
    if out.exists() and not overwrite:
        raise _exists_error(out)
    config = {"problem": problem, "parameters": prob.parameters, "samples": samples,
              "resolution": resolution, "seed": seed, "chunk_size": chunk_size,
              "precision": str(jnp.result_type(float)), "sciopt": __version__,
              **plan.config}
    plan.check()  # e.g. the step against the stability limit, before any work

    partial = out.with_name(out.name + ".partial")
    partial.mkdir(parents=True, exist_ok=True)
    with _generation_lock(partial, out):
        if out.exists() and not overwrite:  # another process wrote it meanwhile
            shutil.rmtree(partial, ignore_errors=True)
            raise _exists_error(out)
        config_file = partial / "config.json"
        if config_file.exists():
            if json.loads(config_file.read_text()).get("hash") != _config_hash(config):
                raise DatasetError(f"{partial} holds chunks of a run with other arguments; "
                                   f"delete it or repeat that run's arguments")
        else:
            with atomic_open(config_file, "w") as f:
                json.dump({"hash": _config_hash(config), "config": config}, f, indent=1)

        solve_chunk = jax.jit(lambda index: plan.solve(jax.vmap(plan.draw)(index)))
        num_chunks = -(-samples // chunk_size)

        def chunk_path(c):
            return partial / f"chunk_{c:06d}.npz"

        done = sum(chunk_path(c).exists() for c in range(num_chunks))
        reporter = ProgressReporter(samples, min(samples, done * chunk_size), mode=progress,
                                    description=f"generate {problem}", unit="sample")
        if done:
            reporter.message(f"generate {problem}: resuming, {done}/{num_chunks} chunks done")
        try:
            for c in range(num_chunks):
                if chunk_path(c).exists():
                    continue
                start = c * chunk_size
                index = jnp.arange(start, start + chunk_size)  # the last chunk is cut below
                t0 = time.perf_counter()
                arrays = {k: np.asarray(v)[: samples - start]
                          for k, v in solve_chunk(index).items()}
                if not all(np.all(np.isfinite(v)) for v in arrays.values()):
                    raise FloatingPointError(f"chunk {c} of {problem} went non-finite; "
                                             f"{plan.advice}")
                with atomic_open(chunk_path(c), "wb") as f:
                    np.savez(f, **arrays)
                reporter.update(min(samples, start + chunk_size), None,
                                len(arrays["tensor"]) / (time.perf_counter() - t0))
        finally:
            reporter.close()

        # Assemble chunk by chunk (one chunk in memory at a time).
        with np.load(chunk_path(0)) as first:
            heads = {k: first[k] for k in first.files}

        def column(name):
            def load(c):
                with np.load(chunk_path(c)) as f:
                    return f[name][..., None] if name == "tensor" else f[name]

            head = heads[name][..., None] if name == "tensor" else heads[name]
            return BlockArray((samples, *head.shape[1:]), head.dtype,
                              [lambda c=c: load(c) for c in range(num_chunks)])

        extras = {k: column(k) for k in heads if k != "tensor"}
        write_dataset(out, column("tensor"), t=plan.times, coords=plan.coords, extras=extras,
                      problem=problem, parameters=prob.parameters,
                      solver={**plan.solver, "precision": config["precision"]}, seed=seed,
                      channels=["u"], metadata=plan.metadata, overwrite=overwrite, dtype=dtype)
        shutil.rmtree(partial)
    return out


def _exists_error(out: Path) -> DatasetError:
    return DatasetError(f"{out} already exists; pass overwrite=True (--overwrite) to replace "
                        f"it")


@contextlib.contextmanager
def _generation_lock(partial: Path, out: Path):
    """Hold an exclusive advisory lock on `partial/.lock` while the chunks are solved and
    assembled, so that two processes never fill or remove the same partial folder at once
    (the second is refused with a clear error; the first goes on unharmed). Where the
    platform has no advisory locks (no `fcntl`), generation runs unguarded."""
    if fcntl is None:  # pragma: no cover - Windows
        yield
        return
    with open(partial / ".lock", "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DatasetError(
                f"{out} is being generated by another process (it holds "
                f"{partial / '.lock'}); wait for it to finish, or write to another path"
            ) from None
        yield  # closing the file releases the lock
