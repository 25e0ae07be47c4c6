"""`sciopt.export`: a model and a solver step exported as StableHLO run in a fresh process
that imports only JAX and NumPy, bitwise equal to the reloaded function here and equal to
the original to round-off; NumPy in / NumPy out; clear errors on bad input."""

import json
import subprocess
import sys
from functools import partial

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from sciopt import problems, solvers
from sciopt.export import export_function, load_exported, numpy_function

_FRESH = """
import sys
import jax
jax.config.update("jax_enable_x64", True)
import numpy as np
assert "sciopt" not in sys.modules
names = sys.argv[1::2]
for name, inp in zip(names, sys.argv[2::2]):
    f = jax.export.deserialize(bytearray(open(name, "rb").read()))
    np.save(name + ".out.npy", np.asarray(f.call(np.load(inp))))
"""


def _allen_cahn_step():
    """Ten ETDRK4 steps (dt = 1e-3) of Allen-Cahn on 64 points: a whole solver step."""
    p = problems.get("allen_cahn1d")
    grid = p.grid(64)
    k = grid.wavenumbers()[0]
    return partial(solvers.solve_on_grid, grid, p.symbol(k), partial(p.nonlinear, grid),
                   dt=1e-3, num_steps=10, save_every=10), grid


def test_model_and_solver_step_run_in_a_fresh_process_bitwise(tmp_path):
    mlp = eqx.nn.MLP(3, 2, 16, 2, key=jax.random.key(0))
    x = jax.random.normal(jax.random.key(1), (5, 3))
    model_file = export_function(jax.vmap(mlp), x, path=tmp_path / "mlp",
                                 batch_polymorphic=True)
    assert model_file.name == "mlp.jaxexport"
    meta = json.loads(model_file.with_suffix(".json").read_text())
    assert meta["inputs"] == [{"shape": ["batch", 3], "dtype": "float64"}]
    assert meta["outputs"] == [{"shape": ["batch", 2], "dtype": "float64"}]

    step, grid = _allen_cahn_step()
    u0 = np.asarray(problems.get("allen_cahn1d").initial_condition(grid.axes()[0]))
    step_file = export_function(step, u0, path=tmp_path / "allen_cahn_step.jaxexport")

    loaded = load_exported(model_file)
    x7 = np.asarray(jax.random.normal(jax.random.key(2), (7, 3)))  # another batch size
    here = {model_file: np.asarray(loaded(x7)), step_file: np.asarray(load_exported(
        step_file)(u0))}
    np.testing.assert_allclose(here[model_file], jax.vmap(mlp)(x7), rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(here[step_file], step(u0), rtol=1e-12, atol=1e-14)
    assert here[step_file].shape == (2, 64) and np.abs(here[step_file][1] - u0).max() > 1e-4

    inputs = {model_file: x7, step_file: u0}
    args = []
    for f, v in inputs.items():
        np.save(f.with_suffix(".in.npy"), v)
        args += [str(f), str(f.with_suffix(".in.npy"))]
    subprocess.run([sys.executable, "-c", _FRESH, *args], check=True, timeout=300)
    for f, want in here.items():
        np.testing.assert_array_equal(np.load(str(f) + ".out.npy"), want)  # bitwise


def test_numpy_in_numpy_out_and_bad_input(tmp_path):
    mlp = eqx.nn.MLP(2, 1, 8, 1, key=jax.random.key(0))
    f = numpy_function(jax.vmap(mlp))
    out = f(np.ones((4, 2)))
    assert type(out) is np.ndarray and out.shape == (4, 1)
    np.testing.assert_allclose(out, jax.vmap(mlp)(jnp.ones((4, 2))), rtol=1e-14)

    path = export_function(mlp, np.ones(2), path=tmp_path / "m")
    g = load_exported(tmp_path / "m", numpy=True)  # the suffix is found
    assert type(g(np.ones(2))) is np.ndarray
    with pytest.raises(ValueError, match=r"input 0 of m.jaxexport must be float64\[2\]; "
                                         r"got float64\[3\]"):
        g(np.ones(3))
    with pytest.raises(ValueError, match=r"must be float64\[2\]; got int32"):
        g(np.ones(2, np.int32))
    with pytest.raises(ValueError, match="inputs structured as"):
        g(np.ones(2), np.ones(2))
    corrupt = tmp_path / "corrupt.jaxexport"
    corrupt.write_bytes(path.read_bytes()[:100])
    with pytest.raises(ValueError, match="not a jax.export artifact"):
        load_exported(corrupt)
    with pytest.raises(FileNotFoundError, match="no exported function"):
        load_exported(tmp_path / "missing.jaxexport")
    with pytest.raises(ValueError, match="example inputs"):
        export_function(mlp, path=tmp_path / "x")
    with pytest.raises(ValueError, match="leading batch axis"):
        export_function(lambda s: s, np.float64(1.0), path=tmp_path / "x",
                        batch_polymorphic=True)
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
