"""Points in the unit cube: uniform, Latin hypercube and scrambled Sobol.

All three are traceable: uniform and Latin hypercube are written in JAX; Sobol calls
`scipy.stats.qmc.Sobol` through `jax.pure_callback` with a seed drawn from the key.
"""

from __future__ import annotations

from typing import Literal

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, PRNGKeyArray
from scipy.stats import qmc

from ..validate import one_of, positive_int, prng_key

Method = Literal["uniform", "lhs", "sobol"]
METHODS = ("uniform", "lhs", "sobol")


def latin_hypercube(key: PRNGKeyArray, n: int, d: int, dtype=None) -> Float[Array, "n d"]:
    """`n` points in `[0, 1)^d`, one per stratum `[i/n, (i+1)/n)` along every axis
    (McKay, Beckman & Conover, 1979)."""
    prng_key("key", key)
    n, d = positive_int("n", n), positive_int("d", d)
    dtype = dtype or jnp.result_type(float)
    perm_key, jitter_key = jax.random.split(key)
    strata = jax.vmap(lambda k: jax.random.permutation(k, n))(jax.random.split(perm_key, d)).T
    jitter = jax.random.uniform(jitter_key, (n, d), dtype)
    return (strata.astype(dtype) + jitter) / n


def sobol(key: PRNGKeyArray, n: int, d: int, dtype=None) -> Float[Array, "n d"]:
    """`n` scrambled Sobol points in `[0, 1)^d` (Owen scrambling seeded from `key`).

    `n` need not be a power of two, but balance properties hold best when it is.
    """
    prng_key("key", key)
    n, d = positive_int("n", n), positive_int("d", d)
    dtype = dtype or jnp.result_type(float)
    seed = jax.random.randint(key, (), 0, jnp.iinfo(jnp.int32).max)

    def host(seed):
        engine = qmc.Sobol(d, scramble=True, seed=int(seed))
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # n not a power of 2: fine here
            return engine.random(n).astype(np.dtype(dtype))

    return jax.pure_callback(host, jax.ShapeDtypeStruct((n, d), dtype), seed)


def unit_cube(key: PRNGKeyArray, n: int, d: int, method: Method = "uniform", dtype=None
              ) -> Float[Array, "n d"]:
    """`n` points in `[0, 1)^d` drawn by `method` (`"uniform"`, `"lhs"` or `"sobol"`)."""
    prng_key("key", key)
    one_of("method", method, METHODS)
    n, d = positive_int("n", n), positive_int("d", d)
    if method == "uniform":
        return jax.random.uniform(key, (n, d), dtype or jnp.result_type(float))
    if method == "lhs":
        return latin_hypercube(key, n, d, dtype)
    return sobol(key, n, d, dtype)
