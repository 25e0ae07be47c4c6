"""Device mesh helpers for data-parallel runs."""

from ._mesh import data_mesh as data_mesh
