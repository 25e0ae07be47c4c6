"""DyMixOp: a neural operator built from local-global-mixing (LGM) layers arranged as a
discretised latent dynamical system.

The latent dynamics `dv/dt = L v + N(v)` are reduced to the low modes of an inertial
manifold, `dv/dt ~ L v + P N(v) + P R[N(v)]`: a linear part, the projected nonlinearity and a
closure `R` for the discarded high modes. DyMixOp approximates

- the linear part `L` by local operators (a convolution and a learned finite-difference
  stencil),
- the nonlinearity `N` by the LGM transformation `G(c) * K(c)`: a global spectral
  convolution times a local convolution, elementwise (as convection `u . grad u` multiplies
  a field by a local derivative),
- the closure by a residual operator `A` applied to the nonlinear term,

and stacks such layers in a "dynamics-informed" hybrid architecture: each layer's update
`F_i = gelu(L c + A[N(c)])` advances the latent state, `c <- c + sigmoid(lambda) F_i` (a
learned time-scale gate), and the output is the input plus a learned combination of all
`F_i` (parallel aggregation of the intermediate dynamics).

Reference: Lai, Chen & Xu, "DyMixOp: Guiding Neural Operator Design for PDEs from a Complex
Dynamics Perspective with Local-Global-Mixing", arXiv:2508.13490 (2025).
"""

from __future__ import annotations

import itertools
import math

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray

from sciopt.validate import one_of, positive_int, positive_ints, prng_key, real

from ._fno import SpectralConv
from ._protocol import AbstractGridOperator


class PeriodicConv(eqx.Module):
    """A periodic ("circular") convolution with a centred odd `size` kernel, computed as a
    sum of channel-mixing matrix products over shifted views of the wrap-padded input (on
    CPU several times faster than `lax.conv` in float64; a 1-point kernel is one matrix
    product per point). PyTorch's default initialisation (uniform in `+-1/sqrt(fan_in)`).
    """

    weight: Float[Array, "o i ..."]
    bias: Float[Array, " o"] | None

    def __init__(self, dim: int, c_in: int, c_out: int, size: int, *, key: PRNGKeyArray,
                 bias: bool = True):
        prng_key("key", key)
        dtype = jnp.result_type(float)
        bound = 1.0 / math.sqrt(c_in * size**dim)
        k_w, k_b = jax.random.split(key)
        self.weight = jax.random.uniform(k_w, (c_out, c_in) + (size,) * dim, dtype,
                                         -bound, bound)
        self.bias = jax.random.uniform(k_b, (c_out,), dtype, -bound, bound) if bias else None

    def apply(self, weight: Array, c: Float[Array, "i ..."]) -> Float[Array, "o ..."]:
        """The convolution with another kernel of this shape (no bias)."""
        size, shape = weight.shape[-1], c.shape[1:]
        half = size // 2
        padded = jnp.pad(c, [(0, 0)] + [(half, half)] * len(shape), mode="wrap")
        out = 0.0
        for offset in itertools.product(range(size), repeat=len(shape)):
            view = padded[(slice(None),) + tuple(slice(o, o + n)
                                                 for o, n in zip(offset, shape, strict=True))]
            out = out + jnp.tensordot(weight[(slice(None), slice(None)) + offset], view, 1)
        return out

    def __call__(self, c: Float[Array, "i ..."]) -> Float[Array, "o ..."]:
        out = self.apply(self.weight, c)
        if self.bias is not None:
            out = out + self.bias.reshape((-1,) + (1,) * (c.ndim - 1))
        return out


def _spacing(shape: tuple[int, ...]) -> float:
    """The grid spacing on the unit period: `1 / n` (geometric mean over the axes)."""
    return math.prod(1.0 / n for n in shape) ** (1.0 / len(shape))


