"""One wrong argument per parameter for every public callable with a valid call below.

Each entry of `valid_calls(tmp)` is a public callable and a call that works; `sweep` replaces
one argument at a time by wrong values generated from the argument's kind (an integer gets
a negative, a float and a string; an array gets a string, NaN, an extra axis; a path gets
a directory where a file belongs, ...). A wrong call passes when it

- raises an error from our own code (the innermost frame is in `sciopt`, `operators`,
  `pinns` or `flows`: a message written for the user, not one from inside jax / numpy /
  h5py), or the compiled-program form of one of our checks (`eqx.error_if`), or
- returns a result with no NaN (the value had a meaning: a bool for an int, -1 for an
  index, ...),

and in both cases leaves no file behind in the scratch folder that was not there before.
`python -m tests._sweep` prints the counts and every failure.
"""

from __future__ import annotations

import inspect
import math
import numbers
import os
import re
import sys
import tempfile
import traceback
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

HERE = Path(__file__).parent  # the test files' own functions stand for the user's

OURS = (f"{os.sep}sciopt{os.sep}", f"{os.sep}operators{os.sep}", f"{os.sep}pinns{os.sep}",
        f"{os.sep}flows{os.sep}")


def valid_calls(tmp: Path) -> list[tuple[str, Callable, dict[str, Any]]]:
    """`(name, callable, arguments by parameter name)`, each a call that works."""
    import flows
    import operators
    import pinns
    from sciopt import (
        data,
        derivatives,
        geometry,
        inverse,
        kernels,
        optim,
        problems,
        solvers,
        train,
    )

    key = jax.random.key(0)
    x = jax.random.normal(jax.random.key(1), (6, 2))
    y = jax.random.normal(jax.random.key(2), (5, 2))
    w = jnp.linspace(0.1, 1.0, 5)
    gauss = kernels.GaussianKernel(1.0)
    score = kernels.SquaredDistanceScore(1.0)
    cube = lambda z: jnp.sum(z**3)  # noqa: E731
    grid = solvers.PeriodicGrid(16, 2 * math.pi)
    u16 = jnp.sin(jnp.linspace(0, 2 * math.pi, 16, endpoint=False))
    tensor = np.linspace(0, 1, 3 * 2 * 8).reshape(3, 2, 8, 1)
    dataset = tmp / "set.h5"
    data.write_dataset(dataset, tensor, t=np.array([0.0, 1.0]),
                       coords={"x": np.linspace(0, 1, 8)}, problem="burgers1d_periodic")
    pairs = operators.operator_pairs(dataset)
    fno_spec = {"model": "fno", "args": {"in_channels": 1, "out_channels": 1, "modes": [4],
                                         "width": 8, "layers": 1, "projection": 8}}
    fno = operators.build_model(fno_spec, key=key)
    ckpt = train.save_checkpoint(tmp / "ckpt", 1, {"w": jnp.ones(2)})
    log_p = lambda z: -0.5 * jnp.sum(z**2)  # noqa: E731
    heat1d, heat2d = problems.get("heat1d"), problems.get("heat2d")
    cost = jnp.abs(x[:, None, 0] - y[None, :, 0])
    sink = flows.Sinkhorn(epsilon=0.5)
    axes = (np.linspace(0, 1, 5), np.linspace(0, 1, 5))
    mlp = pinns.MLP(2, 1, 8, 2, key=key)

    return [
        # kernels
        ("kernels.kernel_matvec", kernels.kernel_matvec,
         {"kernel": gauss, "x": x, "y": y, "v": w, "block_size": 4}),
        ("kernels.kernel_logsumexp", kernels.kernel_logsumexp,
         {"score": score, "x": x, "y": y, "v": w, "block_size": 4}),
        ("kernels.gaussian_kernel", kernels.gaussian_kernel, {"bandwidth": 0.5}),
        ("kernels.squared_distance_score", kernels.squared_distance_score, {"epsilon": 0.5}),
        ("kernels.pairwise", kernels.pairwise, {"fn": gauss, "x": x, "y": y}),
        ("kernels.squared_distances", kernels.squared_distances, {"x": x, "y": y}),
        # derivatives
        ("derivatives.laplacian", derivatives.laplacian,
         {"f": cube, "x": jnp.array([1.0, 2.0]), "method": "exact", "num_samples": 4}),
        ("derivatives.biharmonic", derivatives.biharmonic,
         {"f": cube, "x": jnp.array([1.0, 2.0])}),
        ("derivatives.divergence", derivatives.divergence,
         {"F": lambda z: z**2, "x": jnp.array([1.0, 2.0])}),
        ("derivatives.taylor", derivatives.taylor,
         {"f": cube, "x": jnp.array([1.0, 2.0]), "v": jnp.array([1.0, 0.0]), "order": 2}),
        ("derivatives.basis", derivatives.basis, {"dim": 3}),
        # optim
        ("optim.least_squares_step", optim.least_squares_step,
         {"jac": jnp.eye(3), "res": jnp.ones(3), "damping": 0.1, "solver": "cholesky"}),
        ("optim.multi_adam", optim.multi_adam,
         {"learning_rate": 1e-3, "b1": 0.9, "b2": 0.99, "eps": 1e-8, "weights": [0.5, 0.5]}),
        ("optim.gauss_newton", optim.gauss_newton, {"damping": 1e-3, "max_tries": 4}),
        # data
        ("data.read_dataset", data.read_dataset, {"path": dataset, "samples": [0, 1]}),
        ("data.inspect_dataset", data.inspect_dataset, {"path": dataset, "verify": True}),
        ("data.write_dataset", data.write_dataset,
         {"path": tmp / "out.h5", "tensor": tensor, "t": np.array([0.0, 1.0]),
          "coords": {"x": np.linspace(0, 1, 8)}, "problem": "p", "overwrite": True}),
        ("data.split_indices", data.split_indices,
         {"num_samples": 10, "fractions": (0.5, 0.5), "seed": 0}),
        ("data.gaussian_random_field", data.gaussian_random_field,
         {"key": key, "grid": grid, "length_scale": 0.5, "std": 1.0}),
        # train
        ("train.fit", train.fit,
         {"loss": lambda m, b, k: jnp.sum((m - b) ** 2), "model": jnp.ones(2),
          "optimizer": optax.sgd(0.1), "data": jnp.ones((4, 2)), "num_steps": 2, "key": key,
          "chunk_size": 2, "checkpoint_dir": tmp / "fit", "progress": "off"}),
        ("train.save_checkpoint", train.save_checkpoint,
         {"directory": tmp / "ck2", "step": 3, "state": {"w": jnp.ones(2)}}),
        ("train.load_checkpoint", train.load_checkpoint,
         {"path": ckpt, "like": {"w": jnp.ones(2)}}),
        ("train.latest_checkpoint", train.latest_checkpoint, {"directory": tmp / "ckpt"}),
        # solvers
        ("solvers.solve_burgers_fv", solvers.solve_burgers_fv,
         {"u0": u16, "length": 1.0, "nu": 0.01, "t_final": 0.05, "num_saves": 1}),
        ("solvers.solve_elliptic_2d", solvers.solve_elliptic_2d,
         {"source": jnp.ones((6, 6)), "lengths": (1.0, 1.0), "coefficient": jnp.ones((6, 6))}),
        ("solvers.solve_on_grid", solvers.solve_on_grid,
         {"grid": grid, "symbol": -grid.wavenumbers()[0] ** 2, "nonlinear": lambda v: 0 * v,
          "u0": u16, "dt": 0.01, "num_steps": 2, "save_every": 1}),
        ("solvers.PeriodicGrid", solvers.PeriodicGrid, {"sizes": 8, "lengths": 1.0}),
        ("solvers.MBBBeam", solvers.MBBBeam, {"nelx": 6, "nely": 2}),
        # geometry
        ("geometry.Box", geometry.Box, {"lower": [0.0, 0.0], "upper": [1.0, 1.0]}),
        ("geometry.Disk", geometry.Disk, {"center": (0.0, 0.0), "radius": 1.0}),
        ("geometry.unit_cube", geometry.unit_cube, {"key": key, "n": 8, "d": 2}),
        # inverse
        ("inverse.PointObservations", inverse.PointObservations,
         {"points": np.full((3, 2), 0.5), "values": np.ones(3), "axes": axes}),
        ("inverse.tikhonov", inverse.tikhonov, {"field": jnp.ones((4, 4)), "weight": 0.1}),
        ("inverse.total_variation", inverse.total_variation,
         {"field": jnp.ones((4, 4)), "weight": 0.1}),
        ("inverse.density_filter", inverse.density_filter, {"x": jnp.ones((6, 4)), "rmin": 1.5}),
        # operators
        ("operators.operator_pairs", operators.operator_pairs,
         {"source": dataset, "input_time": 0, "output_time": -1}),
        ("operators.FNO", operators.FNO,
         {"in_channels": 1, "out_channels": 1, "modes": 4, "width": 8, "layers": 1,
          "projection": 8, "key": key}),
        ("operators.DeepONet", operators.DeepONet,
         {"sensors": 8, "coord_dim": 1, "basis": 8, "width": 8, "depth": 2, "key": key}),
        ("operators.build_model", operators.build_model, {"spec": fno_spec, "key": key}),
        ("operators.save_model", operators.save_model,
         {"path": tmp / "model.eqx", "model": fno, "spec": fno_spec}),
        ("operators.model_spec", operators.model_spec, {"name": "fno", "data": pairs}),
        ("operators.relative_l2", operators.relative_l2,
         {"pred": jnp.ones((2, 3)), "target": jnp.full((2, 3), 2.0)}),
        ("operators.evaluate", operators.evaluate, {"model": fno, "data": pairs}),
        ("OperatorData.split", pairs.split, {"train": 1, "test": 1}),
        # pinns
        ("pinns.pinn_loss", pinns.pinn_loss,
         {"problem": heat1d, "residual_points": 16, "initial_points": 8,
          "boundary_points": 8, "sampling": "rad", "rad_candidates": 2, "causal_chunks": 2,
          "weights": {"residual": 1.0}}),
        ("pinns.PINN", pinns.PINN, {"in_size": 2, "width": 8, "depth": 2, "key": key}),
        ("pinns.MLP", pinns.MLP, {"in_size": 2, "out_size": 1, "width": 8, "depth": 2,
                                  "key": key}),
        ("pinns.TENG", pinns.TENG,
         {"model": mlp, "problem": heat2d, "dt": 0.1, "scheme": "heun", "inner_steps": 2,
          "grid": 8, "subset": 16, "damping": 0.0, "backtrack": 2}),
        ("pinns.Adam", pinns.Adam, {"learning_rate": 1e-3}),
        # flows
        ("flows.Sinkhorn", flows.Sinkhorn, {"epsilon": 0.5, "threshold": 1e-3,
                                            "max_iterations": 50}),
        ("flows.Geometry", flows.Geometry, {"cost_matrix": cost}),
        ("flows.PointCloud", flows.PointCloud, {"x": x, "y": y, "block_size": 4}),
        ("flows.LinearProblem", flows.LinearProblem,
         {"geom": flows.Geometry(cost), "a": jnp.full(6, 1 / 6), "b": jnp.full(5, 1 / 5)}),
        ("flows.solve_ot", flows.solve_ot,
         {"problem": flows.LinearProblem(flows.Geometry(cost)), "solver": sink}),
        ("flows.SparsityConstrained", flows.SparsityConstrained,
         {"k": 2, "gamma": 0.1, "formulation": "dual", "threshold": 1e-6, "tolerance": 1e-10,
          "max_iterations": 20, "memory": 5}),
        ("flows.sparse_simplex_projection", flows.sparse_simplex_projection, {"x": x, "k": 2}),
        ("flows.MirrorSinkhorn", flows.MirrorSinkhorn,
         {"iterations": 4, "step_size": 5.0, "schedule": "decreasing",
          "objective": flows.linear_objective}),
        ("flows.linear_objective", flows.linear_objective, {"plan": cost, "cost": cost}),
        ("flows.SchattenOT", flows.SchattenOT,
         {"p": 1.0, "lam": 0.1, "target": "plan", "iterations": 3, "step_size": 10.0,
          "inner_iterations": 5, "inner_threshold": 1e-6}),
        ("flows.schatten_norm", flows.schatten_norm, {"matrix": cost, "p": 2.0}),
        ("flows.SparseRouter", flows.SparseRouter,
         {"dim": 2, "experts": 3, "k": 2, "gamma": 0.1, "capacity_factor": 1.5,
          "ot_iterations": 5, "key": key}),
        ("flows.SparseMoE", flows.SparseMoE,
         {"dim": 2, "hidden": 4, "experts": 3, "k": 1, "key": key}),
        ("SparseRouter.__call__", flows.SparseRouter(2, 3, 2, ot_iterations=5, key=key),
         {"tokens": x}),
        ("SparseRouter.balance", flows.SparseRouter(2, 3, 2, ot_iterations=5, key=key).balance,
         {"logits": jnp.ones((6, 3))}),
        ("SchattenOT.image", flows.SchattenOT(1.0, 0.1).image,
         {"plan": jnp.full((6, 5), 1 / 30),
          "problem": flows.LinearProblem(flows.PointCloud(x, y))}),
        ("flows.round_to_polytope", flows.round_to_polytope,
         {"plan": cost, "a": jnp.full(6, 1 / 6), "b": jnp.full(5, 1 / 5)}),
        ("flows.SVGD", flows.SVGD, {"step_size": 0.1, "bandwidth": 0.5}),
        ("flows.svgd", flows.svgd,
         {"log_prob": log_p, "x0": x, "method": flows.SVGD(0.1), "steps": 2}),
        ("flows.median_bandwidth", flows.median_bandwidth, {"x": x}),
        ("flows.LightSB", flows.LightSB, {"dim": 2, "components": 3, "epsilon": 0.1,
                                          "key": key}),
        ("LightSB.bridge", flows.LightSB(2, 3, 0.1, key=key).bridge,
         {"key": key, "x": x, "y": x, "times": jnp.array([0.0, 0.5, 1.0])}),
        ("RectifiedFlow.transport", flows.RectifiedFlow(2, width=8, depth=1, key=key).transport,
         {"x0": x, "steps": 2, "times": jnp.array([0.0, 1.0])}),
        ("flows.MeanFieldLangevin", flows.MeanFieldLangevin, {"temperature": 0.5, "dt": 0.1}),
        ("flows.langevin", flows.langevin,
         {"energy": flows.MeanFieldEnergy(potential=lambda z: 0.5 * jnp.sum(z**2)),
          "method": flows.MeanFieldLangevin(temperature=0.5, dt=0.1), "x0": x, "t1": 0.2,
          "key": key}),
        ("flows.JKO", flows.JKO, {"step_size": 0.1, "temperature": 0.5, "iterations": 5,
                                  "batch_size": 8}),
        ("flows.ICNN", flows.ICNN, {"dim": 2, "width": 8, "depth": 2, "key": key}),
        ("flows.RectifiedFlow", flows.RectifiedFlow, {"dim": 2, "width": 8, "depth": 1,
                                                      "key": key}),
        ("flows.SymmetricMFL", flows.SymmetricMFL, {"temperature": 0.1, "dt": 0.05,
                                                    "history": 4}),
        ("flows.EntropicFictitiousPlay", flows.EntropicFictitiousPlay,
         {"temperature": 0.1, "dt": 0.05, "inner_steps": 3, "mixing": 0.1}),
        ("flows.UnderdampedMeanFieldLangevin", flows.UnderdampedMeanFieldLangevin,
         {"temperature": 0.5, "dt": 0.1, "friction": 1.0}),
        ("flows.barenblatt", flows.barenblatt, {"x": x, "t": 1.0, "m": 2.0}),
        ("flows.sinkhorn_divergence", flows.sinkhorn_divergence,
         {"geom_xy": flows.PointCloud(x, y), "solver": sink}),
        ("SinkhornOutput.to_target", flows.solve_ot(flows.LinearProblem(flows.PointCloud(
            x, y)), sink).to_target, {"z": x}),
        ("SinkhornOutput.apply", flows.solve_ot(flows.LinearProblem(flows.Geometry(cost)),
                                                sink).apply, {"v": jnp.ones(5)}),
        ("LightSB.sample", flows.LightSB(2, 3, 0.1, key=key).sample, {"key": key, "x": x}),
        ("inverse.minimise", inverse.minimise,
         {"objective": lambda p, a: jnp.sum((p - 1.0) ** 2), "init": jnp.zeros(2),
          "max_steps": 20, "progress": "off"}),
        ("inverse.least_squares", inverse.least_squares,
         {"residuals": lambda p, a: p - 1.0, "init": jnp.zeros(2), "max_steps": 20,
          "progress": "off"}),
        ("inverse.Reparam", inverse.Reparam, {"kind": "bounded", "lo": 0.0, "hi": 1.0}),
        ("inverse.simp_mbb", inverse.simp_mbb,
         {"nelx": 6, "nely": 2, "volfrac": 0.5, "rmin": 1.5, "max_iterations": 2,
          "progress": "off"}),
        ("inverse.finite_difference_check", inverse.finite_difference_check,
         {"fn": lambda z: jnp.sum(z**2), "x": jnp.ones(3), "step": 1e-5}),
        ("data.batch_source", data.batch_source,
         {"dataset": data.read_dataset(dataset), "batch_size": 2}),
        ("data.iterate_batches", lambda **k: list(data.iterate_batches(**k)),
         {"path": dataset, "batch_size": 2, "seed": 0, "epochs": 1}),
        ("problems.get", problems.get, {"name": "heat1d"}),
        ("problems.run_reference", problems.run_reference,
         {"prob": heat1d, "resolution": 16, "num_times": 3}),
        ("pinns.teng_model", pinns.teng_model, {"problem": heat2d, "width": 8, "depth": 2,
                                                "key": key}),
        ("pinns.PeriodicMLP", pinns.PeriodicMLP, {"dim": 2, "width": 8, "depth": 2,
                                                  "period": 1.0, "key": key}),
        ("pinns.LagrangianPINN", pinns.LagrangianPINN,
         {"period": 1.0, "width": 8, "depth": 2, "key": key}),
        ("pinns.pinn_for", pinns.pinn_for, {"problem": heat1d, "width": 8, "depth": 2,
                                            "key": key}),
        ("operators.MultiONet", operators.MultiONet,
         {"sensors": 8, "coord_dim": 1, "width": 8, "layers": 2, "sum_layers": 2,
          "key": key}),
        ("operators.TrainingConfig", operators.TrainingConfig,
         {"options": {}, "steps": 2, "batch_size": 2, "learning_rate": 1e-3}),
        ("operators.train_operator", operators.train_operator,
         {"model": fno, "data": pairs, "steps": 1, "key": key, "batch_size": 2,
          "progress": "off"}),
        ("operators.rollout", operators.rollout, {"model": fno, "u0": jnp.ones((1, 8)),
                                                  "steps": 2}),
        ("flows.gaussian_bridge_conditional", flows.gaussian_bridge_conditional,
         {"mean0": jnp.zeros(2), "cov0": jnp.eye(2), "mean1": jnp.ones(2),
          "cov1": 2 * jnp.eye(2), "epsilon": 0.1}),
    ]


