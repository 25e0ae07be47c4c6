"""Examples in a reduced mode, first half (see `_runner.py`)."""

import pytest

from ._runner import ALL, FIRST, run_example


@pytest.mark.slow
@pytest.mark.parametrize("name", FIRST)
def test_example_runs_and_saves_a_png(name, tmp_path, monkeypatch):
    run_example(name, tmp_path, monkeypatch)


def test_every_example_of_the_first_half_exists():
    assert set(FIRST) <= set(ALL), sorted(set(FIRST) - set(ALL))
