"""Domains (interval, box, periodic torus, disk) and their interior/boundary samplers."""

from ._domains import AbstractDomain as AbstractDomain
from ._domains import Ball as Ball
from ._domains import Box as Box
from ._domains import Disk as Disk
from ._domains import Interval as Interval
from ._domains import Torus as Torus
from ._samplers import latin_hypercube as latin_hypercube
from ._samplers import sobol as sobol
from ._samplers import unit_cube as unit_cube

__all__ = [
    "AbstractDomain",
    "Ball",
    "Box",
    "Disk",
    "Interval",
    "latin_hypercube",
    "sobol",
    "Torus",
    "unit_cube",
]
