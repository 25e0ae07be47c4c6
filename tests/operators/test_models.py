"""Operator models: shapes, gradients, the exact properties of the spectral layer
(resolution independence on band-limited inputs, translation equivariance), tiny-data
overfitting, and clear errors on bad input."""

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import operators


def _band_limited(n, dim, key, modes=3):
    """A random real field with Fourier modes |k| <= modes on an n^dim periodic grid."""
    x = jnp.arange(n) / n
    grids = jnp.meshgrid(*[x] * dim, indexing="ij")
    out = jnp.zeros((n,) * dim)
    keys = jax.random.split(key, modes * 4)
    for i, k in enumerate(range(1, modes + 1)):
        a, b, c, d = jax.random.normal(keys[i], (4,))
        phase = 2 * jnp.pi * k * grids[0] + (2 * jnp.pi * (modes + 1 - k) * grids[-1]
                                             if dim == 2 else 0.0)
        out = out + a * jnp.cos(phase) + b * jnp.sin(phase) + c * jnp.cos(2 * jnp.pi * k
                                                                          * grids[-1]) * d
    return out[None]


@pytest.mark.parametrize("dim", [1, 2])
def test_spectral_conv_is_resolution_independent_and_translation_equivariant(dim):
    layer = operators.SpectralConv(1, 2, (5,) * dim, key=jax.random.key(0))
    fine = _band_limited(48, dim, jax.random.key(1))
    coarse = fine[(slice(None),) + (slice(None, None, 2),) * dim]
    out_fine, out_coarse = layer(fine), layer(coarse)
    assert out_fine.shape == (2,) + (48,) * dim
    np.testing.assert_allclose(out_fine[(slice(None),) + (slice(None, None, 2),) * dim],
                               out_coarse, atol=1e-12)
    shifted = layer(jnp.roll(fine, 3, axis=1))
    np.testing.assert_allclose(shifted, jnp.roll(out_fine, 3, axis=1), atol=1e-12)


@pytest.mark.parametrize("grid, modes", [((29,), (7,)), ((24, 30), (12, 7)),
                                         ((17, 17), (5, 8))])
def test_spectral_conv_dft_path_equals_fft_path(grid, modes):
    """The truncated-DFT products (small grids) and rfftn / irfftn are the same linear map:
    values and gradients (weights and input) agree to round-off on odd, prime and
    rectangular grids, with modes up to n // 2."""
    layer = operators.SpectralConv(3, 2, modes, key=jax.random.key(0))
    v = jax.random.normal(jax.random.key(1), (3, *grid))
    np.testing.assert_allclose(layer._dft(v), layer._fft(v), rtol=0, atol=1e-13)

    def grads(path):
        return jax.grad(lambda m, v: jnp.sum(jnp.sin(getattr(m, path)(v))), (0, 1))(layer, v)

    (gm_dft, gv_dft), (gm_fft, gv_fft) = grads("_dft"), grads("_fft")
    np.testing.assert_allclose(gm_dft.weights, gm_fft.weights, rtol=0, atol=1e-12)
    np.testing.assert_allclose(gv_dft, gv_fft, rtol=0, atol=1e-12)


