"""Token-to-expert routing by sparsity-constrained optimal transport: the application
Liu, Puigcerver & Blondel ("Sparsity-constrained optimal transport", ICLR 2023) built the
method for (sparse mixtures of experts, after V-MoE).

The router scores every token against every expert (`logits = tokens @ W`). Plain top-k
routing sends each token to its k best experts, so a few popular experts overflow and their
extra tokens are dropped. Here the assignment is the plan of the sparsity-constrained OT
between the experts (each receiving an equal share of the tokens) and the tokens (each
sending one unit), cost `-logits`: each token goes to at most `k` experts (at most `k`
non-zeros per column), and the loads are balanced as far as the sparsity allows. Every
expert then takes at most `capacity = ceil(capacity_factor * k * T / E)` tokens, the
strongest first; the rest are dropped (and reported). The gates are the router's softmax
over the chosen experts, so gradients reach the router through them, as in V-MoE.
"""

from __future__ import annotations

import math

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Bool, Float, Int, PRNGKeyArray

from sciopt.validate import array, positive_int, prng_key, real

from ._geometry import Geometry
from ._sinkhorn import LinearProblem
from ._sparse_ot import SparsityConstrained


class Routing(eqx.Module):
    """What `SparseRouter` returns for `T` tokens.

    **Fields:** `experts` `[T, k]` (expert index per slot), `gates` `[T, k]` (the weight of
    each slot; 0 for a slot the plan left empty or a token dropped for capacity), `kept`
    `[T, k]` (whether the slot survived the capacity limit), `loads` `[E]` (tokens each
    expert takes after the limit), `capacity`, `dropped` (slots with plan mass that the
    limit removed).
    """

    experts: Int[Array, "T k"]
    gates: Float[Array, "T k"]
    kept: Bool[Array, "T k"]
    loads: Int[Array, " E"]
    capacity: int = eqx.field(static=True)
    dropped: Int[Array, ""]


