"""Light Schrödinger bridge: a Gaussian-mixture adjusted Schrödinger potential, trained by a
single convex-in-the-potential objective, with exact conditional sampling and Brownian-bridge
trajectories.

The Schrödinger bridge with the Wiener prior of volatility `epsilon` between `p0` and `p1` has
the static plan `pi(y | x) ∝ exp(<x, y> / eps) v(y)` for an adjusted potential `v`. Light SB
takes `v(y) = sum_k alpha_k N(y | r_k, eps S_k)`, which makes everything closed form:

    c(x) = sum_k alpha_k exp((x^T S_k x + 2 r_k^T x) / (2 eps)),
    pi(y | x) = sum_k alpha_k(x) N(y | r_k + S_k x, eps S_k),
    alpha_k(x) ∝ alpha_k exp((x^T S_k x + 2 r_k^T x) / (2 eps)),

and the objective `L = E_{x ~ p0} log c(x) - E_{y ~ p1} log v(y)` (its minimiser is the
bridge's). Trajectories given their end points are Brownian bridges,
`X_t = (1 - t) x + t y + sqrt(eps t (1 - t)) Z`, sampled exactly.

Reference: Korotin, Gushchin & Burnaev, "Light Schrödinger Bridge" (ICLR 2024).
"""

from __future__ import annotations

import math
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import optax
from jaxtyping import Array, Float, PRNGKeyArray

from sciopt.train import FitResult, SampledBatches, fit
from sciopt.validate import (
    array,
    positive_float,
    positive_int,
    prng_key,
    protocol,
    real,
    require,
    sampler,
)


