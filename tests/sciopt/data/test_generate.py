"""Dataset generation: random fields with the stated covariance, resumable chunked solves
that reproduce an uninterrupted run byte for byte, and clear errors."""

import jax
import numpy as np
import pytest

from sciopt.cli._app import main
from sciopt.data import (
    DatasetError,
    gaussian_random_field,
    generate_dataset,
    matern_random_field,
    read_dataset,
)
from sciopt.solvers import PeriodicGrid

ARGS = {"samples": 10, "resolution": 64, "seed": 3, "chunk_size": 4, "num_times": 3,
        "t_final": 0.2, "params": {"nu": 0.05}, "progress": "off"}


def test_random_field_has_the_stated_covariance():
    grid = PeriodicGrid(256, 10.0)
    fields = np.asarray(jax.vmap(lambda k: gaussian_random_field(k, grid, length_scale=0.5,
                                                                 std=2.0))(
        jax.random.split(jax.random.key(0), 4000)))
    n = fields.size
    assert abs(fields.mean()) < 5 * 2.0 / np.sqrt(n / 100)  # samples are correlated
    assert abs(fields.std() - 2.0) < 0.02
    lag = round(0.5 / grid.spacing[0])  # one length scale: correlation exp(-1/2)
    corr = np.mean(fields * np.roll(fields, lag, axis=1)) / np.mean(fields**2)
    assert abs(corr - np.exp(-0.5)) < 0.02


def test_matern_field_has_the_fno_spectrum_and_no_mean_mode():
    # The FNO paper's Burgers initial conditions: on the unit period the coefficients of
    # cos(2 pi k x) and sin(2 pi k x) have variance 2 sigma^2 ((2 pi k)^2 + tau^2)^(-alpha).
    grid, (alpha, tau, sigma) = PeriodicGrid(64, 1.0), (2.0, 5.0, 25.0)
    fields = np.asarray(jax.vmap(lambda k: matern_random_field(k, grid, alpha=alpha, tau=tau,
                                                               sigma=sigma))(
        jax.random.split(jax.random.key(1), 4000)))
    coeffs = np.fft.rfft(fields, axis=1) / 64
    assert np.max(np.abs(coeffs[:, 0])) < 1e-13  # zero mean mode, every sample
    k = np.arange(1, 5)
    expected = 2 * sigma**2 * ((2 * np.pi * k) ** 2 + tau**2) ** (-alpha)
    measured = 0.5 * np.mean((2 * np.abs(coeffs[:, k])) ** 2, axis=0)  # cos and sin averaged
    np.testing.assert_allclose(measured, expected, rtol=0.08)  # 8000 draws per mode: 1.6 %
    total = np.sum(2 * sigma**2 * ((2 * np.pi * np.arange(1, 33)) ** 2 + tau**2) ** (-alpha))
    total -= sigma**2 * ((2 * np.pi * 32) ** 2 + tau**2) ** (-alpha)  # one Nyquist mode
    assert abs(fields.var() / total - 1) < 0.03


def test_interrupted_generation_resumes_to_the_same_file(tmp_path, monkeypatch):
    ref = generate_dataset(tmp_path / "ref.h5", "burgers1d_periodic", **ARGS)
    out = tmp_path / "out.h5"

    from sciopt.train import ProgressReporter

    original = ProgressReporter.update
    calls = []

    def killed_after_two_chunks(self, *a, **k):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt  # as if the process died after its second chunk
        return original(self, *a, **k)

    monkeypatch.setattr(ProgressReporter, "update", killed_after_two_chunks)
    with pytest.raises(KeyboardInterrupt):
        generate_dataset(out, "burgers1d_periodic", **ARGS)
    monkeypatch.setattr(ProgressReporter, "update", original)
    partial = tmp_path / "out.h5.partial"
    assert not out.exists() and len(list(partial.glob("chunk_*.npz"))) == 2
    generate_dataset(out, "burgers1d_periodic", **ARGS)
    assert out.read_bytes() == ref.read_bytes()
    assert not partial.exists()
    ds = read_dataset(out)
    assert ds.tensor.shape == (10, 3, 64, 1) and ds.attrs["problem"] == "burgers1d_periodic"
    assert ds.attrs["metadata"]["initial_condition"]["kind"] == "gaussian_random_field"
    assert np.all(np.isfinite(ds.tensor))
    # The chunk size does not change the samples (per-sample keys).
    other = generate_dataset(tmp_path / "c3.h5", "burgers1d_periodic", **(ARGS | {
        "chunk_size": 3}))
    np.testing.assert_array_equal(read_dataset(other).tensor, ds.tensor)


def test_partial_run_with_other_arguments_is_refused(tmp_path):
    (tmp_path / "out.h5.partial").mkdir()
    (tmp_path / "out.h5.partial" / "config.json").write_text('{"hash": "other"}')
    with pytest.raises(DatasetError, match="other arguments"):
        generate_dataset(tmp_path / "out.h5", "burgers1d_periodic", **ARGS)


def test_float64_storage_of_float32_solves_is_refused(tmp_path):
    with jax.enable_x64(False), pytest.raises(ValueError, match="enable float64 first"):
        generate_dataset(tmp_path / "out.h5", "burgers1d_periodic", dtype="float64", **ARGS)
    assert list(tmp_path.iterdir()) == []


