"""Every example runs (in a reduced mode) and saves its figure: the runner shared by
`test_examples_a.py` and `test_examples_b.py`.

The examples are split over two files so that `pytest -n 2 --dist loadfile` can run them on
both workers, and the folder sorts first so they start first (the longest work first packs
the two workers best).

The examples run in the test process (`runpy`, as `__main__`, with their own `sys.argv`
and working directory): a subprocess per example would spend most of its time importing
JAX. Examples that do not switch float64 on run with it off, as they do from the shell.
"""

import runpy
import sys
from pathlib import Path

import jax
import matplotlib.pyplot as plt
import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
REDUCED = {"fit_with_checkpoints.py": ["--steps", "60"], "bridges.py": ["--steps", "20"],
           "laplacian_stde.py": ["--dim", "10", "--samples", "4,16"],
           "jko_fokker_planck.py": ["--steps", "2", "--iterations", "20", "--pool", "512"],
           "kernel_density.py": ["--points", "2000"],
           "mirror_sinkhorn.py": ["--points", "12", "--horizons", "50,200"],
           "entropic_map.py": ["--points", "300"],
           "schatten_transport.py": ["--points", "16"],
           "mean_field_langevin.py": ["--particles", "100", "--t1", "0.3", "--svgd-steps",
                                      "50"],
           "darcy_inverse.py": ["--resolution", "13", "--observations", "20", "--max-steps",
                                "5", "--out", "."],
           "initial_condition_inverse.py": ["--resolution", "32", "--out", "."],
           "topology_mbb.py": ["--nelx", "12", "--nely", "4", "--max-iterations", "10", "--out",
                               "."],
           "operator_surrogate.py": ["--samples", "6", "--steps", "20", "--inverse-steps",
                                     "2"],
           "pinn_multiadam.py": ["--steps", "20", "--width", "16", "--points", "64"],
           "teng_allen_cahn.py": ["--steps", "2", "--width", "12", "--depth", "3",
                                 "--grid", "24"]}


# The first file's share: about half of the run time (the others go to the second file).
FIRST = ("operator_surrogate.py", "teng_allen_cahn.py", "pinn_multiadam.py",
         "laplacian_stde.py", "darcy_inverse.py", "topology_mbb.py")
ALL = sorted(p.name for p in EXAMPLES.glob("*.py"))
SECOND = tuple(name for name in ALL if name not in FIRST)


def run_example(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run `examples/<name>` as `__main__` in `tmp_path` and check it saved a PNG."""
    script = EXAMPLES / name
    args = REDUCED.get(name, [])
    if name == "fit_with_checkpoints.py":
        args = [*args, "--out", str(tmp_path / "run")]
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", [str(script), *args])
    x64 = "jax_enable_x64" in script.read_text()
    try:
        with jax.enable_x64(x64):
            runpy.run_path(str(script), run_name="__main__")
    finally:
        jax.config.update("jax_enable_x64", True)  # the test suite's setting
        plt.close("all")
    pngs = list(tmp_path.glob("*.png"))
    assert pngs and pngs[0].read_bytes()[:4] == b"\x89PNG"
