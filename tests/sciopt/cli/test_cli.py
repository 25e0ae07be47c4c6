"""The `sciopt` command: help, info, problems, bench, data inspect, and bad input ending in
one line on stderr with exit status 2."""

import json
import subprocess
import sys

import numpy as np
import pytest

from sciopt.cli._app import main
from sciopt.data import write_dataset


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


@pytest.fixture
def dataset(tmp_path):
    return write_dataset(tmp_path / "d.h5", np.zeros((2, 3, 4, 1)), t=np.arange(3.0),
                         coords={"x": np.arange(4.0)}, problem="heat1d", seed=1)


def test_help_for_every_subcommand(capsys):
    for argv in ([], ["--help"], ["info", "--help"], ["problems", "--help"],
                 ["bench", "--help"], ["data", "--help"], ["data", "inspect", "--help"]):
        code, out, _ = run(capsys, *argv)
        assert code == 0 and "usage:" in out
        if argv and argv[-1] == "--help":
            assert "examples:" in out


def test_info_and_problems(capsys):
    code, out, _ = run(capsys, "info", "--json")
    info = json.loads(out)
    assert code == 0 and {"sciopt", "jax", "jaxlib", "device", "x64"} <= set(info)
    code, out, _ = run(capsys, "problems", "heat1d", "--json")
    assert code == 0 and json.loads(out)["name"] == "heat1d"
    code, out, _ = run(capsys, "problems")
    assert code == 0 and "heat1d" in out and "diffusivity" in out


def test_data_inspect(capsys, dataset):
    code, out, _ = run(capsys, "data", "inspect", str(dataset), "--json")
    info = json.loads(out)
    assert code == 0 and info["attrs"]["problem"] == "heat1d" and info["verified"]
    code, out, _ = run(capsys, "data", "inspect", str(dataset))
    assert code == 0 and "checksums:  ok" in out


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["problems", "burgerz"], "unknown problem 'burgerz'; known problems: "),
        (["bench", "nosuch"], "unknown benchmark suite 'nosuch'; available: "),
        (["bench", "data", "--repeats", "-3"], "--repeats must be a positive integer, got -3"),
        (["bench", "data", "--repeats", "many"], "invalid int value: 'many'"),
        (["data", "inspect", "/no/such/file.h5"], "/no/such/file.h5: no such file"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        (["data"], "the following arguments are required"),
    ],
)
def test_bad_input_is_one_line_exit_2(capsys, argv, expected):
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert expected in one_error_line(err)


def test_corrupt_and_truncated_files(capsys, tmp_path, dataset):
    raw = dataset.read_bytes()
    truncated = tmp_path / "t.h5"
    truncated.write_bytes(raw[:300])
    code, _, err = run(capsys, "data", "inspect", str(truncated))
    assert code == 2 and "t.h5 is not a readable HDF5 file" in one_error_line(err)
    notes = tmp_path / "notes.h5"
    notes.write_text("hello")
    code, _, err = run(capsys, "data", "inspect", str(notes))
    assert code == 2 and "notes.h5" in one_error_line(err)


def test_debug_shows_the_traceback(capsys):
    with pytest.raises(ValueError, match="unknown problem"):
        main(["--debug", "problems", "nope"])


def test_bench_runs_a_suite_and_writes_json_markdown_png(capsys, tmp_path):
    code, out, _ = run(capsys, "bench", "--list")
    assert code == 0 and "quick" in out and "train" in out and "data" in out
    code, out, _ = run(capsys, "bench", "data", "--quick", "--repeats", "1", "--out",
                       str(tmp_path))
    assert code == 0, out
    record = json.loads((tmp_path / "data.json").read_text())
    assert record["environment"]["jax"] and record["metrics"]["round_trip_exact"] is True
    assert record["tables"][0]["rows"][0][1] > 0  # a measured wall time
    assert "| operation |" in (tmp_path / "data.md").read_text()
    assert (tmp_path / "data_throughput.png").read_bytes()[:4] == b"\x89PNG"

    # --only selects cases of suites that name them, and says so otherwise.
    code, _, err = run(capsys, "bench", "data", "--only", "x", "--out", str(tmp_path))
    assert code == 2 and "--only applies to suites with named cases (" in err and "pinn" in err
    code, _, err = run(capsys, "bench", "pinn", "--quick", "--only", "no such case", "--out",
                       str(tmp_path))
    assert code == 2 and "no pinn case matches --only 'no such case'" in err


def test_console_script_in_a_real_process(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "sciopt.cli", "problems", "nope"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert one_error_line(proc.stderr).startswith("sciopt: error: unknown problem 'nope'")


def test_loading_a_suite_leaves_sys_path_alone():
    """benchmarks/ot.py must not shadow POT's `ot` once a suite has been loaded."""
    import sys

    from sciopt.bench._runner import load_suite

    saved = sys.path[:]
    load_suite("ot")
    assert sys.path == saved