class SparseRouter(eqx.Module):
    """A top-k token-to-expert router that balances expert loads by sparsity-constrained
    OT (Liu, Puigcerver & Blondel, ICLR 2023), usable inside an equinox model.

    **Arguments:**

    - `dim`: token width; `experts`: number of experts `E`; `k`: experts per token.
    - `gamma`: the OT's quadratic regularisation (> 0; smaller follows the logits more
      closely, default 0.1 in logit units).
    - `capacity_factor`: each expert takes at most `ceil(capacity_factor * k * T / E)`
      tokens (>= 1; default 1.25).
    - `ot_iterations`: L-BFGS iterations of the routing solve (default 200).
    - `key`: initialises the router weights `W` `[dim, E]`.

    `__call__(tokens [T, dim]) -> Routing`; `balance(tokens)` the OT plan itself.
    """

    weight: Float[Array, "dim E"]
    k: int = eqx.field(static=True)
    gamma: Float[Array, ""]
    capacity_factor: float = eqx.field(static=True)
    ot_iterations: int = eqx.field(static=True)

    def __init__(self, dim: int, experts: int, k: int = 2, *, gamma: float = 0.1,
                 capacity_factor: float = 1.25, ot_iterations: int = 200,
                 key: PRNGKeyArray):
        dim, experts = positive_int("dim", dim), positive_int("experts", experts)
        self.k = positive_int("k", k)
        if self.k > experts:
            raise ValueError(f"k must be at most the number of experts ({experts}); got "
                             f"{self.k}")
        self.gamma = real("gamma", gamma)
        self.capacity_factor = float(real("capacity_factor", capacity_factor, low=1.0,
                                          low_inclusive=True))
        self.ot_iterations = positive_int("ot_iterations", ot_iterations)
        self.weight = jax.random.normal(prng_key("key", key), (dim, experts)) / math.sqrt(dim)

    def logits(self, tokens: Float[Array, "T dim"]) -> Float[Array, "T E"]:
        """The router scores `tokens @ W`."""
        tokens = array("tokens", tokens, shape=("T", self.weight.shape[0]), min_size=1)
        return tokens @ self.weight.astype(tokens.dtype)

    def balance(self, logits: Float[Array, "T E"]):
        """The sparsity-constrained OT plan between experts (rows, equal shares) and tokens
        (columns, one unit each) for the cost `-logits` (a `SparseOTOutput`)."""
        logits = array("logits", logits, shape=("T", self.weight.shape[1]), min_size=1)
        tokens, experts = logits.shape
        cost = jax.lax.stop_gradient(-logits.T)
        # shift by the mean so gamma is in logit units whatever the logits' offset
        cost = cost - jnp.mean(cost)
        problem = LinearProblem(Geometry(cost), jnp.full(experts, 1 / experts, cost.dtype),
                                jnp.full(tokens, 1 / tokens, cost.dtype))
        solver = SparsityConstrained(self.k, self.gamma, max_iterations=self.ot_iterations)
        return solver.solve(problem)

    def __call__(self, tokens: Float[Array, "T dim"]) -> Routing:
        logits = self.logits(tokens)
        t, e = logits.shape
        plan = self.balance(logits)
        experts = plan.index  # [T, k]: each column of the plan is a token
        used = plan.values > 0
        capacity = math.ceil(self.capacity_factor * self.k * t / e)
        # the capacity limit: per expert, the strongest slots first
        strength = jnp.where(used, plan.values, -jnp.inf).reshape(-1)
        flat = experts.reshape(-1)
        order = jnp.lexsort((-strength, flat))  # by expert, strongest first
        sorted_experts = flat[order]
        starts = jnp.searchsorted(sorted_experts, jnp.arange(e))
        rank = jnp.arange(flat.shape[0]) - starts[sorted_experts]
        within = jnp.zeros(flat.shape[0], bool).at[order].set(rank < capacity)
        kept = used & within.reshape(used.shape)
        probs = jax.nn.softmax(logits, axis=-1)
        gates = jnp.where(kept, jnp.take_along_axis(probs, experts, axis=1), 0.0)
        loads = jnp.zeros(e, int).at[flat].add(kept.reshape(-1).astype(int))
        return Routing(experts, gates, kept, loads, capacity,
                       jnp.sum(used & ~kept).astype(int))


class SparseMoE(eqx.Module):
    """A mixture-of-experts layer: a `SparseRouter` and `experts` MLPs (`dim -> hidden ->
    dim`, GELU); each token's output is the gate-weighted sum of its experts' outputs
    (tokens dropped by the capacity limit pass through as zeros, to be added to a residual).

    **Arguments:** `dim`, `hidden`, `experts`, `k`, `key`, and the router's keywords.
    """

    router: SparseRouter
    experts: eqx.nn.MLP

    def __init__(self, dim: int, hidden: int, experts: int, k: int = 2, *,
                 key: PRNGKeyArray, **router_options):
        router_key, expert_key = jax.random.split(prng_key("key", key))
        self.router = SparseRouter(dim, experts, k, key=router_key, **router_options)
        hidden = positive_int("hidden", hidden)
        keys = jax.random.split(expert_key, experts)
        self.experts = eqx.filter_vmap(
            lambda kk: eqx.nn.MLP(dim, dim, hidden, 1, activation=jax.nn.gelu, key=kk))(keys)

    def __call__(self, tokens: Float[Array, "T dim"]) -> tuple[Float[Array, "T dim"], Routing]:
        routing = self.router(tokens)
        tokens = jnp.asarray(tokens)

        def one_expert(mlp, index):
            return jax.vmap(mlp)(tokens) * jnp.sum(
                jnp.where(routing.experts == index, routing.gates, 0.0), axis=1)[:, None]

        outputs = eqx.filter_vmap(one_expert)(self.experts, jnp.arange(
            self.router.weight.shape[1]))
        return jnp.sum(outputs, axis=0), routing
