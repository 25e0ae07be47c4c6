"""Valid calls of the public callables beyond the first sweep (`tests/_sweep.py`): drivers,
recipes, records a user builds, geometry, problems, solvers, export. Each entry is
`(name, callable, arguments by name)`; `EXEMPT` names the public callables no sweep calls,
each with the reason."""

from __future__ import annotations

import importlib
import inspect
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

Call = tuple[str, Callable, dict[str, Any]]

# Functions that hand the caller's arrays on unchanged (a NaN in, a NaN out is theirs).
PASSTHROUGH = {"distributed.process_shard", "distributed.global_array", "validate.require",
               "optim.Residuals", "train.ArrayBatches", "train.FullBatch"}


def _like(public: Callable, wrapper: Callable) -> Callable:
    """`wrapper` (which undoes what the public call registers) with `public`'s signature."""
    wrapper.__signature__ = inspect.signature(public)
    return wrapper

# Public callables that are not swept, by reason. Abstract bases cannot be built; the result
# records are built by our solvers from checked values (users read them); exceptions carry a
# message; `distributed.initialize` starts the multi-process runtime of the whole process.
EXEMPT: dict[str, str] = {
    **dict.fromkeys(
        ["flows.AbstractGeometry", "operators.AbstractGridOperator",
         "operators.AbstractOperator", "operators.AbstractPointOperator",
         "geometry.AbstractDomain", "problems.AbstractPeriodic", "problems.AbstractPeriodic1D",
         "problems.AbstractPeriodic2D", "problems.AbstractProblem",
         "train.AbstractIterativeSolver", "train.AbstractBatchSource"], "abstract base"),
    **dict.fromkeys(
        ["flows.JKOTrajectory", "flows.MinimaxTrajectory", "flows.ParticleTrajectory",
         "flows.VariationalTrajectory", "flows.SinkhornOutput", "flows.SparseOTOutput",
         "flows.MirrorSinkhornOutput", "flows.SchattenOTOutput", "flows.Routing",
         "operators.OperatorRun",
         "pinns.PINNRun", "pinns.MarchingResult", "pinns.MarchingPINN", "pinns.TENGResult",
         "inverse.DarcyInverseResult", "inverse.InitialConditionResult",
         "inverse.InverseResult", "inverse.InverseRun", "inverse.TopologyResult",
         "train.IterateResult", "train.FitResult", "train.TrainState",
         "train.ArrayBatchState", "train.IterationState", "problems.ReferenceRun",
         "problems.DataPlan", "problems.PointwiseForm", "pinns.Formulation",
         "solvers.ETDRK4Coefficients", "optim.GaussNewtonState", "optim.MultiAdamState",
         "optim.LeastSquaresTransformation", "distributed.ProcessInfo",
         "export.ExportedFunction", "data.BlockArray", "pinns.PINNCase",
         "operators.OperatorDataset"], "result record, built by our own code"),
    **dict.fromkeys(
        ["data.DatasetError", "train.CheckpointError", "train.NonFiniteError",
         "train.NonFiniteIteration"], "exception class"),
    "distributed.initialize": "starts the process-wide multi-process runtime "
                              "(tests/sciopt/distributed runs it in subprocesses)",
    "bench.run_suite": "runs a whole benchmark suite (minutes); `sciopt bench` checks its "
                       "arguments (tests/sciopt/cli) and the fault matrix its writes",
}


