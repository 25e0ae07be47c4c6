"""A real two-process run on localhost (CPU collectives): both processes start through
`sciopt.distributed.initialize`, each loads only its rows, and data-parallel operator
training ends with identical parameters in both."""

import json
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

SCRIPT = Path(__file__).with_name("_two_process_operator.py")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_two_processes_train_to_identical_parameters():
    port = str(_free_port())
    procs = [subprocess.Popen([sys.executable, str(SCRIPT), str(i), port],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for i in range(2)]
    outputs = []
    try:
        for p in procs:
            out, err = p.communicate(timeout=300)
            assert p.returncode == 0, err[-3000:]
            outputs.append(json.loads(next(line for line in out.splitlines()
                                           if line.startswith("RESULT "))[7:]))
    finally:
        for p in procs:
            p.kill()
    first, second = sorted(outputs, key=lambda o: o["process"])
    rows = np.arange(12.0).reshape(6, 2)
    assert first["part"] == rows[:3].tolist() and second["part"] == rows[3:].tolist()
    assert first["sum_of_squares"] == second["sum_of_squares"] == float(np.sum(rows**2))
    assert first["losses"] == second["losses"]
    assert first["losses"][-1] < 0.99 * first["losses"][0]  # it trained
    for p, q in zip(first["parameters"], second["parameters"], strict=True):
        assert p == q  # bitwise
