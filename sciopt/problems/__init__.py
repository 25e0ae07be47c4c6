"""The PDE registry: `get(name, **params)`, `names()`, `describe(name)`.

Each problem family lives in its own file and registers itself on import.
"""

from . import _heat  # noqa: F401  (registers its problems)
from ._heat import Heat1DPeriodic as Heat1DPeriodic
from ._registry import AbstractProblem as AbstractProblem
from ._registry import Param as Param
from ._registry import describe as describe
from ._registry import get as get
from ._registry import names as names
from ._registry import register as register