def more_calls(tmp: Path) -> list[Call]:
    """Valid calls of the core (`sciopt.*`) callables the first sweep leaves out."""
    from sciopt import (
        bench,
        data,
        derivatives,
        distributed,
        export,
        geometry,
        inverse,
        kernels,
        optim,
        problems,
        solvers,
        train,
        validate,
    )

    key = jax.random.key(0)
    grid = solvers.PeriodicGrid(16, 2 * math.pi)
    tensor = np.linspace(0, 1, 4 * 2 * 8).reshape(4, 2, 8, 1)
    dataset = data.PDEDataset(tensor, np.array([0.0, 1.0]), {"x": np.linspace(0, 1, 8)})
    beam = solvers.MBBBeam(6, 2)
    lap = derivatives.DifferentialOperator([(1.0, {0: 2}), (1.0, {1: 2})])
    cube = lambda z: jnp.sum(z**3)  # noqa: E731
    heat1d = problems.get("heat1d")
    xs = np.linspace(0, 2 * np.pi, 8, endpoint=False)
    ts = np.array([0.0, 0.1])

    class Decay(train.AbstractIterativeSolver):
        def init(self, key):
            return jnp.ones(2)

        def step(self, state, key):
            return 0.5 * state, {"norm": jnp.sum(state)}

    def loss_vector(p, x):
        return jnp.stack([jnp.sum(p * x), jnp.sum(p**2)])

    def register_once(name, factory, params, *, summary, family):
        problems.register(name, factory, params, summary=summary, family=family)
        problems.unregister(name)

    def unregister_fresh(name):
        problems.register("sweep_problem", problems.Heat1DPeriodic, (), summary="s",
                          family="f")
        try:
            problems.unregister(name)
        finally:
            if "sweep_problem" in problems.names():
                problems.unregister("sweep_problem")

    def register_inverse_once(name, recipe):
        inverse.register_inverse(name, recipe)
        importlib.import_module("sciopt.inverse._recipes")._RECIPES.pop(name)

    env = bench.environment()
    record = {"title": "t", "summary": "s", "metrics": {"m": 1.0}, "figures": [],
              "tables": [{"title": "x", "columns": ["a", "b"], "rows": [[1, 2.0]]}]}
    for part in ("p1", "p2"):
        bench.write_suite(tmp / part, "sweep", record, env)
    darcy = inverse.darcy_inverse(resolution=8, observations=5, max_steps=2, progress="off")
    advection = inverse.run_inverse("advection1d", problems.get("advection1d"),
                                    resolution=16, max_steps=2).result
    exported = export.export_function(lambda v: v * 2, jnp.ones(3), path=tmp / "g")

    return [
        # functions of no argument (nothing to get wrong; listed as swept)
        ("bench.available_suites", bench.available_suites, {}),
        ("bench.device_peak_bytes", bench.device_peak_bytes, {}),
        ("bench.environment", bench.environment, {}),
        ("bench.peak_rss_bytes", bench.peak_rss_bytes, {}),
        ("distributed.process_info", distributed.process_info, {}),
        ("problems.names", problems.names, {}),
        # bench helpers a suite uses
        ("bench.compile_within", bench.compile_within,
         {"fn": lambda v: v + 1, "args": (jnp.ones(3),), "budget_bytes": 1e9}),
        ("bench.write_suite", bench.write_suite,
         {"out_dir": tmp / "w", "suite": "sweep", "result": record, "env": env}),
        ("bench.suite_markdown", bench.suite_markdown,
         {"suite": "sweep", "result": record, "env": env, "level": 2}),
        ("bench.merge_suite", bench.merge_suite,
         {"out_dir": tmp / "merged", "suite": "sweep", "sources": [tmp / "p1", tmp / "p2"]}),
        ("bench.markdown_table", bench.markdown_table,
         {"columns": ["a", "b"], "rows": [[1, 2.0], [3, 4.0]]}),
        ("bench.time_call", bench.time_call,
         {"fn": lambda: jnp.ones(2) + 1, "repeats": 2, "warmup": 1}),
        ("bench.measure", bench.measure,
         {"fn": lambda v: v + 1, "args": (jnp.ones(3),), "repeats": 2, "budget_bytes": 1e9}),
        ("bench.compiled_memory", bench.compiled_memory, {"fn": lambda v: v + 1}),
        ("bench.load_suite", bench.load_suite, {"name": "kernels"}),
        ("bench.block", bench.block, {"tree": {"a": jnp.ones(2)}}),
        ("bench.atomic_open", lambda **k: bench.atomic_open(**k).__enter__().close(),
         {"target": tmp / "atomic.bin", "mode": "wb"}),
        # data
        ("data.split", data.split, {"dataset": dataset, "fractions": (0.5, 0.5), "seed": 0}),
        ("data.matern_random_field", data.matern_random_field,
         {"key": key, "grid": grid, "alpha": 2.0, "tau": 3.0, "sigma": 1.0}),
        ("data.PDEDataset", data.PDEDataset,
         {"tensor": tensor, "t": np.array([0.0, 1.0]), "coords": {"x": np.linspace(0, 1, 8)},
          "extras": {}, "attrs": {}}),
        ("data.generate_dataset", data.generate_dataset,
         {"out": tmp / "gen.h5", "problem": "burgers1d_periodic", "samples": 2, "resolution": 16,
          "seed": 0, "num_times": 2, "overwrite": True, "progress": "off"}),
        # derivatives
        ("derivatives.apply_operator", derivatives.apply_operator,
         {"op": lap, "f": cube, "x": jnp.array([1.0, 2.0]), "method": "exact",
          "num_samples": 4}),
        ("derivatives.collapsed_taylor", derivatives.collapsed_taylor,
         {"f": cube, "x": jnp.array([1.0, 2.0]), "directions": jnp.eye(2),
          "second_order": True}),
        ("derivatives.DifferentialOperator", derivatives.DifferentialOperator,
         {"terms": [(1.0, {0: 2})]}),
        ("derivatives.Rows", derivatives.Rows, {"index": jnp.array([0, 1]), "dim": 3}),
        # distributed (one process)
        ("distributed.data_mesh", distributed.data_mesh, {"num_devices": 1,
                                                          "axis_name": "data"}),
        ("distributed.process_slice", distributed.process_slice,
         {"n": 10, "process_index": 0, "process_count": 2}),
        ("distributed.process_shard", distributed.process_shard,
         {"x": np.ones((4, 2)), "axis": 0}),
        ("distributed.global_array", distributed.global_array,
         {"local": np.ones((4, 2)), "mesh": distributed.data_mesh(1)}),
        # export
        ("export.export_function", export.export_function,
         {"fn": lambda v: v * 2, "example_args": (jnp.ones(3),), "path": tmp / "f.jaxexp",
          "batch_polymorphic": False}),
        ("export.numpy_function", export.numpy_function, {"fn": lambda v: v * 2}),
        ("export.load_exported", export.load_exported, {"path": exported, "numpy": True}),
        # geometry
        ("geometry.Ball", geometry.Ball, {"center": [0.0, 0.0, 0.0], "radius": 1.0}),
        ("geometry.Interval", geometry.Interval, {"lower": 0.0, "upper": 1.0}),
        ("geometry.Torus", geometry.Torus, {"lower": [0.0], "upper": [1.0]}),
        ("geometry.latin_hypercube", geometry.latin_hypercube, {"key": key, "n": 8, "d": 2}),
        ("geometry.sobol", geometry.sobol, {"key": key, "n": 8, "d": 2}),
        # inverse
        ("inverse.compliance", inverse.compliance,
         {"x_phys": jnp.full((6, 2), 0.5), "beam": beam, "penal": 3.0, "e_min": 1e-9,
          "nu": 0.3}),
        ("inverse.optimality_criteria", inverse.optimality_criteria,
         {"x": np.full((6, 2), 0.5), "dc": -np.ones((6, 2)), "dv": np.ones((6, 2)),
          "volfrac": 0.5, "rmin": 1.5, "move": 0.2}),
        ("inverse.darcy_inverse", inverse.darcy_inverse,
         {"resolution": 8, "observations": 5, "noise": 0.01, "length_scale": 0.3,
          "regularisation": 1.0, "seed": 0, "bound": 6.0, "max_steps": 2, "progress": "off"}),
        ("inverse.run_inverse", inverse.run_inverse,
         {"name": "mbb_beam", "problem": problems.get("mbb_beam", nelx=6, nely=2),
          "max_steps": 2}),
        ("inverse.plot_darcy_inverse", inverse.plot_darcy_inverse,
         {"r": darcy, "path": tmp / "darcy.png"}),
        ("inverse.plot_initial_condition", inverse.plot_initial_condition,
         {"r": advection, "path": tmp / "ic.png"}),
        ("inverse.plot_topology", inverse.plot_topology,
         {"result": inverse.simp_mbb(nelx=6, nely=2, max_iterations=1, progress="off"),
          "path": tmp / "topo.png", "title": "t"}),
        # kernels
        ("kernels.GaussianKernel", kernels.GaussianKernel, {"bandwidth": 0.5}),
        ("kernels.SquaredDistanceScore", kernels.SquaredDistanceScore, {"epsilon": 0.5}),
        # optim
        ("optim.group_gradients", optim.group_gradients,
         {"loss_vector": loss_vector, "params": jnp.ones(2), "args": (jnp.ones(2),)}),
        ("optim.is_least_squares", optim.is_least_squares, {"optimizer": optim.gauss_newton()}),
        ("optim.SumOfSquares", optim.SumOfSquares,
         {"groups": lambda p: {"r": optim.Residuals(lambda q, z: q * z, jnp.ones(3),
                                                    jnp.ones(3))},
          "weights": {"r": 1.0}}),
        ("optim.Residuals", optim.Residuals,
         {"fn": lambda q, z: q * z, "points": jnp.ones(3), "weights": jnp.ones(3)}),
        # problems
        ("problems.describe", problems.describe, {"name": "heat1d"}),
        ("problems.unregister", _like(problems.unregister, unregister_fresh),
         {"name": "sweep_problem"}),
        ("problems.register", _like(problems.register, register_once),
         {"name": "sweep_problem", "factory": problems.Heat1DPeriodic, "params": (),
          "summary": "s", "family": "f"}),
        ("inverse.register_inverse", _like(inverse.register_inverse, register_inverse_once),
         {"name": "sweep_problem", "recipe": lambda problem, **k: None}),
        ("problems.Param", problems.Param, {"name": "nu", "default": 0.1, "doc": "d",
                                            "kind": float}),
        ("problems.on_grid", problems.on_grid,
         {"solution": lambda x, t: np.sin(x) * np.exp(-t), "coords": {"x": xs}, "t": ts}),
        ("problems.save_schedule", problems.save_schedule,
         {"t": ts, "dt": 0.01, "default_dt": 0.01}),
        ("problems.slice_run", problems.slice_run,
         {"prob": problems.get("poisson_highdim", dim=3), "resolution": 8}),
        ("problems.steady_2d_run", problems.steady_2d_run,
         {"prob": problems.get("poisson2d"), "resolution": 8}),
        ("problems.time_1d_run", problems.time_1d_run, {"prob": heat1d, "x": xs, "t": ts}),
        ("problems.time_2d_run", problems.time_2d_run,
         {"prob": problems.get("heat2d"), "x": np.linspace(0, 2 * np.pi, 6, endpoint=False),
          "t": ts}),
        ("problems.evolution_form_1d", problems.evolution_form_1d, {"problem": heat1d}),
        ("problems.evolution_form_2d", problems.evolution_form_2d,
         {"problem": problems.get("heat2d")}),
        ("problems.steady_form", problems.steady_form, {"problem": problems.get("poisson2d")}),
        ("problems.plot_reference", problems.plot_reference,
         {"run": problems.run_reference(heat1d, resolution=8, num_times=3), "title": "t",
          "path": tmp / "ref.png"}),
        *[(f"problems.{cls}", getattr(problems, cls), dict(problems.get(name).parameters))
          for cls, name in [
              ("Advection1D", "advection1d"), ("AllenCahn1D", "allen_cahn1d"),
              ("AllenCahn2D", "allen_cahn2d"), ("AllenCahnTorus2D", "allen_cahn_torus2d"),
              ("Burgers1DPeriodic", "burgers1d_periodic"), ("Burgers2D", "burgers2d"),
              ("Darcy2D", "darcy2d"), ("FisherKPP1D", "fisher_kpp1d"),
              ("Heat1DPeriodic", "heat1d"), ("Heat2D", "heat2d"),
              ("Helmholtz2D", "helmholtz2d"), ("KdV1D", "kdv1d"),
              ("KuramotoSivashinsky1D", "ks1d"), ("MBBBeamProblem", "mbb_beam"),
              ("NavierStokes2D", "navier_stokes2d"), ("Poisson2D", "poisson2d"),
              ("PoissonTwoBody", "poisson_highdim"), ("SineGordonTwoBody",
                                                      "sine_gordon_highdim"),
              ("Wave1D", "wave1d")]],
        ("problems.Characteristics", problems.Characteristics,
         {"velocity": 1.0, "nu": 0.0, "speed_scale": 1.0}),
        # solvers
        ("solvers.burgers_rhs", solvers.burgers_rhs,
         {"u": jnp.sin(jnp.linspace(0, 6, 16)), "dx": 0.1, "nu": 0.01, "limiter": "minmod"}),
        ("solvers.etdrk4_coefficients", solvers.etdrk4_coefficients,
         {"linear": -grid.wavenumbers()[0].astype(complex) ** 2, "dt": 0.01,
          "contour_points": 16}),
        ("solvers.etdrk4_step", solvers.etdrk4_step,
         {"c": solvers.etdrk4_coefficients(-grid.wavenumbers()[0].astype(complex) ** 2, 0.01),
          "nonlinear": lambda v: 0 * v, "v": jnp.ones(9, complex)}),
        ("solvers.solve_etdrk4", solvers.solve_etdrk4,
         {"linear": -grid.wavenumbers()[0].astype(complex) ** 2,
          "nonlinear": lambda v: 0 * v, "v0": jnp.ones(9, complex), "dt": 0.01,
          "num_steps": 2, "save_every": 1, "contour_points": 16}),
        ("solvers.matern_random_field", solvers.matern_random_field,
         {"key": key, "grid": grid, "alpha": 2.0, "tau": 3.0, "sigma": 1.0}),
        ("solvers.q4_stiffness", solvers.q4_stiffness, {"nu": 0.3}),
        ("solvers.gaussian_random_field", solvers.gaussian_random_field,
         {"key": key, "grid": grid, "length_scale": 0.5, "std": 1.0}),
        ("solvers.solve_elasticity_q4", solvers.solve_elasticity_q4,
         {"modulus": jnp.ones(12), "beam": beam, "nu": 0.3}),
        # train
        ("train.iterate", train.iterate,
         {"solver": Decay(), "num_steps": 3, "key": key, "chunk_size": 2,
          "checkpoint_dir": tmp / "it", "keep_checkpoints": 1, "progress": "off"}),
        ("train.scan_iterate", train.scan_iterate, {"solver": Decay(), "num_steps": 3,
                                                    "key": key}),
        ("train.ArrayBatches", train.ArrayBatches,
         {"data": jnp.ones((4, 2)), "batch_size": 2, "shuffle": True}),
        ("train.FullBatch", train.FullBatch, {"batch": jnp.ones((4, 2))}),
        ("train.SampledBatches", train.SampledBatches,
         {"sample": lambda k: jax.random.normal(k, (2,))}),
        ("train.ProgressReporter", train.ProgressReporter,
         {"total": 4, "initial": 0, "mode": "off", "every_seconds": 1.0}),
        ("train.write_state", train.write_state,
         {"path": tmp / "state.eqx", "state": {"w": jnp.ones(2)}, "step": 1,
          "meta": {"a": 1}}),
        ("train.read_header", train.read_header,
         {"path": train.write_state(tmp / "state2.eqx", {"w": jnp.ones(2)})}),
        # validate (the checks themselves)
        ("validate.array", validate.array, {"name": "x", "value": jnp.ones(3), "ndim": 1}),
        ("validate.is_concrete", validate.is_concrete, {"values": (jnp.ones(2), 1.0)}),
        ("validate.protocol", validate.protocol,
         {"name": "g", "value": grid, "attributes": ("wavenumbers",), "what": "a grid"}),
        ("validate.index", validate.index, {"name": "i", "value": 1, "size": 3}),
        ("validate.known_keys", validate.known_keys,
         {"name": "w", "mapping": {"a": 1}, "allowed": ["a", "b"]}),
        ("validate.one_of", validate.one_of, {"name": "m", "value": "a", "allowed": ["a"]}),
        ("validate.directory", validate.directory, {"name": "d", "value": tmp / "dd"}),
        ("validate.output_file", validate.output_file,
         {"name": "o", "value": tmp / "o.h5", "overwrite": False}),
        ("validate.path", validate.path, {"name": "p", "value": tmp / "p.h5"}),
        ("validate.positive_float", validate.positive_float, {"name": "f", "value": 0.5}),
        ("validate.positive_int", validate.positive_int, {"name": "n", "value": 3}),
        ("validate.positive_ints", validate.positive_ints,
         {"name": "n", "value": (2, 3), "lengths": [2]}),
        ("validate.prng_key", validate.prng_key, {"name": "key", "value": key}),
        ("validate.real", validate.real, {"name": "r", "value": 0.5, "low": 0.0, "high": 1.0}),
        ("validate.require", validate.require,
         {"value": jnp.ones(2), "ok": jnp.bool_(True), "message": "m"}),
        ("validate.sampler", validate.sampler,
         {"name": "s", "fn": lambda k, n: jnp.zeros((n, 2)), "shape": (2, 2)}),
    ]


