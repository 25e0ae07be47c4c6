"""Datasets in the PDEBench layout: round trips, validation, corruption, atomic writes,
loaders and splits."""

import h5py
import numpy as np
import pytest

from sciopt.data import (
    DatasetError,
    batch_source,
    inspect_dataset,
    iterate_batches,
    read_dataset,
    split,
    split_indices,
    write_dataset,
)

RNG = np.random.default_rng(0)
TENSOR = RNG.standard_normal((10, 5, 16, 12, 2))
T = np.linspace(0, 1, 5)
COORDS = {"x": np.linspace(0, 1, 16), "y": np.linspace(0, 2, 12)}
NU = RNG.standard_normal((10, 16, 12))


def _write(path, tensor=TENSOR, **kw):
    args = dict(t=T, coords=COORDS, extras={"nu": NU}, problem="darcy",
                parameters={"beta": 1.0}, solver={"name": "fd", "n": 16}, seed=3,
                channels=["p", "q"])
    return write_dataset(path, tensor, **(args | kw))


def test_round_trip_is_exact_with_attributes(tmp_path):
    ds = read_dataset(_write(tmp_path / "a.h5"))
    np.testing.assert_array_equal(ds.tensor, TENSOR)
    np.testing.assert_array_equal(ds.extras["nu"], NU)
    np.testing.assert_array_equal(ds.t, T)
    assert list(ds.coords) == ["x", "y"]
    assert ds.attrs["problem"] == "darcy" and ds.attrs["parameters"] == {"beta": 1.0}
    assert ds.attrs["solver"]["name"] == "fd" and ds.attrs["seed"] == 3
    assert ds.attrs["channels"] == ["p", "q"] and "sciopt_version" in ds.attrs
    part = read_dataset(tmp_path / "a.h5", samples=slice(2, 5))
    np.testing.assert_array_equal(part.tensor, TENSOR[2:5])
    np.testing.assert_array_equal(part.extras["nu"], NU[2:5])


def test_reads_original_pdebench_files_without_channel_axis(tmp_path):
    path = tmp_path / "1D_Advection_Sols_beta0.1.hdf5"
    tensor = RNG.standard_normal((3, 6, 8)).astype(np.float32)
    with h5py.File(path, "w") as f:  # as PDEBench writes its 1D files: t has T + 1 values
        f["tensor"] = tensor
        f["t-coordinate"] = np.linspace(0, 2, 7)
        f["x-coordinate"] = np.linspace(0, 1, 8)
    ds = read_dataset(path)
    assert ds.tensor.shape == (3, 6, 8, 1)
    np.testing.assert_array_equal(ds.tensor[..., 0], tensor)
    assert inspect_dataset(path)["layout"] == "PDEBench"


def test_truncated_file_names_file_and_problem(tmp_path):
    path = _write(tmp_path / "a.h5")
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(DatasetError, match=r"a\.h5 is not a readable HDF5 file.*truncated"):
        read_dataset(path)


def test_corrupted_byte_is_detected_by_checksum(tmp_path):
    path = _write(tmp_path / "a.h5")
    with h5py.File(path, "r") as f:
        offset = f["tensor"].id.get_chunk_info(4).byte_offset
    raw = bytearray(path.read_bytes())
    raw[offset + 100] ^= 0x55
    path.write_bytes(bytes(raw))
    read_dataset(path, samples=[0, 1])  # undamaged chunks still read
    with pytest.raises(DatasetError, match=r"a\.h5: dataset 'tensor' cannot be read.*corrupt"):
        read_dataset(path)
    with pytest.raises(DatasetError, match="corrupt"):
        inspect_dataset(path, verify=True)


def test_layout_errors(tmp_path):
    path = tmp_path / "bad.h5"
    with h5py.File(path, "w") as f:
        f["u"] = np.zeros((2, 3))
    with pytest.raises(DatasetError, match=r"no 'tensor' dataset .*\['u'\]"):
        read_dataset(path)
    with h5py.File(path, "w") as f:
        f["tensor"] = np.zeros((2, 3, 4, 1))
        f["t-coordinate"] = np.zeros(3)
        f["x-coordinate"] = np.zeros(5)
    with pytest.raises(DatasetError, match="'x-coordinate' has 5 values but 'tensor' has 4"):
        read_dataset(path)
    (tmp_path / "text.h5").write_text("not hdf5")
    with pytest.raises(DatasetError, match="text.h5 is not a readable HDF5 file"):
        read_dataset(tmp_path / "text.h5")
    with pytest.raises(DatasetError, match="no such file"):
        read_dataset(tmp_path / "missing.h5")


