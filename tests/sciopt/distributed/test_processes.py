"""`sciopt.distributed` in one process: the rows each process owns, and clear errors before
any multi-process start-up is tried. (The two-process run is tests/operators/
test_multiprocess.py.)"""

import numpy as np
import pytest

from sciopt import distributed


def test_process_slices_tile_the_rows_in_process_order():
    slices = [distributed.process_slice(12, process_index=i, process_count=3) for i in range(3)]
    assert slices == [slice(0, 4), slice(4, 8), slice(8, 12)]
    rows = np.arange(10.0).reshape(5, 2)
    np.testing.assert_array_equal(distributed.process_shard(rows), rows)  # one process
    np.testing.assert_array_equal(distributed.process_shard(rows.T, axis=1), rows.T)
    info = distributed.process_info()
    assert info.process_index == 0 and info.process_count == 1
    with pytest.raises(ValueError, match="do not split evenly over 2 processes"):
        distributed.process_slice(7, process_index=0, process_count=2)


def test_initialize_rejects_partial_or_inconsistent_arguments():
    with pytest.raises(ValueError, match="give all of coordinator_address"):
        distributed.initialize("localhost:1234")
    with pytest.raises(ValueError, match=r"process_id must be in \[0, 2\)"):
        distributed.initialize("localhost:1234", 2, 2)
    with pytest.raises(ValueError, match="num_processes"):
        distributed.initialize("localhost:1234", 0, 0)