class LightSB(eqx.Module):
    """The Light SB model: `components` Gaussians with full covariances `S_k = L_k L_k^T`.

    **Arguments:**

    - `dim`: the dimension d.
    - `components`: K, the number of Gaussians in the potential.
    - `epsilon`: the Wiener prior's volatility (the entropic regularisation).
    - `key`: PRNG key (the means start as small random vectors; `init_means` overrides
      them, e.g. with K target samples, as the paper does).
    - `init_means`: optional `[K, d]` starting means.

    `epsilon` is an array leaf (a new value does not recompile; `vmap` / `grad` over it
    work); `train_light_sb` keeps it fixed.

    Reference: Korotin, Gushchin & Burnaev, ICLR 2024.
    """

    log_alpha: Float[Array, " K"]
    means: Float[Array, "K d"]
    chol: Float[Array, "K d d"]
    epsilon: Float[Array, ""]

    def __init__(self, dim: int, components: int, epsilon: float, *, key: PRNGKeyArray,
                 init_means: Float[Array, "K d"] | None = None):
        prng_key("key", key)
        d, k = positive_int("dim", dim), positive_int("components", components)
        self.epsilon = real("epsilon", epsilon)
        dtype = jnp.result_type(float)
        self.log_alpha = jnp.zeros(k, dtype)
        if init_means is None:
            self.means = 0.1 * jax.random.normal(key, (k, d), dtype)
        else:
            self.means = array("init_means", init_means, shape=(k, d)).astype(dtype)
        self.chol = jnp.broadcast_to(jnp.eye(d, dtype=dtype), (k, d, d))

    @property
    def dim(self) -> int:
        return self.means.shape[1]

    def covariances(self) -> Float[Array, "K d d"]:
        """`S_k = L_k L_k^T` (lower-triangular `L_k`)."""
        low = jnp.tril(self.chol)
        return low @ jnp.swapaxes(low, -1, -2)

    def _check(self, z, name):
        return array(name, z, shape=("n", self.dim), min_size=1)

    def log_potential(self, y: Float[Array, "n d"]) -> Float[Array, " n"]:
        """`log v(y) = log sum_k alpha_k N(y | r_k, eps S_k)` (up to the normalisation of
        alpha, which cancels in the objective)."""
        y = self._check(y, "y")
        low = jnp.tril(self.chol) * jnp.sqrt(self.epsilon)
        diff = y[None] - self.means[:, None]  # [K, n, d]
        sol = jax.scipy.linalg.solve_triangular(low, jnp.swapaxes(diff, -1, -2), lower=True)
        logdet = jnp.sum(jnp.log(jnp.abs(jnp.diagonal(low, axis1=-2, axis2=-1))), -1)
        log_norm = -0.5 * jnp.sum(sol**2, axis=1) - logdet[:, None] - 0.5 * self.dim * math.log(
            2 * math.pi)
        return jax.nn.logsumexp(self.log_alpha[:, None] + log_norm, axis=0)

    def _component_logits(self, x):
        s = self.covariances()
        quad = jnp.einsum("ni,kij,nj->kn", x, s, x)
        return self.log_alpha[:, None] + (quad + 2 * self.means @ x.T) / (2 * self.epsilon)

    def log_normalizer(self, x: Float[Array, "n d"]) -> Float[Array, " n"]:
        """`log c(x) = log sum_k alpha_k exp((x^T S_k x + 2 r_k^T x) / (2 eps))`."""
        return jax.nn.logsumexp(self._component_logits(self._check(x, "x")), axis=0)

    def loss(self, x: Float[Array, "n d"], y: Float[Array, "m d"]) -> Float[Array, ""]:
        """The Light SB objective on samples `x ~ p0`, `y ~ p1`."""
        return jnp.mean(self.log_normalizer(x)) - jnp.mean(self.log_potential(y))

    def conditional(self, x: Float[Array, "n d"]
                    ) -> tuple[Float[Array, "n K"], Float[Array, "n K d"], Float[Array, "K d d"]]:
        """The mixture `pi(. | x)`: weights `[n, K]`, means `r_k + S_k x` `[n, K, d]` and the
        shared covariances `eps S_k` `[K, d, d]`."""
        x = self._check(x, "x")
        weights = jax.nn.softmax(self._component_logits(x), axis=0).T
        means = self.means[None] + jnp.einsum("kij,nj->nki", self.covariances(), x)
        return weights, means, self.epsilon * self.covariances()

    def conditional_moments(self, x: Float[Array, "n d"]
                            ) -> tuple[Float[Array, "n d"], Float[Array, "n d d"]]:
        """Mean and covariance of `pi(. | x)` (exact mixture moments)."""
        w, m, cov = self.conditional(x)
        mean = jnp.einsum("nk,nki->ni", w, m)
        second = jnp.einsum("nk,kij->nij", w, cov) + jnp.einsum("nk,nki,nkj->nij", w, m, m)
        return mean, second - mean[:, :, None] * mean[:, None, :]

    def sample(self, key: PRNGKeyArray, x: Float[Array, "n d"]) -> Float[Array, "n d"]:
        """One `y ~ pi(. | x)` per row of `x`: a component, then its Gaussian."""
        prng_key("key", key)
        x = self._check(x, "x")
        w, m, cov = self.conditional(x)
        k_comp, k_noise = jax.random.split(key)
        comp = jax.random.categorical(k_comp, jnp.log(w + 1e-300), axis=1)
        low = jnp.tril(self.chol)[comp] * jnp.sqrt(self.epsilon)
        noise = jax.random.normal(k_noise, x.shape, x.dtype)
        return m[jnp.arange(x.shape[0]), comp] + jnp.einsum("nij,nj->ni", low, noise)

    def bridge(self, key: PRNGKeyArray, x: Float[Array, "n d"], y: Float[Array, "n d"],
               times: Float[Array, " T"]) -> Float[Array, "T n d"]:
        """Brownian-bridge paths from `x` to `y` at `times` in [0, 1], sampled exactly and
        jointly (increments of one Brownian path per row, pinned at both ends)."""
        prng_key("key", key)
        x, y = self._check(x, "x"), self._check(y, "y")
        if x.shape != y.shape:
            raise ValueError(f"x and y must hold the same number of endpoints (one path per "
                             f"pair); got {x.shape[0]} and {y.shape[0]}")
        times = array("times", times, ndim=1, min_size=2).astype(x.dtype)
        times = require(times, lambda: jnp.all((times >= 0) & (times <= 1))
                        & jnp.all(jnp.diff(times) >= 0),
                        "times must be non-decreasing times in [0, 1] (the bridge is "
                        "defined between its endpoints only)")
        dt = jnp.diff(times, prepend=0.0)
        inc = jax.random.normal(key, (times.shape[0], *x.shape), x.dtype) * jnp.sqrt(
            self.epsilon * jnp.maximum(dt, 0.0))[:, None, None]
        walk = jnp.cumsum(inc, axis=0)  # W_t (variance eps t)
        end = walk[-1] + jax.random.normal(jax.random.fold_in(key, 1), x.shape, x.dtype) * (
            jnp.sqrt(self.epsilon * jnp.maximum(1.0 - times[-1], 0.0)))  # W_1
        t = times[:, None, None]
        return (1 - t) * x[None] + t * y[None] + walk - t * end[None]

    def trajectories(self, key: PRNGKeyArray, x: Float[Array, "n d"],
                     times: Float[Array, " T"]) -> Float[Array, "T n d"]:
        """Paths of the learned bridge: `y ~ pi(. | x)`, then a Brownian bridge."""
        prng_key("key", key)
        k1, k2 = jax.random.split(key)
        return self.bridge(k2, x, self.sample(k1, x), times)


