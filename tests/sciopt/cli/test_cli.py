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


def _record(folder, rows, metrics, *, suite="operator", png=True):
    from sciopt.bench import environment, write_suite

    figures = []
    if png:
        (folder / "losses.png").parent.mkdir(parents=True, exist_ok=True)
        (folder / "losses.png").write_bytes(b"\x89PNG" + folder.name.encode())
        figures = [str(folder / "losses.png")]
    result = {"title": "Ops", "summary": "s", "dtype": "float64", "wall_time_s": 2.0,
              "tables": [{"title": "T", "columns": ["set", "model", "err"], "rows": rows,
                          "notes": "n"}],
              "metrics": {"err": metrics}, "figures": figures}
    write_suite(folder, suite, result, environment())


def test_bench_merge_joins_records_run_in_parts(capsys, tmp_path):
    a, b, out = tmp_path / "a", tmp_path / "b", tmp_path / "all"
    _record(a, [["s1", "m1", 0.5], ["s1", "m2", 0.25]], {"s1 m1": 0.5, "s1 m2": 0.25})
    _record(b, [["s1", "m1", 0.125], ["s2", "m1", 1.0]], {"s1 m1": 0.125, "s2 m1": 1.0})
    code, out_text, _ = run(capsys, "bench", "operator", "--merge", str(a), str(b),
                            "--out", str(out))
    assert code == 0 and "merged 2 records" in out_text
    record = json.loads((out / "operator.json").read_text())
    table = record["tables"][0]
    assert table["columns"] == ["set", "model", "err", "record"]
    # the later record's row replaces the earlier one in place; new rows follow
    assert table["rows"] == [["s1", "m1", 0.125, "b"], ["s1", "m2", 0.25, "a"],
                             ["s2", "m1", 1.0, "b"]]
    assert record["metrics"]["err"] == {"s1 m1": 0.125, "s1 m2": 0.25, "s2 m1": 1.0}
    assert record["wall_time_s"] == 4.0 and record["merged_from"] == [str(a), str(b)]
    assert (out / "a-losses.png").read_bytes() == b"\x89PNGa"
    # a record whose rows are all replaced gives no plot
    _record(tmp_path / "c", [["s1", "m2", 0.0625]], {})
    code, _, _ = run(capsys, "bench", "operator", "--merge", str(a), str(tmp_path / "c"),
                     "--out", str(tmp_path / "ac"))
    assert code == 0 and (tmp_path / "ac" / "a-losses.png").exists()
    code, _, _ = run(capsys, "bench", "operator", "--merge", str(tmp_path / "c"), str(b),
                     str(a), "--out", str(tmp_path / "cba"))
    assert code == 0 and not (tmp_path / "cba" / "c-losses.png").exists()
    text = (out / "operator.md").read_text()
    assert "| s1 | m1 | 0.125 | b |" in text and "![a-losses](a-losses.png)" in text

    # bad input: a missing, corrupt or foreign record, or run options, writes nothing
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "operator.json").write_text("{not json")
    _record(tmp_path / "pinn", [["x", "y", 1.0]], {}, suite="pinn", png=False)
    from sciopt.bench import environment, write_suite

    write_suite(tmp_path / "cols", "operator", {"tables": [
        {"title": "T", "columns": ["set", "err"], "rows": [["s1", 1.0]]}]}, environment())
    dest = tmp_path / "never"
    for args, message in (
            ([str(a), str(tmp_path / "nowhere")], "no operator record at "),
            ([str(a), str(bad)], "is not a readable benchmark record"),
            ([str(a), str(tmp_path / "pinn" / "pinn.json")], "a record of suite 'pinn', "
                                                              "not 'operator'"),
            ([str(a), str(tmp_path / "cols")], "table 'T' has other columns in "),
            ([str(a), "--quick"], "--merge runs nothing; it takes no --quick")):
        code, _, err = run(capsys, "bench", "operator", "--merge", *args, "--out", str(dest))
        assert code == 2 and message in one_error_line(err), err
        assert not dest.exists()