def test_spectral_conv_learns_complex_weights_with_optax():
    """Regression: complex weights stored as one complex leaf got JAX's conjugated gradient,
    so Adam stepped their imaginary parts uphill. Fitting a teacher layer with imaginary
    parts must now drive the error to round-off level."""
    teacher = operators.SpectralConv(2, 2, (4,), key=jax.random.key(3))
    student = operators.SpectralConv(2, 2, (4,), key=jax.random.key(4))
    assert operators.count_parameters(student) == 2 * 2 * 2 * 4
    u = jax.random.normal(jax.random.key(5), (16, 2, 16))
    target = jax.vmap(teacher)(u)
    opt = optax.adam(1e-2)

    @jax.jit
    def step(w, state):
        loss, g = jax.value_and_grad(lambda w: jnp.mean(
            (jax.vmap(eqx.tree_at(lambda m: m.weights, student, w))(u) - target) ** 2))(w)
        update, state = opt.update(g, state)
        return optax.apply_updates(w, update), state, loss

    w, state = student.weights, opt.init(student.weights)
    first = None
    for _ in range(600):
        w, state, loss = step(w, state)
        first = loss if first is None else first
    assert float(loss) < 1e-8 * float(first), (float(first), float(loss))
    # Every weight is identifiable but the imaginary part at mode 0 (a real field's mean).
    np.testing.assert_allclose(w[..., 1:], teacher.weights[..., 1:], atol=1e-4)
    np.testing.assert_allclose(w[0, ..., 0], teacher.weights[0, ..., 0], atol=1e-4)


# Whole-model jit: eager calls dispatch (and compile) every primitive one by one.
_call = eqx.filter_jit(lambda m, u: m(u))
_grad_sq = eqx.filter_jit(eqx.filter_grad(lambda m, u: jnp.sum(m(u) ** 2)))


@pytest.mark.parametrize("dim", [1, 2])
def test_fno_shapes_gradients_and_bad_input(dim):
    model = operators.FNO(2, 3, modes=(4,) * dim, width=8, layers=2, projection=16,
                          key=jax.random.key(0))
    u = jax.random.normal(jax.random.key(1), (2,) + (16,) * dim)
    assert _call(model, u).shape == (3,) + (16,) * dim
    assert _call(model, jax.random.normal(jax.random.key(2), (2,) + (24,) * dim)).shape == (
        (3,) + (24,) * dim)
    grads = _grad_sq(model, u)
    leaves = jax.tree.leaves(eqx.filter(grads, eqx.is_inexact_array))
    assert all(bool(jnp.all(jnp.isfinite(g))) for g in leaves)
    assert sum(float(jnp.sum(jnp.abs(g))) for g in leaves) > 0
    assert operators.count_parameters(model) > 0
    with pytest.raises(ValueError, match="FNO expects"):
        _call(model, u[:1])
    with pytest.raises(ValueError, match="too coarse"):
        _call(model, jnp.ones((2,) + (6,) * dim))
    with pytest.raises(ValueError, match="1D and 2D"):
        operators.FNO(1, 1, modes=(2, 2, 2), key=jax.random.key(0))


def test_deeponet_cartesian_outputs_and_bad_input():
    model = operators.DeepONet(20, 2, basis=8, outputs=3, width=16, depth=2,
                               key=jax.random.key(0))
    u = jax.random.normal(jax.random.key(1), (20,))
    ys = jax.random.uniform(jax.random.key(2), (7, 2))
    out = model.cartesian(u, ys)
    assert out.shape == (7, 3)
    np.testing.assert_allclose(out, jax.vmap(lambda y: model(u, y))(ys), rtol=1e-13,
                               atol=1e-14)
    with pytest.raises(ValueError, match="20 sensor values"):
        model(u[:5], ys[0])
    with pytest.raises(ValueError, match="2 coordinates"):
        model(u, jnp.ones(3))
    with pytest.raises(ValueError, match="activation"):
        operators.DeepONet(20, 2, activation="swish", key=jax.random.key(0))