def train_light_sb(model: LightSB, sample_source: Any, sample_target: Any, *, steps: int,
                   key: PRNGKeyArray, batch_size: int = 512, learning_rate: float = 1e-2,
                   progress: Any = "auto", checkpoint_dir: Any = None) -> FitResult:
    """Fit `model` by Adam (cosine-decayed learning rate) on the Light SB objective through
    `sciopt.train.fit`.

    **Arguments:**

    - `sample_source`, `sample_target`: traceable `(key, n) -> [n, d]` samplers of p0, p1
      (for a finite data set, draw indices with `jax.random.choice`).
    - `steps`, `key`, `batch_size`, `learning_rate`, `progress`, `checkpoint_dir`: as usual.

    **Returns:**

    `sciopt.train.FitResult` (model, losses, ...).
    """
    prng_key("key", key)
    steps = positive_int("steps", steps)
    batch_size = positive_int("batch_size", batch_size)

    protocol("model", model, ("dim", "log_alpha", "means", "chol"), "a flows.LightSB")
    sampler("sample_source", sample_source, (batch_size, model.dim))
    sampler("sample_target", sample_target, (batch_size, model.dim))

    def sample(k):
        k0, k1 = jax.random.split(k)
        return sample_source(k0, batch_size), sample_target(k1, batch_size)

    def loss(m, batch, k):
        del k  # epsilon is the prior's, not a parameter: zero gradient, Adam leaves it
        m = eqx.tree_at(lambda t: t.epsilon, m, jax.lax.stop_gradient(m.epsilon))
        return m.loss(*batch)

    schedule = optax.cosine_decay_schedule(positive_float("learning_rate", learning_rate),
                                           steps, alpha=1e-2)
    return fit(loss, model, optax.adam(schedule),
               SampledBatches(sample), steps, key=key, progress=progress,
               checkpoint_dir=checkpoint_dir, description="LightSB",
               chunk_size=min(200, steps))


def gaussian_bridge_conditional(mean0, cov0, mean1, cov1, epsilon: float):
    """The closed-form Schrödinger bridge between `N(mean0, cov0)` and `N(mean1, cov1)` with
    the Wiener prior of volatility `epsilon`: `y | x ~ N(mean1 + K (x - mean0), Sigma)`.
    Returns `(K [d, d], Sigma [d, d])` (NumPy, float64).

    It is entropic OT with cost `|x - y|^2 / 2` and regularisation `epsilon`, i.e. Janati,
    Muzellec, Peyré & Cuturi (NeurIPS 2020) with `sigma^2 = epsilon`.
    """
    import numpy as np
    from scipy.linalg import sqrtm

    s2 = float(real("epsilon", epsilon))
    mean0 = np.asarray(array("mean0", mean0, ndim=1))
    d = mean0.shape[0]
    array("mean1", mean1, shape=(d,))
    a = np.asarray(array("cov0", cov0, shape=(d, d)), float)
    b = np.asarray(array("cov1", cov1, shape=(d, d)), float)
    for name, cov in (("cov0", a), ("cov1", b)):
        if not (np.allclose(cov, cov.T) and np.all(np.linalg.eigvalsh((cov + cov.T) / 2) > 0)):
            raise ValueError(f"{name} must be a symmetric positive definite covariance")
    root = np.real(sqrtm(a))
    dmat = np.real(sqrtm(4 * root @ b @ root + s2**2 * np.eye(d)))
    cross = (root @ dmat @ np.linalg.inv(root) - s2 * np.eye(d)) / 2
    gain = cross.T @ np.linalg.inv(a)
    return gain, b - gain @ cross


def bw2_uvp(model: LightSB, x, mean0, cov0, mean1, cov1) -> float:
    """cBW2-UVP (%) of the learned conditionals against the closed-form Gaussian bridge,
    averaged over the source points `x`:
    `100 / (0.5 tr cov1) * mean_x BW2^2(pi*(.|x), pi(.|x))`, with `BW2` the
    Bures-Wasserstein distance between Gaussians carrying the two conditionals' means and
    covariances.

    Reference: Gushchin et al., "Building the bridge of Schrödinger: a continuous entropic
    optimal transport benchmark" (NeurIPS 2023)."""
    import numpy as np

    protocol("model", model, ("epsilon", "conditional_moments", "dim"), "a flows.LightSB")
    x = array("x", x, shape=("n", model.dim), min_size=1)
    from scipy.linalg import sqrtm

    gain, cov = gaussian_bridge_conditional(mean0, cov0, mean1, cov1, model.epsilon)
    x = np.asarray(x, float)
    mean, cov_hat = (np.asarray(v, float) for v in model.conditional_moments(jnp.asarray(x)))
    true_mean = np.asarray(mean1) + (x - np.asarray(mean0)) @ gain.T
    root = np.real(sqrtm(cov))
    total = 0.0
    for m_hat, c_hat, m_true in zip(mean, cov_hat, true_mean, strict=True):
        cross = np.real(sqrtm(root @ c_hat @ root))
        total += np.sum((m_hat - m_true) ** 2) + np.trace(cov + c_hat - 2 * cross)
    return float(100 * (total / len(x)) / (0.5 * np.trace(np.asarray(cov1, float))))
