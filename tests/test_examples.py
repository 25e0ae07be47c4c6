"""Every example runs (in a reduced mode) and saves its figure."""

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
REDUCED = {"fit_with_checkpoints.py": ["--steps", "60"],
           "laplacian_stde.py": ["--dim", "10", "--samples", "4,16"],
           "jko_fokker_planck.py": ["--steps", "2", "--iterations", "20", "--pool", "512"],
           "kernel_density.py": ["--points", "2000"], "entropic_map.py": ["--points", "300"],
           "mean_field_langevin.py": ["--particles", "100", "--t1", "0.3", "--svgd-steps",
                                      "50"],
           "darcy_inverse.py": ["--resolution", "13", "--observations", "20", "--max-steps",
                                "5", "--out", "."],
           "initial_condition_inverse.py": ["--resolution", "32", "--out", "."],
           "topology_mbb.py": ["--nelx", "12", "--nely", "4", "--max-iterations", "10", "--out",
                               "."],
           "teng_allen_cahn.py": ["--steps", "2", "--width", "12", "--depth", "3",
                                 "--grid", "24"]}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLES.glob("*.py")))
def test_example_runs_and_saves_a_png(name, tmp_path):
    args = REDUCED.get(name, [])
    if name == "fit_with_checkpoints.py":
        args = [*args, "--out", str(tmp_path / "run")]
    proc = subprocess.run([sys.executable, str(EXAMPLES / name), *args], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    pngs = list(tmp_path.glob("*.png"))
    assert pngs and pngs[0].read_bytes()[:4] == b"\x89PNG"
