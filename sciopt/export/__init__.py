"""Embedding in pipelines: export a trained model or a solver step as StableHLO
(`jax.export`), reload it in a process without its Python code, and call JAX functions
with NumPy arrays."""

from ._export import ExportedFunction as ExportedFunction
from ._export import export_function as export_function
from ._export import load_exported as load_exported
from ._export import numpy_function as numpy_function

__all__ = [
    "export_function",
    "ExportedFunction",
    "load_exported",
    "numpy_function",
]
