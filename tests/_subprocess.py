"""Run a helper script in a fresh Python process and read the JSON line it prints last. The
script inherits the test run's XLA flags (conftest) and may add its own, such as a forced
device count."""

import json
import os
import subprocess
import sys
from pathlib import Path


def run_json_script(path: Path, timeout: float = 300) -> dict:
    env = {**os.environ, "XLA_FLAGS": os.environ.get("SCIOPT_TEST_XLA_FLAGS", "")}
    proc = subprocess.run([sys.executable, str(path)], capture_output=True, text=True,
                          timeout=timeout, env=env)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])
