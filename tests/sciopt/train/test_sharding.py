"""Data-parallel `fit` on 4 forced CPU devices equals the single-device run."""

from pathlib import Path

import pytest

from tests._subprocess import run_json_script


@pytest.mark.slow
def test_four_device_fit_equals_one_device_fit():
    out = run_json_script(Path(__file__).with_name("_sharded_script.py"))
    assert out["devices"] == 4
    # The only difference is the order of the batch reduction (per-device partial sums):
    # float64 round-off, amplified a little by 40 Adam steps.
    for case in ("array", "sampled"):
        assert out[f"{case}_rel"] < 1e-12, out
        assert out[f"{case}_loss"] < 1e-13, out
    assert "not divisible by the 4 devices" in out["indivisible"]
    assert out["loader_shards"] == 4 and out["loader_shard_shape"] == [2, 2, 8, 1]