def _periodic_coordinates(u: Float[Array, "c ..."]) -> Float[Array, "2d ..."]:
    """`cos(2 pi x_j)`, `sin(2 pi x_j)` per axis on the unit period: the position as a
    smooth periodic field. (A raw coordinate in `[0, 1)` jumps at the periodic seam, where
    a finite-difference stencil over `h` would turn it into an `O(1/h)` spike.)"""
    shape = u.shape[1:]
    grids = jnp.meshgrid(*[2 * jnp.pi * jnp.arange(n, dtype=u.dtype) / n for n in shape],
                         indexing="ij")
    return jnp.stack([f(g) for g in grids for f in (jnp.cos, jnp.sin)])


def _shift(c: Float[Array, "i ..."], shifts: tuple[int, ...], taps: tuple[int, ...]
           ) -> Float[Array, "i ..."]:
    """`c` at `x + s_j h_j` per axis, `h_j` the spacing of a `taps[j]`-point grid of the
    unit period: a roll when `h_j` is a whole number of `c`'s cells, else a Fourier shift
    (exact for band-limited fields)."""
    out = c
    for axis, (s, n, t) in enumerate(zip(shifts, c.shape[1:], taps, strict=True)):
        if s == 0:
            continue
        if n % t == 0:
            out = jnp.roll(out, -s * (n // t), axis=axis + 1)
        else:
            k = jnp.fft.rfftfreq(n, 1.0 / n)
            spec = jnp.fft.rfft(out, axis=axis + 1)
            phase = jnp.exp(2j * jnp.pi * k * s / t).reshape((-1,) + (1,) * (c.ndim - 2 - axis))
            out = jnp.fft.irfft(spec * phase, n=n, axis=axis + 1)
    return out


class DifferenceStencil(eqx.Module):
    """A learned finite-difference operator: a 3-point (3 x 3 in 2D) periodic stencil per
    channel pair whose weights sum to zero (its centre weight is shifted by the sum, so
    constants map to zero), divided by its tap spacing `h`.

    **Resolution independence.** With `taps` (the training grid's points per axis) the taps
    are `h = 1 / taps` of the period apart on every grid: on a grid `r` times finer the
    stencil reads every `r`-th neighbour (other ratios: Fourier shifts), so it is the same
    operator at every resolution. Dividing by each grid's own spacing instead (the
    finite-difference reading) is resolution independent only for the stencil's
    first-derivative part: a trained stencil also carries `h u''`-like terms that shrink
    on a finer grid. On Burgers (FNO set) a DyMixOp trained at 128 points scored test rel.
    L2 3.9e-3 at 128 and 0.42 zero-shot at 1024 that way, 3.9e-3 at both with fixed taps.
    `taps=None` (saved models from before) keeps neighbour taps and `h = 1 / n`. (The
    authors' released code divides by a grid width fixed at 1: a pure grid stencil.)

    **Scale of the weights.** The stencil is divided by `h ** power`, not by `h`: with
    fixed taps `h` is a constant of the model, so the power changes only the units of the
    weights, but Adam moves every weight by about the learning rate per step, so a
    stencil over `h` moves its output `1 / h` times as fast as a weight of the other
    (pointwise) operators: 128x on a 128-point grid. With `power = 1 / 2` (the default of
    `DyMixOp` with a training grid) a derivative-like stencil needs weights of size
    `sqrt(h)` and the output moves `1 / sqrt(h)` times as fast. Measured with the CPU
    configuration (hidden 24, lr 3e-3): Burgers 128 points, 3000 steps, test rel. L2
    2.77e-3 at power 1, 1.94e-3 at 1/2, 2.12e-3 at 1/4, 2.73e-3 at 0 (lr 1e-3); Darcy
    85 x 85, 500 steps, 5.43e-2 at power 1, 3.25e-2 at 1/2. (`power = 1` is the
    finite-difference reading; saved models from before the option keep it.)

    The stencil starts at zero. At PyTorch's default scale its `1 / h` factor would
    multiply the latent field by about 10 to 30 per layer on rough inputs such as Darcy's
    piecewise-constant coefficient: at initialisation the output's largest value was 46 on
    a 29 x 29 grid and 4e3 on 85 x 85 (4 layers, 24 channels), against 0.4 on both with
    the zero start, and training at 85 x 85 did not recover from it.
    """

    conv: PeriodicConv
    taps: tuple[int, ...] | None = eqx.field(static=True, default=None)
    power: float = eqx.field(static=True, default=1.0)

    def __init__(self, dim: int, c_in: int, c_out: int, *, key: PRNGKeyArray,
                 taps: tuple[int, ...] | None = None, power: float = 1.0):
        prng_key("key", key)
        dim, c_in, c_out = (positive_int(n, v) for n, v in (("dim", dim), ("c_in", c_in),
                                                            ("c_out", c_out)))
        conv = PeriodicConv(dim, c_in, c_out, 3, key=key, bias=False)
        self.conv = eqx.tree_at(lambda m: m.weight, conv, jnp.zeros_like(conv.weight))
        self.taps = None if taps is None else positive_ints("taps", taps, lengths=[dim])
        self.power = float(real("power", power, low=None))

    def __call__(self, c: Float[Array, "i ..."]) -> Float[Array, "o ..."]:
        w = self.conv.weight
        axes = tuple(range(2, w.ndim))
        centre = (slice(None), slice(None)) + (1,) * len(axes)
        stencil = w.at[centre].add(-jnp.sum(w, axis=axes))
        taps = self.taps or c.shape[1:]
        scale = _spacing(taps) ** self.power
        if taps == c.shape[1:]:  # neighbour taps: the periodic convolution
            return self.conv.apply(stencil, c) / scale
        out = 0.0
        for offset in itertools.product(range(3), repeat=len(taps)):
            view = _shift(c, tuple(o - 1 for o in offset), taps)
            out = out + jnp.tensordot(stencil[(slice(None), slice(None)) + offset], view, 1)
        return out / scale


class LGMLayer(eqx.Module):
    """One layer of latent dynamics: `L c + A[sum_j G_j(c) * K_j(c)]`.

    `L` is the sum of `linear` pairs (a `kernel_size` convolution plus a
    `DifferenceStencil`); `G_j` are spectral convolutions (`modes` per axis) and `K_j`
    `kernel_size` convolutions, `nonlinear` of each, mixed by elementwise products; `A`
    (the closure of the unresolved modes) is two `a_kernel_size` convolutions
    `c -> 2c -> c`.
    """

    linear: list[tuple[PeriodicConv, DifferenceStencil]]
    nonlinear: list[tuple[SpectralConv, PeriodicConv]]
    closure: tuple[PeriodicConv, PeriodicConv]

    def __init__(self, dim: int, channels: int, *, modes: tuple[int, ...], kernel_size: int,
                 a_kernel_size: int, linear: int, nonlinear: int, key: PRNGKeyArray,
                 taps: tuple[int, ...] | None = None, stencil_power: float = 1.0):
        prng_key("key", key)
        dim, channels, kernel_size, a_kernel_size, nonlinear = (
            positive_int(n, v) for n, v in (("dim", dim), ("channels", channels),
                                            ("kernel_size", kernel_size),
                                            ("a_kernel_size", a_kernel_size),
                                            ("nonlinear", nonlinear)))
        linear = positive_int("linear", linear, allow_zero=True)
        keys = iter(jax.random.split(key, 2 * linear + 2 * nonlinear + 2))
        c = channels
        self.linear = [(PeriodicConv(dim, c, c, kernel_size, key=next(keys)),
                        DifferenceStencil(dim, c, c, key=next(keys), taps=taps,
                                          power=stencil_power))
                       for _ in range(linear)]
        self.nonlinear = [(SpectralConv(c, c, modes, key=next(keys)),
                           PeriodicConv(dim, c, c, kernel_size, key=next(keys)))
                          for _ in range(nonlinear)]
        self.closure = (PeriodicConv(dim, c, 2 * c, a_kernel_size, key=next(keys)),
                        PeriodicConv(dim, 2 * c, c, a_kernel_size, key=next(keys)))

    def __call__(self, c: Float[Array, "c ..."]) -> Float[Array, "c ..."]:
        mixed = sum(g(c) * k(c) for g, k in self.nonlinear)
        out = self.closure[1](self.closure[0](mixed))
        for conv, stencil in self.linear:
            out = out + conv(c) + stencil(c)
        return out


class DyMixOp(AbstractGridOperator):
    """DyMixOp on a periodic (or zero-padded) grid in 1D or 2D.

    `u [in_channels, *grid] -> [out_channels, *grid]`: the input and the grid position
    (`cos`, `sin` of `2 pi x` per axis, smooth across the periodic seam; unless
    `coordinates=False`) are lifted to
    `2 * hidden` channels and reduced to the `hidden`-channel latent state `c`; `layers`
    `LGMLayer`s evolve it,

        F_i = gelu(LGM_i(c)),  c <- c + sigmoid(lambda) F_i  (all but the last layer),
        c_out = c_0 + sum_i w_i F_i + b,

    and `c_out` is mapped back through `2 * hidden` channels to the output.

    **Arguments:**

    - `in_channels`, `out_channels`: fields in and out.
    - `modes`: Fourier modes of the global branch per axis (an int in 1D, a pair in 2D).
    - `hidden`: latent channels (the authors use 64-96 on GPU).
    - `layers`: LGM layers (the authors: 4).
    - `kernel_size`: of the lifting and local convolutions (the authors: 1, i.e. pointwise,
      which keeps the model resolution independent; larger odd sizes see a fixed number of
      grid cells, not a fixed length).
    - `a_kernel_size`: of the closure operator `A` (the authors: 1).
    - `linear`, `nonlinear`: pairs of linear local operators and of LGM products per layer
      (the authors: 1 and 1).
    - `grid`: the training grid's points per axis (`model_spec` sets it from the data):
      the difference stencils' taps stay that grid's spacing apart on every grid, which
      makes the model resolution independent (see `DifferenceStencil`). None: neighbour
      taps on each grid.
    - `stencil_power`: the stencils are divided by `h ** stencil_power` (see
      `DifferenceStencil`; 1 is the finite-difference scaling, whose weights Adam moves
      `1 / h` times too fast). Default: 1/2 with `grid`, else 1 (neighbour taps on each
      grid are a consistent discretisation only over `h`).
    - `coordinates`: append the grid position (`cos`, `sin` of `2 pi x` per axis) to the
      input, as the authors do. Without it the model commutes with periodic shifts of the
      grid, which suits translation-invariant problems (periodic Burgers, Navier-Stokes):
      on our Burgers set (128 points, CPU schedule) test rel. L2 1.27e-3 with the
      position, 1.03e-3 without.
    - `mixing_start`: `"random"` (PyTorch's default initialisation of the local branch
      `K`, as the authors) or `"spectral"`: `K` starts as the constant 1 (weights 0, bias
      1), so each product `G(c) * K(c)` starts as a plain spectral convolution (an FNO
      layer) and the mixing is learned from there (Burgers as above, without the position:
      1.03e-3 -> 9.10e-4).
    - `key`: PRNG key.

    The gate `lambda` starts at 0 (gate 1/2) so it can learn: the authors' code starts it
    at the channel count, where the sigmoid is saturated and its gradient vanishes.

    Reference: Lai, Chen & Xu, arXiv:2508.13490 (2025).
    """

    lift: tuple[PeriodicConv, PeriodicConv]
    layers: list[LGMLayer]
    gate: Float[Array, ""]
    aggregate: Float[Array, " L"]
    aggregate_bias: Float[Array, ""]
    project: tuple[PeriodicConv, PeriodicConv]
    in_channels: int = eqx.field(static=True)
    out_channels: int = eqx.field(static=True)
    modes: tuple[int, ...] = eqx.field(static=True)
    coordinates: bool = eqx.field(static=True, default=True)

    def __init__(self, in_channels: int, out_channels: int, *, modes: int | tuple[int, ...],
                 hidden: int = 32, layers: int = 4, kernel_size: int = 1,
                 a_kernel_size: int = 1, linear: int = 1, nonlinear: int = 1,
                 grid: int | tuple[int, ...] | None = None,
                 stencil_power: float | None = None, coordinates: bool = True,
                 mixing_start: str = "random", key: PRNGKeyArray):
        prng_key("key", key)
        modes = (modes,) if isinstance(modes, int) else tuple(modes)
        if len(modes) not in (1, 2):
            raise ValueError(f"DyMixOp supports 1D and 2D grids; got modes={modes}")
        for name, size in (("kernel_size", kernel_size), ("a_kernel_size", a_kernel_size)):
            if positive_int(name, size) % 2 == 0:
                raise ValueError(f"{name} must be odd (a centred stencil); got {size}")
        self.modes = modes
        self.in_channels = positive_int("in_channels", in_channels)
        self.out_channels = positive_int("out_channels", out_channels)
        hidden, layers = positive_int("hidden", hidden), positive_int("layers", layers)
        positive_int("linear", linear, allow_zero=True)
        positive_int("nonlinear", nonlinear, allow_zero=True)
        d = len(modes)
        taps = None
        if grid is not None:
            taps = (grid,) * d if isinstance(grid, int) else tuple(grid)
            if len(taps) != d:
                raise ValueError(f"grid has {len(taps)} axes; modes has {d}")
            taps = tuple(positive_int("grid", t) for t in taps)
        if stencil_power is None:
            stencil_power = 1.0 if taps is None else 0.5
        one_of("mixing_start", mixing_start, ("random", "spectral"))
        if not isinstance(coordinates, bool):
            raise ValueError(f"coordinates must be True or False; got {coordinates!r}")
        self.coordinates = coordinates
        k = jax.random.split(key, layers + 6)
        lifted = in_channels + (2 * d if self.coordinates else 0)
        self.lift = (PeriodicConv(d, lifted, 2 * hidden, kernel_size,
                                  key=k[0]),
                     PeriodicConv(d, 2 * hidden, hidden, kernel_size, key=k[1]))
        self.layers = [LGMLayer(d, hidden, modes=modes, kernel_size=kernel_size,
                                a_kernel_size=a_kernel_size, linear=linear,
                                nonlinear=nonlinear, key=kk, taps=taps,
                                stencil_power=stencil_power) for kk in k[6:]]
        if mixing_start == "spectral":  # K = 1: each product starts as G(c)
            self.layers = [eqx.tree_at(
                lambda layer: ([k.weight for _, k in layer.nonlinear]
                               + [k.bias for _, k in layer.nonlinear]),
                layer, [jnp.zeros_like(k.weight) for _, k in layer.nonlinear]
                + [jnp.ones_like(k.bias) for _, k in layer.nonlinear]) for layer in self.layers]
        self.project = (PeriodicConv(d, hidden, 2 * hidden, kernel_size, key=k[2]),
                        PeriodicConv(d, 2 * hidden, out_channels, kernel_size, key=k[3]))
        dtype = jnp.result_type(float)
        self.gate = jnp.zeros((), dtype)
        bound = 1.0 / math.sqrt(layers)  # PyTorch's default for a 1 x 1 convolution
        self.aggregate = jax.random.uniform(k[4], (layers,), dtype, -bound, bound)
        self.aggregate_bias = jax.random.uniform(k[5], (), dtype, -bound, bound)

    @property
    def dim(self) -> int:
        return len(self.modes)

    def __call__(self, u: Float[Array, "c ..."]) -> Float[Array, "o ..."]:
        if u.ndim != self.dim + 1 or u.shape[0] != self.in_channels:
            raise ValueError(f"DyMixOp expects [{self.in_channels}, *{self.dim} grid axes]; "
                             f"got shape {u.shape}")
        if self.coordinates:
            u = jnp.concatenate([u, _periodic_coordinates(u)], 0)
        c = self.lift[1](self.lift[0](u))
        c0, gate = c, jax.nn.sigmoid(self.gate)
        updates = []
        for i, layer in enumerate(self.layers):
            f = jax.nn.gelu(layer(c))
            if i < len(self.layers) - 1:
                c = c + gate * f
            updates.append(f)
        c = c0 + jnp.tensordot(self.aggregate, jnp.stack(updates), 1) + self.aggregate_bias
        return self.project[1](self.project[0](c))