def test_write_rejects_bad_input_and_leaves_nothing(tmp_path):
    path = tmp_path / "a.h5"
    with pytest.raises(DatasetError, match="'tensor' must be"):
        write_dataset(path, TENSOR[..., 0], t=T, coords=COORDS, problem="p")
    with pytest.raises(DatasetError, match="'y-coordinate' has 3 values"):
        write_dataset(path, TENSOR, t=T, coords={"x": COORDS["x"], "y": np.zeros(3)},
                      problem="p")
    with pytest.raises(DatasetError, match="floating-point"):
        write_dataset(path, TENSOR.astype(int), t=T, coords=COORDS, problem="p")
    with pytest.raises(DatasetError, match="leading sample axis"):
        write_dataset(path, TENSOR, t=T, coords=COORDS, extras={"nu": NU[:3]}, problem="p")
    assert list(tmp_path.iterdir()) == []  # no partial or temporary file
    _write(path)
    before = path.read_bytes()
    with pytest.raises(DatasetError, match="already exists.*overwrite"):
        _write(path)
    assert path.read_bytes() == before
    _write(path, seed=4, overwrite=True)
    assert read_dataset(path).attrs["seed"] == 4
    assert [p.name for p in tmp_path.iterdir()] == ["a.h5"]


def test_inspect_counts_nonfinite(tmp_path):
    bad = TENSOR.copy()
    bad[1, 2, 3, 4, 0] = np.nan
    path = write_dataset(tmp_path / "a.h5", bad, t=T, coords=COORDS, problem="p")
    info = inspect_dataset(path)
    assert info["nonfinite_values"] == 1 and info["arrays"]["tensor"]["shape"] == [10, 5, 16,
                                                                                  12, 2]


def test_iterate_batches_is_seeded_and_covers_each_epoch(tmp_path):
    path = _write(tmp_path / "a.h5")
    a = [b["nu"] for b in iterate_batches(path, 3, seed=1, fields=("nu",), epochs=2)]
    b = [b["nu"] for b in iterate_batches(path, 3, seed=1, fields=("nu",), epochs=2)]
    c = [b["nu"] for b in iterate_batches(path, 3, seed=2, fields=("nu",), epochs=2)]
    assert len(a) == 6  # 3 full batches per epoch, tail dropped
    for u, v in zip(a, b, strict=True):
        np.testing.assert_array_equal(u, v)
    assert not all(np.array_equal(u, v) for u, v in zip(a, c, strict=True))
    # Rows come back in the shuffled order, each a real sample, none twice within an epoch.
    rows = np.concatenate([np.asarray(x) for x in a[:3]]).reshape(9, -1)
    index = [int(np.flatnonzero((NU.reshape(10, -1) == r).all(1))[0]) for r in rows]
    assert len(set(index)) == 9 and index != sorted(index)
    with pytest.raises(ValueError, match="unknown field 'mu'"):
        next(iterate_batches(path, 3, seed=1, fields=("mu",)))
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        next(iterate_batches(path, -3, seed=1))


def test_split_partitions_and_batch_source(tmp_path):
    parts = split_indices(10, (0.6, 0.2, 0.2), seed=0)
    assert sorted(np.concatenate(parts).tolist()) == list(range(10))
    assert [len(p) for p in parts] == [6, 2, 2]
    np.testing.assert_array_equal(parts[0], split_indices(10, (0.6, 0.2, 0.2), seed=0)[0])
    with pytest.raises(ValueError, match="sum to 1"):
        split_indices(10, (0.5, 0.2), seed=0)
    ds = read_dataset(_write(tmp_path / "a.h5"))
    train, test = split(ds, (0.8, 0.2), seed=0)
    assert train.num_samples == 8 and test.num_samples == 2
    source = batch_source(train, 4, fields=("tensor", "nu"))
    import jax

    batch, _ = source.next(source.init(jax.random.key(0)))
    assert batch["tensor"].shape == (4, 5, 16, 12, 2) and batch["nu"].shape == (4, 16, 12)


def test_block_array_writes_the_same_file_one_block_at_a_time(tmp_path):
    from sciopt.data import BlockArray

    loaded = []

    def block(lo, hi):
        def load():
            loaded.append((lo, hi))
            return TENSOR[lo:hi]
        return load

    blocks = BlockArray(TENSOR.shape, TENSOR.dtype, [block(0, 4), block(4, 8), block(8, 10)])
    ds = read_dataset(_write(tmp_path / "b.h5", tensor=blocks))
    np.testing.assert_array_equal(ds.tensor, TENSOR)
    assert loaded == [(0, 4), (4, 8), (8, 10)]
    assert (tmp_path / "b.h5").read_bytes() == _write(tmp_path / "a.h5").read_bytes()
    # Stored precision on request (tensor and floating extras).
    ds32 = read_dataset(_write(tmp_path / "c.h5", dtype="float32"))
    assert ds32.tensor.dtype == np.float32 and ds32.extras["nu"].dtype == np.float32
    # Blocks that do not add up are refused and leave no file.
    short = BlockArray(TENSOR.shape, TENSOR.dtype, [block(0, 4)])
    with pytest.raises(DatasetError, match="hold 4 samples, not 10"):
        _write(tmp_path / "d.h5", tensor=short)
    assert not (tmp_path / "d.h5").exists()
