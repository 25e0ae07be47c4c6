"""Examples in a reduced mode, second half: every example not in the first (see
`_runner.py`)."""

import pytest

from ._runner import SECOND, run_example


@pytest.mark.slow
@pytest.mark.parametrize("name", SECOND)
def test_example_runs_and_saves_a_png(name, tmp_path, monkeypatch):
    run_example(name, tmp_path, monkeypatch)
