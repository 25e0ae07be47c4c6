"""Shared operator test data."""

import pytest

from sciopt import data as sdata


@pytest.fixture(scope="session")
def trajectories(tmp_path_factory):
    """A small time-dependent set: 6 Burgers trajectories, 4 saved times, 16 points."""
    path = tmp_path_factory.mktemp("traj") / "burgers_t.h5"
    sdata.generate_dataset(path, "burgers1d_periodic", samples=6, resolution=16, seed=0,
                           num_times=4, t_final=0.06, length_scale=0.25, progress="off")
    return path
