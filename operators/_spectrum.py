"""Where in frequency an operator's error lies: the error's energy per wavenumber shell."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
from jaxtyping import Float

from sciopt.validate import array

from ._data import OperatorData
from ._train import _batches, _predict_compiled, check_compatible


def shell_spectrum(fields: Float[np.ndarray, "n c *grid"]) -> Float[np.ndarray, " k"]:
    """Root-mean-square amplitude of `fields` per integer wavenumber shell.

    The fields are read as periodic on their grid (for the Dirichlet Darcy sets: their
    periodic extension). Shell `s` holds the Fourier modes whose wavenumber vector rounds
    to length `s` (`|k|` in 1D), summed over channels; the value is
    `sqrt(mean over samples of the shell's energy)`, normalised so that the squares over
    all shells add up to the mean square of the fields per grid point (Parseval):
    `sum(shell_spectrum(f) ** 2) == mean(sum over channels of f ** 2)`.

    **Arguments:**

    - `fields`: `[samples, channels, *grid]` with one or more grid axes.

    **Returns:** `[shells]`, shell 0 (the mean) to the largest wavenumber on the grid.
    """
    fields = np.asarray(array("fields", fields, traced=False))
    if fields.ndim < 3 or fields.shape[0] == 0:
        raise ValueError("shell_spectrum expects [samples, channels, *grid] with at least "
                         f"one sample and one grid axis; got shape {fields.shape}")
    grid = fields.shape[2:]
    axes = tuple(range(2, fields.ndim))
    modes = np.fft.fftn(fields, axes=axes) / np.prod(grid)
    energy = np.mean(np.sum(np.abs(modes) ** 2, axis=1), axis=0)  # [*grid]
    k = np.meshgrid(*[np.fft.fftfreq(n, 1.0 / n) for n in grid], indexing="ij")
    shell = np.rint(np.sqrt(sum(kk**2 for kk in k))).astype(int)
    return np.sqrt(np.bincount(shell.ravel(), weights=energy.ravel()))


def error_spectrum(model, data: OperatorData, *, batch_size: int = 64
                   ) -> dict[str, Float[np.ndarray, " k"]]:
    """`shell_spectrum` of a grid-valued operator's error on `data`, beside the
    target's: which wavenumbers the model gets wrong.

    A surrogate with a small relative L2 may still be wrong where the target has almost no
    energy (high wavenumbers, or the mean), and such an error floor does not shrink with
    the target's amplitude, so it dominates the per-sample relative error of small
    samples. Measured on Burgers (128 points, 10 000 steps; docs/methods/operators.md):
    FNO's error was largest in the one mode that carries the solution (`|k| = 1`);
    DyMixOp's was 0.7x FNO's there but 1.2-5.4x FNO's in each other shell up to 8, and its
    mean per-sample relative error 2.5x FNO's.

    **Arguments:**

    - `model`: any operator that `predict` accepts (grid and coordinate models alike; the
      outputs are read on `data`'s grid).
    - `data`: input/output pairs on a grid.
    - `batch_size`: samples per compiled prediction.

    **Returns:** `{"wavenumber": [k], "error": [k], "target": [k]}` (see `shell_spectrum`).
    """
    check_compatible(model, data)
    coords = jnp.asarray(data.coords)
    pred = np.concatenate([np.asarray(_predict_compiled(model, x, coords))
                           for x, _ in _batches(data, batch_size)])
    target = np.asarray(data.outputs)
    error, target = shell_spectrum(pred - target), shell_spectrum(target)
    return {"wavenumber": np.arange(len(error)), "error": error, "target": target}
