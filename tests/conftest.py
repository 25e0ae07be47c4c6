"""Tests run in float64: every tolerance below is written for double precision."""

import jax

jax.config.update("jax_enable_x64", True)
