"""Kernel reductions sharded over 4 forced CPU devices equal the single-device ones."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.slow
def test_sharded_kernels_match_single_device():
    env = dict(os.environ)
    env.pop("XLA_FLAGS", None)
    proc = subprocess.run([sys.executable, str(Path(__file__).with_name("_sharded_kernels.py"))],
                          capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    for key, value in out.items():
        assert value < 1e-12, (key, value)