def test_multionet_combines_every_summed_layer_and_rejects_bad_input():
    model = operators.MultiONet(12, 2, width=10, layers=3, sum_layers=2,
                                key=jax.random.key(0))
    u = jax.random.normal(jax.random.key(1), (12,))
    ys = jax.random.uniform(jax.random.key(2), (5, 2))
    assert float(jnp.max(jnp.abs(model.cartesian(u, ys)))) == 0.0  # w = 0, b0 = 0 at init
    model = eqx.tree_at(lambda m: (m.weights, m.bias), model,
                        (jnp.array([0.5, -2.0]), jnp.array(0.25)))
    b, t = model.branch_states(u), jax.vmap(model.trunk_states)(ys)
    want = (0.5 * jnp.sum(b[0] * t[:, 0], -1) - 2.0 * jnp.sum(b[1] * t[:, 1], -1)) / 2 + 0.25
    np.testing.assert_allclose(model.cartesian(u, ys), want, rtol=1e-13)
    np.testing.assert_allclose(jax.vmap(lambda y: model(u, y))(ys), want, rtol=1e-13)
    # The paper's trunk activation, silu(sin(pi (x + 1))) + x, at x = -1, -1/2, 0, 1/2.
    from operators._multionet import ACTIVATIONS

    np.testing.assert_allclose(ACTIVATIONS["silu_sin"](jnp.array([-1.0, -0.5, 0.0, 0.5])),
                               [-1.0, jax.nn.silu(1.0) - 0.5, 0.0, jax.nn.silu(-1.0) + 0.5],
                               atol=1e-15)
    with pytest.raises(ValueError, match="12 sensor values"):
        model(u[:3], ys[0])
    with pytest.raises(ValueError, match="sum_layers"):
        operators.MultiONet(12, 2, layers=2, sum_layers=4, key=jax.random.key(0))
    with pytest.raises(ValueError, match="trunk_activation"):
        operators.MultiONet(12, 2, trunk_activation="swish", key=jax.random.key(0))


def _overfit(model, loss_fn, steps, lr):
    """Adam for `steps` steps in one compiled scan; the loss before and after."""
    params, static = eqx.partition(model, eqx.is_inexact_array)
    opt = optax.adam(lr)

    def loss_of(p):
        return loss_fn(eqx.combine(p, static))

    def step(carry, _):
        p, state = carry
        g = jax.grad(loss_of)(p)
        updates, state = opt.update(g, state, p)
        return (optax.apply_updates(p, updates), state), None

    run = jax.jit(lambda p: jax.lax.scan(step, (p, opt.init(p)), None, length=steps)[0][0])
    return float(loss_of(params)), float(loss_of(run(params)))


def test_models_overfit_tiny_data():
    """Eight samples of the heat semigroup on the circle (u0 -> u(0.1), exact per mode):
    both models drive the training error down by orders of magnitude."""
    n, k = 32, jnp.fft.rfftfreq(32, 1 / 32)
    u0 = jnp.concatenate([_band_limited(n, 1, jax.random.key(i)) for i in range(8)])
    u1 = jnp.fft.irfft(jnp.fft.rfft(u0) * jnp.exp(-(2 * jnp.pi * k) ** 2 * 0.01), n)

    fno = operators.FNO(1, 1, modes=8, width=16, layers=2, projection=32,
                        key=jax.random.key(0))
    first, last = _overfit(fno, lambda m: jnp.mean((jax.vmap(m)(u0[:, None])[:, 0] - u1) ** 2),
                           1000, 3e-3)
    assert last < 2e-3 * first, (first, last)

    grid = (jnp.arange(n) / n)[:, None]
    net = operators.DeepONet(n, 1, basis=16, width=32, depth=2, key=jax.random.key(1))
    first, last = _overfit(net, lambda m: jnp.mean(
        (jax.vmap(lambda u: m.cartesian(u, grid)[:, 0])(u0) - u1) ** 2), 400, 3e-3)
    assert last < 1e-2 * first, (first, last)

    multi = operators.MultiONet(n, 1, width=32, layers=3, sum_layers=3, key=jax.random.key(2))
    first, last = _overfit(multi, lambda m: jnp.mean(
        (jax.vmap(lambda u: m.cartesian(u, grid))(u0) - u1) ** 2), 400, 3e-3)
    assert last < 1e-2 * first, (first, last)