def method_calls(tmp: Path) -> list[Call]:
    """Valid calls of the method packages' (`flows`, `operators`, `pinns`) callables the
    first sweep leaves out: drivers at tiny sizes, constructors, recipes."""

    import flows
    import operators
    import pinns
    from sciopt import data, problems

    key = jax.random.key(0)
    x = jax.random.normal(jax.random.key(1), (6, 2))
    y = jax.random.normal(jax.random.key(2), (5, 2))
    log_p0 = -0.5 * jnp.sum(x**2, axis=1) - jnp.log(2 * jnp.pi)
    energy = flows.MeanFieldEnergy(potential=lambda z: 0.5 * jnp.sum(z**2))
    game = flows.MinimaxGame(payoff=lambda a, b: jnp.sum(a * b),
                             potential_x=lambda a: 0.5 * jnp.sum(a**2),
                             potential_y=lambda b: 0.5 * jnp.sum(b**2))
    net = flows.ConvexGradientNet(2, 8, key=key)
    sb = flows.LightSB(2, 2, 0.1, key=key)
    rf = flows.RectifiedFlow(2, width=8, depth=1, key=key)
    normal = lambda k, n: jax.random.normal(k, (n, 2))  # noqa: E731
    pairs_fn = lambda k, n: (normal(k, n), 1.0 + normal(jax.random.fold_in(k, 1), n))  # noqa: E731

    tensor = np.sin(np.linspace(0, 6, 4 * 3 * 8)).reshape(4, 3, 8, 1)
    dataset = tmp / "ops.h5"
    data.write_dataset(dataset, tensor, t=np.array([0.0, 0.5, 1.0]),
                       coords={"x": np.linspace(0, 1, 8, endpoint=False)},
                       problem="burgers1d_periodic")
    pairs = operators.operator_pairs(dataset).astype(np.float64)
    train_set, test_set = pairs.split(2, 2)
    fno = operators.FNO(1, 1, modes=4, width=8, layers=1, projection=8, key=key)
    spec = {"model": "fno", "args": {"in_channels": 1, "out_channels": 1, "modes": [4],
                                     "width": 8, "layers": 1, "projection": 8}}
    operators.save_model(tmp / "fno.eqx", fno, spec)
    config = operators.TrainingConfig({"modes": 4, "width": 8, "layers": 1, "projection": 8},
                                      steps=2, batch_size=2)
    op_run = operators.train_and_evaluate("fno", train_set, test_set, config, model_key=key,
                                          train_key=key, progress="off")

    heat1d = problems.get("heat1d")
    advection = problems.get("advection1d")
    mlp = pinns.pinn_for(heat1d, width=8, depth=2, key=key)
    lpinn = pinns.lpinn_for(advection, width=8, depth=2, periodic_modes=1, key=key)
    recipe = pinns.PINNRecipe(width=8, depth=2, steps=2, points=16, min_side_points=4,
                              optimizer=pinns.Adam(1e-3))
    pinn_run = pinns.train_and_evaluate(heat1d, recipe, key=key, progress="off",
                                        resolution=16)
    tiny = {"residual_points": 16, "initial_points": 8, "boundary_points": 8}

    return [
        # flows
        ("flows.barenblatt_second_moment", flows.barenblatt_second_moment,
         {"t": 1.0, "m": 2.0, "d": 1, "mass": 1.0}),
        ("flows.BlobInternalEnergy", flows.BlobInternalEnergy,
         {"m": 2.0, "epsilon": 0.3, "block_size": 4}),
        ("flows.bw2_uvp", flows.bw2_uvp,
         {"model": sb, "x": x, "mean0": jnp.zeros(2), "cov0": jnp.eye(2),
          "mean1": jnp.ones(2), "cov1": jnp.eye(2)}),
        ("flows.ConvexGradientNet", flows.ConvexGradientNet,
         {"dim": 2, "width": 8, "quadratic_rank": 2, "min_curvature": 0.01, "key": key}),
        ("flows.MeanFieldEnergy", flows.MeanFieldEnergy,
         {"potential": lambda z: jnp.sum(z**2), "interaction": lambda a, b: jnp.sum(a * b),
          "block_size": 4}),
        ("flows.MinimaxGame", flows.MinimaxGame,
         {"payoff": lambda a, b: jnp.sum(a * b), "potential_x": lambda a: jnp.sum(a**2),
          "potential_y": lambda b: jnp.sum(b**2), "block_size": 4}),
        ("flows.ornstein_uhlenbeck_law", flows.ornstein_uhlenbeck_law,
         {"a": jnp.eye(2), "b": jnp.ones(2), "mean0": jnp.zeros(2), "cov0": jnp.eye(2),
          "t": 0.3, "temperature": 1.0}),
        ("flows.porous_medium_conjugate", flows.porous_medium_conjugate, {"m": 2.0}),
        ("flows.SqEuclidean", flows.SqEuclidean, {}),
        ("flows.VariationalWGF", flows.VariationalWGF,
         {"step_size": 0.1, "temperature": 1.0, "iterations": 2, "critic_steps": 1,
          "batch_size": 4, "reference_scale": 1.5}),
        ("flows.jko", flows.jko,
         {"energy": energy, "method": flows.JKO(0.1, temperature=1.0, iterations=2,
                                                  batch_size=4),
          "network": net, "x0": x, "log_density0": log_p0, "steps": 1, "key": key}),
        ("flows.variational_wgf", flows.variational_wgf,
         {"energy": energy, "method": flows.VariationalWGF(0.1, temperature=1.0, iterations=2,
                                                           critic_steps=1, batch_size=4),
          "network": net, "x0": x, "steps": 1, "key": key}),
        ("flows.fictitious_play", flows.fictitious_play,
         {"energy": energy, "method": flows.EntropicFictitiousPlay(0.5, 0.05, inner_steps=2),
          "x0": x, "iterations": 2, "key": key}),
        ("flows.minimax_langevin", flows.minimax_langevin,
         {"game": game, "method": flows.SymmetricMFL(0.1, 0.05, history=4), "x0": x, "y0": y,
          "steps": 2, "key": key}),
        ("flows.train_light_sb", flows.train_light_sb,
         {"model": sb, "sample_source": normal, "sample_target": normal, "steps": 2,
          "key": key, "batch_size": 4, "learning_rate": 1e-2, "progress": "off"}),
        ("flows.train_rectified_flow", flows.train_rectified_flow,
         {"flow": rf, "sample_pairs": pairs_fn, "steps": 2, "key": key, "batch_size": 4,
          "learning_rate": 1e-3, "progress": "off"}),
        ("flows.reflow_sampler", flows.reflow_sampler, {"flow": rf, "x0": x, "steps": 2}),
        # operators
        ("operators.DyMixOp", operators.DyMixOp,
         {"in_channels": 1, "out_channels": 1, "modes": 4, "hidden": 8, "layers": 1,
          "key": key}),
        ("operators.SpectralConv", operators.SpectralConv,
         {"in_channels": 1, "out_channels": 2, "modes": (4,), "key": key}),
        ("operators.LGMLayer", operators.LGMLayer,
         {"dim": 1, "channels": 4, "modes": (4,), "kernel_size": 1, "a_kernel_size": 1,
          "linear": 1, "nonlinear": 1, "key": key}),
        ("operators.DifferenceStencil", operators.DifferenceStencil,
         {"dim": 1, "c_in": 2, "c_out": 2, "key": key, "power": 1.0}),
        ("operators.Normalized", operators.Normalized,
         {"model": fno, "in_mean": (0.0,), "in_std": (1.0,), "out_mean": (0.0,),
          "out_std": (1.0,)}),
        ("operators.normalized", operators.normalized,
         {"model": fno, "statistics": operators.channel_statistics(pairs)}),
        ("operators.channel_statistics", operators.channel_statistics, {"data": pairs}),
        ("operators.count_parameters", operators.count_parameters, {"model": fno}),
        ("operators.check_compatible", operators.check_compatible, {"model": fno,
                                                                    "data": pairs}),
        ("operators.error_spectrum", operators.error_spectrum,
         {"model": fno, "data": pairs, "batch_size": 2}),
        ("operators.inference_seconds", operators.inference_seconds,
         {"model": fno, "data": pairs, "repeats": 1}),
        ("operators.load_model", operators.load_model, {"path": tmp / "fno.eqx"}),
        ("operators.predict", operators.predict,
         {"model": fno, "inputs": jnp.asarray(pairs.inputs), "coords": jnp.asarray(
             pairs.coords)}),
        ("operators.rollout_pairs", operators.rollout_pairs, {"source": dataset, "steps": 1}),
        ("operators.OperatorData", operators.OperatorData,
         {"inputs": pairs.inputs, "outputs": pairs.outputs, "coords": pairs.coords}),
        ("operators.shell_spectrum", operators.shell_spectrum, {"fields": pairs.outputs}),
        ("operators.surrogate_solve", operators.surrogate_solve,
         {"model": fno, "u0": jnp.asarray(pairs.inputs[0]), "coords": jnp.asarray(
             pairs.coords), "t1": 0.1, "rtol": 1e-4, "atol": 1e-6, "max_steps": 100}),
        ("operators.OperatorVectorField", operators.OperatorVectorField,
         {"model": fno, "coords": jnp.asarray(pairs.coords)}),
        ("operators.train_rollout_curriculum", operators.train_rollout_curriculum,
         {"model": fno, "source": dataset, "stages": [(1, 2, 2, 1e-3)], "trajectories": 2,
          "key": key, "progress": "off"}),
        ("operators.tuned_config", operators.tuned_config,
         {"dataset": "burgers_128", "model": "fno", "target": "quick"}),
        ("operators.train_and_evaluate", operators.train_and_evaluate,
         {"name": "fno", "train": train_set, "test": test_set, "config": config,
          "model_key": key, "train_key": key, "progress": "off"}),
        ("operators.save_run", operators.save_run,
         {"run": op_run, "test": test_set, "out": tmp / "op_run"}),
        # pinns
        ("pinns.train_pinn", pinns.train_pinn,
         {"problem": heat1d, "model": mlp, "steps": 2, "key": key, "optimizer": "adam",
          "learning_rate": 1e-3, "progress": "off", **tiny}),
        ("pinns.train_pinn_marching", pinns.train_pinn_marching,
         {"problem": heat1d, "model": mlp, "windows": 2, "steps": 2, "key": key,
          "refine_steps": 1, "progress": "off", **tiny}),
        ("pinns.train_and_evaluate", pinns.train_and_evaluate,
         {"problem": heat1d, "recipe": recipe, "key": key, "progress": "off",
          "resolution": 16}),
        ("pinns.save_run", pinns.save_run,
         {"run": pinn_run, "problem": heat1d, "name": "heat1d", "out": tmp / "pinn_run"}),
        ("pinns.PINNRecipe", pinns.PINNRecipe,
         {"model": "pinn", "width": 8, "depth": 2, "steps": 2, "points": 16,
          "refine_steps": 0, "min_side_points": 4}),
        ("pinns.build_model", pinns.build_model, {"problem": heat1d, "recipe": recipe,
                                                  "key": key}),
        ("pinns.optimizer_for", pinns.optimizer_for, {"optimizer": "adam",
                                                      "learning_rate": 1e-3}),
        ("pinns.make_optimizer", pinns.make_optimizer,
         {"name": "adam", "learning_rate": 1e-3, "steps": 10, "num_groups": 2}),
        ("pinns.MultiAdam", pinns.MultiAdam, {"learning_rate": 1e-3, "b1": 0.9, "b2": 0.999}),
        ("pinns.LBFGS", pinns.LBFGS, {}),
        ("pinns.GaussNewton", pinns.GaussNewton, {"damping": 1e-3}),
        ("pinns.formulation", pinns.formulation, {"problem": heat1d}),
        ("pinns.lpinn_for", pinns.lpinn_for,
         {"problem": advection, "width": 8, "depth": 2, "periodic_modes": 1, "key": key}),
        ("pinns.lpinn_loss", pinns.lpinn_loss,
         {"problem": advection, "residual_points": 16, "initial_points": 8,
          "weights": {"flow": 1.0}}),
        ("pinns.characteristic_grid", pinns.characteristic_grid,
         {"model": lpinn, "problem": advection, "labels": 4, "num_times": 3}),
        ("pinns.predict_on_reference", pinns.predict_on_reference,
         {"problem": heat1d, "model": mlp, "resolution": 16, "num_times": 3}),
        ("pinns.relative_error", pinns.relative_error,
         {"problem": heat1d, "model": mlp, "resolution": 16, "num_times": 3, "points": 64}),
    ]
