"""Shared operator test data."""

import pytest

from sciopt import data as sdata


def burgers_file(path, *, samples, resolution, seed, num_times, t_final):
    """A small periodic Burgers set (smooth initial states, length scale 0.25) at `path`."""
    sdata.generate_dataset(path, "burgers1d_periodic", samples=samples, resolution=resolution,
                           seed=seed, num_times=num_times, t_final=t_final,
                           length_scale=0.25, progress="off")
    return path


@pytest.fixture(scope="session")
def trajectories(tmp_path_factory):
    """A small time-dependent set: 6 Burgers trajectories, 4 saved times, 16 points."""
    return burgers_file(tmp_path_factory.mktemp("traj") / "burgers_t.h5", samples=6,
                        resolution=16, seed=0, num_times=4, t_final=0.06)