def test_dymixop_overfits_tiny_data_and_rolls_out():
    """The heat semigroup on the circle again (u0 -> u(0.1)); `rollout` repeats the learned
    step as one scan and equals calling the model step by step."""
    n, k = 32, jnp.fft.rfftfreq(32, 1 / 32)
    u0 = jnp.concatenate([_band_limited(n, 1, jax.random.key(i)) for i in range(8)])
    u1 = jnp.fft.irfft(jnp.fft.rfft(u0) * jnp.exp(-(2 * jnp.pi * k) ** 2 * 0.01), n)
    model = operators.DyMixOp(1, 1, modes=8, hidden=8, layers=2, key=jax.random.key(0))
    first, last = _overfit(model, lambda m: jnp.mean(
        (jax.vmap(m)(u0[:, None])[:, 0] - u1) ** 2), 500, 3e-3)
    assert last < 2e-3 * first, (first, last)
    path = operators.rollout(model, u0[:1], 3)
    assert path.shape == (3, 1, n)
    np.testing.assert_allclose(path[2], model(model(model(u0[:1]))), rtol=1e-12, atol=1e-13)
    with pytest.raises(ValueError, match="grid-to-grid"):
        operators.rollout(operators.DeepONet(n, 1, key=jax.random.key(0)), u0[:1], 2)


def _smooth_pair(n, dim):
    x = jnp.arange(n) / n
    g = jnp.meshgrid(*[x] * dim, indexing="ij")
    return jnp.stack([jnp.sin(2 * jnp.pi * g[0]) + 0.5 * jnp.cos(4 * jnp.pi * g[-1]),
                      jnp.cos(2 * jnp.pi * (g[0] + g[-1]))])


def _trained_stencils(model, key):
    """`model` with random (as if trained) difference stencils; they start at zero."""
    stencils = lambda m: [layer.linear[0][1].conv.weight for layer in m.layers]  # noqa: E731
    keys = jax.random.split(key, len(model.layers))
    return eqx.tree_at(stencils, model, [0.3 * jax.random.normal(k, w.shape, w.dtype)
                                         for k, w in zip(keys, stencils(model), strict=True)])