def wrong_values(value: Any, tmp: Path) -> list[Any]:
    """Wrong values for an argument whose valid value is `value`."""
    if isinstance(value, bool):
        return ["yes", None]
    if isinstance(value, numbers.Integral):
        return [-3, 2.5, "4", None]
    if isinstance(value, numbers.Real):
        return [math.nan, math.inf, "0.5", None, [1.0, 2.0]]
    if isinstance(value, str):
        return ["no-such-choice", 3]
    if isinstance(value, Path):
        return [_file_in(tmp) / "below", 7] if value.suffix == "" else [tmp, 7]
    if isinstance(value, jax.Array) and jnp.issubdtype(value.dtype, jax.dtypes.prng_key):
        return [0, "key", jnp.ones(3)]
    if isinstance(value, jax.Array | np.ndarray):
        out: list[Any] = ["array", None]
        arr = np.asarray(value)
        if arr.dtype.kind == "f" and arr.size:
            bad = arr.copy()
            bad.flat[0] = np.nan
            out.append(bad)
        if arr.size and arr.dtype.kind in "fiu":
            out.append(arr[None])
            # same rank, one more entry along the last axis: a size that disagrees with
            # the other arguments (points of another dimension, a weight too many)
            out.append(np.concatenate([arr, arr[..., -1:]], axis=-1))
        return out
    if isinstance(value, dict):
        return [{"no_such_key": 1}, "not a mapping"]
    if isinstance(value, list | tuple):
        return ["not a sequence", [None, "x"]]
    if callable(value):
        return [3, None]
    return ["wrong", 3]


