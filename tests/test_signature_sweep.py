"""Every public callable of the sweep in `tests/_sweep.py`, one wrong argument at a time:
each wrong call raises from our own code (a message for the user) or returns a result with
no NaN, and leaves no partial file. `python -m tests._sweep` prints the counts."""

from ._sweep import sweep


def test_one_wrong_argument_per_parameter(tmp_path):
    callables, tried, failures = sweep(tmp_path)
    assert callables >= 90 and tried >= 1000
    assert not failures, "\n".join(failures)