@pytest.mark.parametrize("dim", [1, 2])
def test_dymixop_shapes_gradients_refinement_and_bad_input(dim):
    """Shapes and gradients in 1D and 2D; the model is a consistent discretisation of one
    operator: on a smooth input, its values at shared points approach the finest grid's
    at first order as the grid is refined (the difference stencils are O(h) accurate), so
    a model trained on one resolution can be evaluated on another."""
    model = operators.DyMixOp(2, 3, modes=(4,) * dim, hidden=6, layers=2,
                              key=jax.random.key(0))
    assert all(float(jnp.abs(layer.linear[0][1].conv.weight).max()) == 0.0
               for layer in model.layers)  # the stencils start at zero
    model = _trained_stencils(model, jax.random.key(4))
    apply = eqx.filter_jit(lambda m, v: m(v))
    u = _smooth_pair(16, dim)
    assert apply(model, u).shape == (3,) + (16,) * dim
    grads = eqx.filter_jit(eqx.filter_grad(lambda m: jnp.sum(m(u) ** 2)))(model)
    leaves = jax.tree.leaves(eqx.filter(grads, eqx.is_inexact_array))
    assert all(bool(jnp.all(jnp.isfinite(g))) for g in leaves)
    assert float(jnp.abs(grads.gate)) > 0  # the time-scale gate learns
    finest, sizes = (256, (16, 32, 64)) if dim == 1 else (64, (16, 32))
    ref = apply(model, _smooth_pair(finest, dim))
    errors = []
    for n in sizes:
        sub = ref[(slice(None),) + (slice(None, None, finest // n),) * dim]
        errors.append(float(jnp.linalg.norm(apply(model, _smooth_pair(n, dim)) - sub)
                            / jnp.linalg.norm(sub)))
    assert all(a > b for a, b in zip(errors, errors[1:], strict=False)), errors
    assert errors[-2] / errors[-1] > 1.5, errors  # first order: ~2 per halving of h
    # The difference stencil annihilates constants.
    stencil = model.layers[0].linear[0][1]
    np.testing.assert_allclose(stencil(jnp.full((6,) + (8,) * dim, 3.0)), 0.0, atol=1e-12)
    assert float(jnp.abs(stencil(jnp.ones((6,) + (8,) * dim) * jnp.arange(8.0))).max()) > 0
    with pytest.raises(ValueError, match="DyMixOp expects"):
        model(u[:1])
    with pytest.raises(ValueError, match="too coarse"):
        model(jnp.ones((2,) + (6,) * dim))
    with pytest.raises(ValueError, match="odd"):
        operators.DyMixOp(1, 1, modes=4, kernel_size=2, key=jax.random.key(0))
    with pytest.raises(ValueError, match="1D and 2D"):
        operators.DyMixOp(1, 1, modes=(2, 2, 2), key=jax.random.key(0))


def test_dymixop_stencil_keeps_the_training_grid_taps_on_every_grid():
    """With `grid` set, the difference stencil reads taps one training-grid spacing apart
    on any grid (rolls on multiples, Fourier shifts otherwise): on a band-limited field it
    is the same operator at every resolution, to round-off; on the training grid it equals
    the neighbour-tap stencil. The whole model then evaluates on a finer grid much closer
    to its training-grid values than with neighbour taps divided by each grid's spacing."""
    stencil = operators.DifferenceStencil(1, 2, 3, key=jax.random.key(0), taps=(8,))
    w = 0.3 * jax.random.normal(jax.random.key(1), stencil.conv.weight.shape)
    stencil = eqx.tree_at(lambda s: s.conv.weight, stencil, w)
    w = w.at[:, :, 1].add(-jnp.sum(w, axis=2))

    def field(x):  # modes 1..3, below the 8-point grid's Nyquist mode
        return jnp.stack([jnp.sin(2 * jnp.pi * x) + 0.5 * jnp.cos(6 * jnp.pi * x),
                          jnp.cos(4 * jnp.pi * x) - 0.2 * jnp.sin(6 * jnp.pi * x)])

    for n in (8, 32, 20):  # native, a multiple, not a multiple
        x = jnp.arange(n) / n
        exact = 8 * sum(jnp.tensordot(w[:, :, s + 1], field(x + s / 8), 1) for s in (-1, 0, 1))
        np.testing.assert_allclose(stencil(field(x)), exact, rtol=0, atol=1e-12)
    plain = operators.DifferenceStencil(1, 2, 3, key=jax.random.key(0))
    plain = eqx.tree_at(lambda s: s.conv.weight, plain, stencil.conv.weight)
    x = jnp.arange(8) / 8
    np.testing.assert_allclose(plain(field(x)), stencil(field(x)), rtol=0, atol=1e-13)
    # Over h ** power: the same operator up to the constant h ** (1 - power).
    half = operators.DifferenceStencil(1, 2, 3, key=jax.random.key(0), taps=(8,), power=0.5)
    half = eqx.tree_at(lambda s: s.conv.weight, half, stencil.conv.weight)
    for n in (8, 20):
        x = jnp.arange(n) / n
        np.testing.assert_allclose(half(field(x)), stencil(field(x)) / math.sqrt(8),
                                   rtol=1e-13, atol=1e-13)

    apply = eqx.filter_jit(lambda m, v: m(v))
    gaps = {}
    for grid in (None, 16):
        model = _trained_stencils(operators.DyMixOp(2, 3, modes=4, hidden=6, layers=2,
                                                    grid=grid, key=jax.random.key(0)),
                                  jax.random.key(4))
        coarse = apply(model, _smooth_pair(16, 1))
        fine = apply(model, _smooth_pair(64, 1))[:, ::4]
        gaps[grid] = float(jnp.linalg.norm(fine - coarse) / jnp.linalg.norm(coarse))
    assert gaps[16] < 1e-4 and gaps[16] < 1e-3 * gaps[None], gaps  # 3.6e-7 vs 5.4e-2
    with pytest.raises(ValueError, match="grid has 2 axes"):
        operators.DyMixOp(1, 1, modes=4, grid=(8, 8), key=jax.random.key(0))


def test_dymixop_stencil_power_defaults_and_older_saved_specs():
    """Fixed taps default to stencils over `sqrt(h)`, neighbour taps to over `h` (the
    consistent discretisation); `model_spec` writes the power out, and a description saved
    before the option (no `stencil_power`) rebuilds the stencils over `h`, as trained."""
    def powers(model):
        return {layer.linear[0][1].power for layer in model.layers}

    key = jax.random.key(0)
    assert powers(operators.DyMixOp(1, 1, modes=4, grid=16, key=key)) == {0.5}
    assert powers(operators.DyMixOp(1, 1, modes=4, key=key)) == {1.0}
    assert powers(operators.DyMixOp(1, 1, modes=4, grid=16, stencil_power=0.25,
                                    key=key)) == {0.25}
    data = operators.OperatorData(inputs=np.zeros((2, 1, 16)), outputs=np.zeros((2, 1, 16)),
                                  coords=np.linspace(0, 1, 16, endpoint=False)[:, None])
    spec = operators.model_spec("dymixop", data, normalize=False, hidden=4, layers=1)
    assert spec["args"]["stencil_power"] == 0.5
    assert powers(operators.build_model(spec, key=key)) == {0.5}
    older = {**spec, "args": {k: v for k, v in spec["args"].items() if k != "stencil_power"}}
    assert powers(operators.build_model(older, key=key)) == {1.0}


@pytest.mark.parametrize("dim", [1, 2])
def test_dymixop_without_coordinates_commutes_with_periodic_shifts(dim):
    """`coordinates=False` drops the position channels: the model then commutes with
    periodic shifts of the grid (every part is a periodic convolution, a spectral
    convolution or pointwise) to round-off, while with the position it does not; the
    lifting layer loses the 2 * dim position inputs; a bad `mixing_start` is refused."""
    n, key = 12, jax.random.key(3)
    u = jax.random.normal(jax.random.key(5), (2,) + (n,) * dim)
    axes = tuple(range(1, dim + 1))
    shifts = (3, 5)[:dim]
    gaps = {}
    for coordinates in (True, False):
        model = operators.DyMixOp(2, 1, modes=(4,) * dim, hidden=6, layers=2, grid=n,
                                  coordinates=coordinates, key=key)
        model = _trained_stencils(model, jax.random.key(4))
        shifted = model(jnp.roll(u, shifts, axes))
        gaps[coordinates] = float(jnp.max(jnp.abs(shifted - jnp.roll(model(u), shifts, axes))))
        assert model.lift[0].weight.shape[1] == 2 + (2 * dim if coordinates else 0)
    assert gaps[False] < 1e-12 < 1e-3 < gaps[True], gaps
    with pytest.raises(ValueError, match="mixing_start"):
        operators.DyMixOp(1, 1, modes=4, mixing_start="zero", key=key)
    with pytest.raises(ValueError, match="coordinates must be True or False"):
        operators.DyMixOp(1, 1, modes=4, coordinates="false", key=key)


def test_dymixop_spectral_mixing_start_is_a_spectral_layer():
    """`mixing_start="spectral"` starts each local branch `K` at the constant 1, so each
    product `G(c) * K(c)` equals the spectral convolution `G(c)` at initialisation; the
    default start draws `K` at random."""
    c = jax.random.normal(jax.random.key(1), (6, 16))
    for start, equal in (("spectral", True), ("random", False)):
        model = operators.DyMixOp(1, 1, modes=4, hidden=6, layers=2, mixing_start=start,
                                  key=jax.random.key(0))
        for layer in model.layers:
            (g, k), = layer.nonlinear
            assert bool(jnp.allclose(g(c) * k(c), g(c), rtol=0, atol=1e-15)) is equal