def _file_in(tmp: Path) -> Path:
    """A plain file in the scratch folder (a path below it cannot be a directory)."""
    afile = tmp / "a-file"
    afile.write_text("not yours")
    return afile


def _files(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


def _finite(out: Any) -> bool:
    leaves = jax.tree.leaves(out)
    for leaf in leaves:
        if isinstance(leaf, jax.Array) and jnp.issubdtype(leaf.dtype, jax.dtypes.prng_key):
            continue
        if isinstance(leaf, jax.Array | np.ndarray | float) and np.asarray(leaf).dtype.kind in "fc":
            if not np.all(np.isfinite(np.asarray(leaf))):
                return False
    return True


def classify(call: Callable[[], Any], passthrough: bool = False) -> str | None:
    """None when the wrong call is handled well, else a description of the defect."""
    try:
        out = call()
        jax.block_until_ready(jax.tree.leaves(out))
    except Exception as err:  # noqa: BLE001 - classifying every error is the point
        frames = traceback.extract_tb(err.__traceback__)
        last = frames[-1].filename if frames else ""
        if type(err).__name__ == "EquinoxRuntimeError" and any(
                any(p in f.filename for p in OURS) for f in frames):
            return None  # one of our checks, on a traced value
        ours = [i for i, f in enumerate(frames) if any(p in f.filename for p in OURS)]
        user = [i for i, f in enumerate(frames) if Path(f.filename).parent == HERE]
        if user and user[-1] > (ours[-1] if ours else -1) and user[-1] > 0:
            return None  # the user's own function (a loss, a log-density) failed on it
        if any(p in last for p in OURS) and isinstance(
                err, ValueError | TypeError | LookupError | OSError | FloatingPointError):
            return None
        return f"{type(err).__name__} from {last.split('site-packages' + os.sep)[-1]}:" \
               f"{frames[-1].lineno if frames else '?'}: {str(err).splitlines()[0][:120]}" \
               if str(err) else f"{type(err).__name__} from {last}"
    if not passthrough and not _finite(out):
        return "returned NaN / Inf silently"
    return None


def annotation_values(annotation: Any, tmp: Path, name: str = "") -> list[Any]:
    """Wrong values read from a parameter's annotation (a string under
    `from __future__ import annotations`): the wrong type for each type it names, a rank the
    jaxtyping shape does not allow, a choice outside a `Literal`, a directory where a file
    belongs (a path below a file where a directory belongs: parameters named `*dir*`)."""
    text = annotation if isinstance(annotation, str) else getattr(
        annotation, "__name__", repr(annotation))
    if annotation is inspect.Parameter.empty:
        return []
    out: list[Any] = []
    if "PRNGKey" in text:
        out += [0, "key"]
    if re.search(r"(?<![\w\[])int\b", text):
        out += [2.5, -1]
    if re.search(r"(?<![\w\[])float\b", text):
        out += [math.nan, "0.5"]
    if re.search(r"(?<![\w\[])bool\b", text):
        out += ["yes"]
    if "Literal[" in text:
        out += ["no-such-choice"]
    if "Path" in text:
        out += [_file_in(tmp) / "below" if "dir" in name else tmp]
    if "Callable" in text:
        out += [3]
    shape = re.search(r"(?:Float|Int|Complex|Bool|Shaped)\[[\w.]+, *['\"]([^'\"]*)['\"]\]",
                      text)
    if shape and not any(c in shape.group(1) for c in ".*#"):
        rank = len(shape.group(1).split())
        out += [np.ones((2,) * (rank + 1)), "array"]
    return out


def wrong_calls(fn: Callable, kwargs: dict[str, Any], tmp: Path
                ) -> list[tuple[str, Any, dict[str, Any]]]:
    """`(parameter, wrong value, arguments)`: one wrong value at a time for every parameter
    of the signature, passed or left at its default, from the valid value's kind and from
    the annotation."""
    out = []
    for name, param in inspect.signature(fn).parameters.items():
        if param.kind is inspect.Parameter.VAR_KEYWORD:
            continue
        if name in kwargs:
            values = wrong_values(kwargs[name], tmp)
        elif param.default is not inspect.Parameter.empty:
            values = [] if param.default is None else wrong_values(param.default, tmp)
        else:
            continue
        if param.kind is inspect.Parameter.VAR_POSITIONAL:
            values = [(v,) for v in values]
        seen = set()
        for bad in values + annotation_values(param.annotation, tmp, name):
            tag = _show(bad)
            if tag not in seen:
                seen.add(tag)
                out.append((name, bad, dict(kwargs, **{name: bad})))
    return out


def _call(fn: Callable, kwargs: dict[str, Any]) -> Any:
    """`fn(**kwargs)`, with a `*args` parameter's tuple spread."""
    params = inspect.signature(fn).parameters
    star = next((n for n, p in params.items() if p.kind is inspect.Parameter.VAR_POSITIONAL),
                None)
    if star is None or star not in kwargs:
        return fn(**kwargs)
    before = [n for n in params if n != star][:list(params).index(star)]
    rest = {k: v for k, v in kwargs.items() if k != star and k not in before}
    spread = kwargs[star] if isinstance(kwargs[star], tuple) else (kwargs[star],)
    return fn(*[kwargs[n] for n in before], *spread, **rest)


def sweep(tmp: Path, calls: list | None = None, passthrough: Collection[str] = ()
          ) -> tuple[int, int, list[str]]:
    """`(callables, wrong calls, failures)` over `calls` (default: `valid_calls(tmp)`);
    the callables named in `passthrough` hand the caller's arrays on unchanged, so a NaN
    passed in may come back."""
    calls = valid_calls(tmp) if calls is None else calls
    failures, tried = [], 0
    for name, fn, kwargs in calls:
        try:
            _call(fn, kwargs)
        except Exception as err:  # the valid call itself must work
            failures.append(f"{name}: the valid call fails: {type(err).__name__}: {err}")
            continue
        for param, bad, wrong in wrong_calls(fn, kwargs, tmp):
            before = _files(tmp)
            defect = classify(lambda f=fn, k=wrong: _call(f, k), name in passthrough)
            tried += 1
            left = {f for f in _files(tmp) - before if ".tmp" in f or f.startswith(".")}
            if left:
                defect = (defect or "") + f" left partial files {sorted(left)}"
            if defect:
                failures.append(f"{name}({param}={_show(bad)}): {defect}")
    return len(calls), tried, failures


def _show(value: Any) -> str:
    if isinstance(value, np.ndarray | jax.Array):
        return f"array{tuple(np.shape(value))}"
    return repr(value)[:40]


if __name__ == "__main__":
    from ._sweep_more import PASSTHROUGH, method_calls, more_calls

    jax.config.update("jax_enable_x64", True)
    which = sys.argv[1] if len(sys.argv) > 1 else "first"
    with tempfile.TemporaryDirectory() as folder:
        scratch = Path(folder)
        chosen = {"first": valid_calls, "more": more_calls, "methods": method_calls}[which](scratch)
        if len(sys.argv) > 2:
            chosen = [c for c in chosen if sys.argv[2] in c[0]]
        n_calls, n_wrong, bad = sweep(scratch, chosen, PASSTHROUGH)
    print(f"{n_calls} callables swept, {n_wrong} wrong calls tried, {len(bad)} defects")
    for line in bad:
        print(" -", line)
    sys.exit(1 if bad else 0)