def test_generation_held_by_another_process_is_refused_and_left_alone(tmp_path):
    """Two runs writing the same file (parallel benchmark parts, say) must not share the
    partial folder: the second is refused while the first holds its lock, and the first's
    chunks stay. (An `flock` on a second open file stands for the other process: the lock
    belongs to the open file, not to the process.)"""
    fcntl = pytest.importorskip("fcntl")
    out = tmp_path / "out.h5"
    partial = tmp_path / "out.h5.partial"
    partial.mkdir()
    (partial / "chunk_000000.npz").write_bytes(b"the other run's chunk")
    with open(partial / ".lock", "a") as other:
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(DatasetError, match="being generated by another process"):
            generate_dataset(out, "burgers1d_periodic", **ARGS)
    assert (partial / "chunk_000000.npz").read_bytes() == b"the other run's chunk"
    assert not out.exists()
    # Once it is released (the other run ended), a run takes over the folder.
    (partial / "chunk_000000.npz").unlink()
    generate_dataset(out, "burgers1d_periodic", **ARGS)
    assert out.exists() and not partial.exists()


@pytest.mark.parametrize("argv, expected", [
    (["--resolution", "-8"], "resolution must be a positive integer, got -8"),
    (["--resolution", "63"], "grid sizes must be even"),
    (["--param", "nu=-1"], "'nu' of problem 'burgers1d_periodic' must be positive"),
    (["--param", "mu=1"], "unknown parameter(s) 'mu'"),
    (["--dt", "0.5"], "exceeds the stability limit"),
    (["--samples", "0"], "samples must be a positive integer"),
    (["--covariance", "matern", "--std", "2"], "std do(es) not apply to the matern"),
    (["--covariance", "matern", "--tau", "-5"], "tau must be positive"),
    (["--alpha", "2"], "alpha do(es) not apply to the squared_exponential"),
])
def test_cli_bad_input_exit_2_and_nothing_left(capsys, tmp_path, argv, expected):
    out = tmp_path / "d.h5"
    code = main(["data", "generate", "burgers1d_periodic", "--samples", "2", "--resolution",
                 "32", "--seed", "0", "--out", str(out), *argv])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and expected in err, err
    assert list(tmp_path.iterdir()) == []


def test_cli_generate_and_solve(capsys, tmp_path):
    out = tmp_path / "ks.h5"
    assert main(["data", "generate", "ks1d", "--samples", "2", "--resolution", "32", "--seed",
                 "0", "--out", str(out), "--t-final", "1", "--times", "3"]) == 0
    assert read_dataset(out).tensor.shape == (2, 3, 32, 1)
    code = main(["data", "generate", "ks1d", "--samples", "2", "--resolution", "32", "--seed",
                 "0", "--out", str(out)])
    assert code == 2 and "already exists" in capsys.readouterr().err
    assert main(["solve", "advection1d", "--param", "c=50", "--resolution", "64", "--out",
                 str(tmp_path / "s")]) == 0
    text = capsys.readouterr().out
    err = float(text.split("analytic solution ")[1].split()[0])
    assert err <= 1e-10
    assert (tmp_path / "s" / "advection1d_reference.png").exists()


def test_darcy_dataset_in_the_pdebench_layout(tmp_path):
    out = generate_dataset(tmp_path / "darcy.h5", "darcy2d", samples=5, resolution=17, seed=2,
                           chunk_size=2, progress="off")
    ds = read_dataset(out)
    assert ds.tensor.shape == (5, 1, 17, 17, 1) and ds.extras["nu"].shape == (5, 17, 17)
    assert set(np.unique(ds.extras["nu"]).tolist()) <= {3.0, 12.0}
    assert ds.attrs["solver"]["name"] == "finite_differences_cg"
    # Each stored pair solves the problem: re-solve sample 3 from its coefficient.
    from sciopt import problems

    u = np.asarray(problems.get("darcy2d").solve(jax.numpy.asarray(ds.extras["nu"][3])))
    np.testing.assert_allclose(ds.tensor[3, 0, ..., 0], u, rtol=1e-10, atol=1e-14)
    assert float(ds.tensor.min()) >= -1e-12  # maximum principle (f = 1, u = 0 on the edge)


def test_2d_time_dependent_dataset_matches_direct_solves(tmp_path):
    from sciopt import problems

    out = generate_dataset(tmp_path / "ns.h5", "navier_stokes2d", samples=3, resolution=16,
                           seed=5, num_times=3, t_final=0.2, chunk_size=2, progress="off")
    ds = read_dataset(out)
    assert ds.tensor.shape == (3, 3, 16, 16, 1) and list(ds.coords) == ["x", "y"]
    assert ds.attrs["solver"]["precision"] == "float64"
    np.testing.assert_allclose(ds.coords["y"], 2 * np.pi * np.arange(16) / 16, rtol=1e-15)
    # Sample 2 re-solved from its stored initial vorticity.
    p = problems.get("navier_stokes2d")
    w = np.asarray(p.solve(jax.numpy.asarray(ds.tensor[2, 0, ..., 0]), np.linspace(0, 0.2, 3)))
    np.testing.assert_allclose(ds.tensor[2, ..., 0], w, rtol=1e-12, atol=1e-12)
    assert np.std(ds.tensor[:, 0]) > 0.5  # random fields, not a fixed initial condition


def test_presets_set_sizes_that_explicit_arguments_override(tmp_path):
    from sciopt.data import PRESETS
    from sciopt.data._generate import _sizes

    sizes = _sizes("navier_stokes2d", "fno", {"samples": 4, "resolution": None,
                                              "num_times": None, "t_final": None})
    assert sizes == {**PRESETS["fno"]["navier_stokes2d"], "samples": 4}
    with pytest.raises(ValueError, match="no sizes for 'kdv1d'"):
        _sizes("kdv1d", "fno", {})
    with pytest.raises(ValueError, match="samples is required"):
        generate_dataset(tmp_path / "x.h5", "kdv1d", seed=0)
    with pytest.raises(ValueError, match="boundary=periodic"):
        generate_dataset(tmp_path / "x.h5", "heat2d", samples=1, resolution=8, seed=0,
                         params={"boundary": "dirichlet"})
    assert list(tmp_path.iterdir()) == []
