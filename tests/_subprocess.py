"""Run a helper script in a fresh Python process (its own XLA flags) and read the JSON line
it prints last."""

import json
import os
import subprocess
import sys
from pathlib import Path


def run_json_script(path: Path, timeout: float = 300) -> dict:
    env = dict(os.environ)
    env.pop("XLA_FLAGS", None)  # the script sets its own
    proc = subprocess.run([sys.executable, str(path)], capture_output=True, text=True,
                          timeout=timeout, env=env)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])
