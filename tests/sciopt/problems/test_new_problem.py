"""Adding a PDE is a one-file change: a problem defined and registered here, with no change
to the library, gets a reference solve, a dataset and a trained PINN through the CLI, because
every caller asks the problem (its protocol methods), never its class."""

import ast
import json
import math
from pathlib import Path

import equinox as eqx
import h5py
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from sciopt import problems
from sciopt.cli._app import main

ROOT = Path(__file__).resolve().parents[3]
NAME = "damped_diffusion1d_test"


class DampedDiffusion1D(problems.AbstractPeriodic1D):
    """`u_t = D u_xx - k u` on `[0, 2 pi)`, `u0 = sin(x) + 0.5 cos(2 x)`; exact
    `e^{-(D + k) t} sin(x) + 0.5 e^{-(4 D + k) t} cos(2 x)`."""

    diffusion: float
    rate: float
    t_final: float = eqx.field(static=True)
    interval = (0.0, 2 * math.pi)
    default_dt = 1e-2

    def initial_condition(self, x):
        return jnp.sin(x) + 0.5 * jnp.cos(2 * x)

    def symbol(self, k):
        return -self.diffusion * k**2 - self.rate + 0j

    def solution(self, x, t):
        d, k = self.diffusion, self.rate
        return (jnp.exp(-(d + k) * t) * jnp.sin(x)
                + 0.5 * jnp.exp(-(4 * d + k) * t) * jnp.cos(2 * x))

    def exact_solution(self, coords, t):
        return problems.on_grid(self.solution, coords, t)

    def residual(self, u, x, t):
        u_t = jax.grad(u, argnums=1)(x, t)
        u_xx = jax.grad(jax.grad(u, argnums=0), argnums=0)(x, t)
        return u_t - self.diffusion * u_xx + self.rate * u(x, t)

    @property
    def parameters(self):
        return {"diffusion": self.diffusion, "rate": self.rate, "t_final": self.t_final}


@pytest.fixture(scope="module", autouse=True)
def registered():
    problems.register(
        NAME, DampedDiffusion1D,
        (problems.Param("diffusion", 0.2, "diffusivity", float),
         problems.Param("rate", 0.5, "decay rate", float),
         problems.Param("t_final", 0.5, "final time", float)),
        summary="u_t = D u_xx - k u (a test's own problem)", family="test")
    yield
    problems.unregister(NAME)


def test_reference_solve_through_the_cli(tmp_path, capsys):
    assert main(["solve", NAME, "--method", "reference", "--resolution", "32",
                 "--times", "3", "--out", str(tmp_path)]) == 0
    record = json.loads((tmp_path / f"{NAME}_reference.json").read_text())
    # ETDRK4 is exact for this linear problem (spectral in space, the exponential in time):
    # round-off only
    assert record["relative_l2_error"] < 1e-12
    assert (tmp_path / f"{NAME}_reference.png").exists()


def test_dataset_generation_through_the_cli(tmp_path, capsys):
    out = tmp_path / "d.h5"
    assert main(["data", "generate", NAME, "--samples", "3", "--resolution", "32",
                 "--times", "4", "--seed", "1", "--out", str(out), "--dtype", "float64"]) == 0
    with h5py.File(out) as f:
        tensor = np.asarray(f["tensor"])
        t = np.asarray(f["t-coordinate"])
    assert tensor.shape[:3] == (3, 4, 32) and np.all(np.isfinite(tensor))
    # every sample decays: the linear part's symbol is <= -rate for every mode
    energy = np.sum(np.reshape(tensor, (3, 4, -1)) ** 2, axis=-1)
    np.testing.assert_array_less(energy[:, -1], energy[:, 0] * np.exp(-2 * 0.5 * t[-1]) * 1.01)


def test_a_pinn_trains_through_the_cli(tmp_path, capsys):
    assert main(["solve", NAME, "--method", "pinn", "--steps", "300", "--points", "256",
                 "--width", "16", "--depth", "2", "--lr", "1e-2", "--resolution", "32",
                 "--times", "3", "--out", str(tmp_path)]) == 0
    record = json.loads((tmp_path / f"{NAME}_pinn.json").read_text())
    # 300 Adam steps on a small network: 3.0e-2 measured; the zero function scores 1
    assert record["relative_l2_error"] < 0.1


def _concrete_classes(package: str) -> dict[str, str]:
    """Class name -> the module that defines it, for every class of a package's sources."""
    out = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef) and not node.name.startswith("Abstract"):
                out[node.name] = str(path.relative_to(ROOT))
    return out


def _guards(tree) -> set[int]:
    """The ids of `isinstance` calls that only validate an argument's type: `not
    isinstance(...)` in the condition of an `if` whose body raises."""
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and isinstance(node.body[0], ast.Raise):
            for sub in ast.walk(node.test):
                if isinstance(sub, ast.UnaryOp) and isinstance(sub.op, ast.Not):
                    ids.add(id(sub.operand))
    return ids


def test_no_isinstance_on_a_concrete_problem_or_model_class_outside_its_module():
    """Behaviour is never chosen by an object's concrete class outside that class's module:
    it is asked through the object's protocol. (Validating an argument's type at the
    boundary, `if not isinstance(arg, T): raise ...`, is not a choice of behaviour.)"""
    classes = {}
    for package in ("sciopt/problems", "operators", "pinns", "flows"):
        classes |= _concrete_classes(package)
    assert {"Burgers1DPeriodic", "Darcy2D", "FNO", "DeepONet", "LagrangianPINN",
            "PointCloud"} <= set(classes)  # the walk found them
    for folder in ("sciopt", "operators", "pinns", "flows", "benchmarks"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            here = str(path.relative_to(ROOT))
            tree = ast.parse(path.read_text())
            guards = _guards(tree)
            for node in ast.walk(tree):
                if not (isinstance(node, ast.Call) and getattr(node.func, "id", "") ==
                        "isinstance" and len(node.args) == 2) or id(node) in guards:
                    continue
                named = {n.attr if isinstance(n, ast.Attribute) else n.id
                         for n in ast.walk(node.args[1]) if isinstance(n, ast.Attribute | ast.Name)}
                for name in named & set(classes):
                    assert classes[name] == here, (
                        f"{here}:{node.lineno} checks isinstance(..., {name}) outside "
                        f"{classes[name]}: ask the object through its protocol instead")
