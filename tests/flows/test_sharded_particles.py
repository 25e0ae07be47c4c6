"""Particle methods with the particles sharded over 4 forced CPU devices equal the
single-device runs (float64 round-off)."""

from pathlib import Path

import pytest

from tests._subprocess import run_json_script


@pytest.mark.slow
def test_sharded_particle_methods_match_single_device():
    out = run_json_script(Path(__file__).with_name("_sharded_particles.py"))
    for key, value in out.items():
        assert value < 1e-12, (key, value)
