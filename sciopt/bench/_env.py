"""The environment a benchmark ran in."""

from __future__ import annotations

import os
import platform
from typing import Any

import jax
import jaxlib

from .. import __version__


def environment() -> dict[str, Any]:
    """sciopt/jax/jaxlib versions, devices, platform and the float64 flag."""
    devices = jax.devices()
    return {
        "sciopt": __version__,
        "jax": jax.__version__,
        "jaxlib": jaxlib.__version__,
        "python": platform.python_version(),
        "platform": devices[0].platform,
        "device": devices[0].device_kind,
        "device_count": len(devices),
        "cpu_count": os.cpu_count(),
        "x64": bool(jax.config.jax_enable_x64),
        "machine": platform.machine(),
    }
