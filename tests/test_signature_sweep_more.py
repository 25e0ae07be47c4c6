"""The signature sweep (`tests/_sweep.py`) over the core callables of `_sweep_more`:
records users build, geometry, problems and their helpers, solvers, training loops,
export, validation."""

from ._sweep import sweep
from ._sweep_more import PASSTHROUGH, more_calls


def test_one_wrong_argument_per_parameter_core(tmp_path):
    callables, tried, failures = sweep(tmp_path, more_calls(tmp_path), PASSTHROUGH)
    assert callables >= 100 and tried >= 1100
    assert not failures, "\n".join(failures)
