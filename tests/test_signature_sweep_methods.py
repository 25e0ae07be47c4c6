"""The signature sweep (`tests/_sweep.py`) over the method packages' drivers, models and
recipes (`flows`, `operators`, `pinns`), at tiny sizes."""

from ._sweep import sweep
from ._sweep_more import PASSTHROUGH, method_calls


def test_one_wrong_argument_per_parameter_methods(tmp_path):
    callables, tried, failures = sweep(tmp_path, method_calls(tmp_path), PASSTHROUGH)
    assert callables >= 55 and tried >= 900
    assert not failures, "\n".join(failures)
