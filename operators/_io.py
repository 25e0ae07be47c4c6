"""Building operator models for a data set by name, and saving / loading trained models in
one self-describing file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from sciopt.train import CheckpointError, load_checkpoint, read_header, write_state
from sciopt.validate import output_file

from ._data import OperatorData, check_data
from ._deeponet import DeepONet
from ._dymixop import DyMixOp
from ._fno import FNO
from ._multionet import MultiONet
from ._normalize import channel_statistics, normalized

MODELS = {"fno": FNO, "deeponet": DeepONet, "multionet": MultiONet, "dymixop": DyMixOp}


def model_spec(name: str, data: OperatorData, *, normalize: bool = True,
               **options: Any) -> dict[str, Any]:
    """The constructor arguments of model `name` (a key of `MODELS`) for `data` (the
    training set): its channel counts or sensor count and coordinate dimension from the
    data, `options` for the rest (`modes` defaults to `min(16, n // 2)` per axis in 1D and
    `min(12, n // 2)` in 2D); with `normalize`, the per-channel statistics of `data` that
    `build_model` wraps the model with (`Normalized`)."""
    if name not in MODELS:
        raise ValueError(f"unknown operator model {name!r}; known: {', '.join(MODELS)}")
    check_data("data", data)
    c_in, c_out, grid = data.inputs.shape[1], data.outputs.shape[1], data.grid
    if name in ("fno", "dymixop"):
        cap = 16 if len(grid) == 1 else 12
        modes = options.pop("modes", None) or [min(cap, n // 2) for n in grid]
        modes = [int(m) for m in np.broadcast_to(modes, (len(grid),))]
        args = {"in_channels": c_in, "out_channels": c_out, "modes": modes}
        if name == "dymixop":  # the stencils keep the training grid's tap spacing
            args["grid"] = [int(n) for n in grid]
            args["stencil_power"] = 0.5  # written out: older files without it mean 1
    else:
        args = {"sensors": int(np.prod(data.inputs.shape[1:])),
                "coord_dim": int(data.coords.shape[-1])}
        if name == "deeponet":
            args["outputs"] = c_out
        elif c_out != 1:
            raise ValueError(f"MultiONet returns one field; the data has {c_out}")
    spec = {"model": name, "args": {**args, **options}}
    if normalize:
        spec["normalization"] = channel_statistics(data)
    return spec


def build_model(spec: dict[str, Any], *, key: jax.Array) -> eqx.Module:
    """The model a `model_spec` describes, initialised from `key`."""
    try:
        cls, args = MODELS[spec["model"]], dict(spec["args"])
    except (KeyError, TypeError):
        raise ValueError(f"not an operator model description: {spec!r}") from None
    if "modes" in args:
        args["modes"] = tuple(args["modes"])
    if spec["model"] == "dymixop":  # saved before the option: stencils over h
        args.setdefault("stencil_power", 1.0)
    model = cls(**args, key=key)
    return normalized(model, spec["normalization"]) if "normalization" in spec else model


def save_model(path: str | Path, model: eqx.Module, spec: dict[str, Any],
               meta: dict[str, Any] | None = None) -> Path:
    """Write `model` (built from `spec`) and `meta` (e.g. its test error) to one file,
    atomically; `load_model` rebuilds it in any process.

    Raises `ValueError` (and writes nothing) when `spec` does not describe `model` (another
    architecture, size or dtype: the file would never load), when `meta` is not a JSON
    object, or when `path` is a directory."""
    path = output_file("path", path, overwrite=True)
    if not isinstance(spec, dict):
        raise ValueError(f"spec must be a model description (a dict from model_spec); got "
                         f"{type(spec).__name__}")
    if meta is not None and not isinstance(meta, dict):
        raise ValueError(f"meta must be a dict; got {type(meta).__name__}")
    meta = {"operator": spec, **(meta or {})}
    try:
        json.dumps(meta)
    except (TypeError, ValueError) as err:
        raise ValueError(f"spec and meta must be JSON-serialisable ({err})") from None
    params = eqx.filter(model, eqx.is_array)
    expected = eqx.filter(eqx.filter_eval_shape(lambda: build_model(spec,
                                                                    key=jax.random.key(0))),
                          lambda x: isinstance(x, jax.ShapeDtypeStruct))

    def layout(tree):  # shapes and kinds; a float32 model of a float64 spec loads as float32
        leaves, treedef = jax.tree.flatten(tree)
        return treedef, [(tuple(x.shape), np.dtype(x.dtype).kind) for x in leaves]

    got, want = layout(params), layout(expected)
    if got != want:
        diff = next((f"parameter {i}: the model has {g}, the spec builds {w}"
                     for i, (g, w) in enumerate(zip(got[1], want[1], strict=False)) if g != w),
                    f"the model has {len(got[1])} arrays, the spec builds {len(want[1])}")
        raise ValueError(f"spec does not describe this model ({diff}); save the spec the "
                         f"model was built from (build_model(spec, key=...))")
    return write_state(path, params, meta=meta)


def load_model(path: str | Path) -> tuple[eqx.Module, dict[str, Any]]:
    """`(model, meta)` from a file of `save_model`: the parameters bit for bit, so
    predictions equal the saved model's exactly. A missing, truncated or foreign file
    raises `sciopt.train.CheckpointError` (a `ValueError`)."""
    header, _ = read_header(path)
    meta = header.get("meta", {})
    if "operator" not in meta:
        raise CheckpointError(f"{path} is a sciopt checkpoint but not a saved operator model")
    skeleton = build_model(meta["operator"], key=jax.random.key(0))
    params, static = eqx.partition(skeleton, eqx.is_array)
    try:
        _, params, _ = load_checkpoint(path, params)
    except CheckpointError as error:
        # saved in the other float precision (a float64 process, a float32 one): load the
        # parameters as they were saved, bit for bit
        for dtype in (np.float64, np.float32):
            other = jax.tree.map(lambda a, d=dtype: jnp.zeros(a.shape, d) if jnp.issubdtype(
                a.dtype, jnp.floating) else a, params)
            try:
                _, params, _ = load_checkpoint(path, other)
                break
            except CheckpointError:
                continue
        else:
            raise error from None
    return eqx.combine(params, static), meta
