"""A trained neural operator as the right-hand side of a diffrax solve, and inside an inverse
problem: viscous Burgers (nu = 0.1) on [-1, 1).

1. Data from our spectral solver: states along ETDRK4 trajectories from Gaussian random
   fields, each paired with its exact time derivative -u u_x + nu u_xx (spectral).
2. An FNO learns the map u -> du/dt.
3. `operators.surrogate_solve` integrates du/dt = FNO(u) with diffrax (Tsit5, adaptive) and
   is compared with the reference solve.
4. Inversion: the initial state is recovered from noisy observations of u(T) at 32 points by
   BFGS (`sciopt.inverse.minimise`) through the surrogate solve, and, for comparison,
   through the reference solver (ETDRK4, differentiated by JAX).

    python examples/operator_surrogate.py [--samples 64] [--steps 2000] [--out .]

Saves `operator_surrogate.png`: the surrogate and reference solutions at T, the recovered
initial states, and the training loss.
"""

import argparse
import time
from functools import partial
from pathlib import Path

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import operators  # noqa: E402
from sciopt import inverse, problems, solvers  # noqa: E402
from sciopt.data import gaussian_random_field  # noqa: E402

N, T, NU = 64, 0.5, 0.1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=64, help="training trajectories")
    parser.add_argument("--steps", type=int, default=2000, help="training steps")
    parser.add_argument("--inverse-steps", type=int, default=60)
    parser.add_argument("--out", default=".")
    args = parser.parse_args()

    p = problems.get("burgers1d_periodic", nu=NU)
    grid = p.grid(N)
    x = np.asarray(grid.axes()[0])
    symbol = p.symbol(grid.wavenumbers()[0])
    nonlinear = partial(p.nonlinear, grid)

    def rhs(u):  # the exact right-hand side, spectrally
        v = grid.to_spectral(u)
        return grid.to_physical(symbol * v + nonlinear(v))

    def reference(u0, times):
        steps = int(round(times[-1] / 1e-3))
        out = solvers.solve_on_grid(grid, symbol, nonlinear, u0, dt=1e-3, num_steps=steps,
                                    save_every=steps // (len(times) - 1))
        return out[1:]

    # 1. States along trajectories and their time derivatives.
    keys = jax.random.split(jax.random.key(0), args.samples + 1)
    u0s = jnp.stack([gaussian_random_field(k, grid, length_scale=0.3, std=0.5)
                     for k in keys[:-1]])
    states = jax.vmap(lambda u: solvers.solve_on_grid(grid, symbol, nonlinear, u, dt=1e-3,
                                                      num_steps=500, save_every=100))(u0s)
    states = states.reshape(-1, N)
    data = operators.OperatorData(np.asarray(states)[:, None],
                                  np.asarray(jax.vmap(rhs)(states))[:, None], x[:, None])
    n_test = max(len(states) // 8, 4)
    train, test = data.split(len(states) - n_test, n_test)

    # 2. The FNO learns u -> du/dt.
    spec = operators.model_spec("fno", train, width=24, modes=16, layers=3, projection=48)
    model = operators.build_model(spec, key=jax.random.key(1))
    fit = operators.train_operator(model, train, steps=args.steps, key=jax.random.key(2),
                                   batch_size=32, learning_rate=3e-3, progress="lines")
    model = fit.model
    print(f"du/dt test relative L2: {float(operators.evaluate(model, test)):.2e}")

    # 3. Surrogate solve against the reference.
    u_true0 = gaussian_random_field(keys[-1], grid, length_scale=0.3, std=0.5)
    coords = jnp.asarray(x[:, None])
    times = jnp.linspace(0.0, T, 6)[1:]
    surrogate = operators.surrogate_solve(model, u_true0[None], coords, t1=T, saveat=times)
    exact = reference(u_true0, np.asarray(jnp.concatenate([jnp.zeros(1), times])))
    solve_error = float(jnp.linalg.norm(surrogate[-1, 0] - exact[-1])
                        / jnp.linalg.norm(exact[-1]))
    print(f"surrogate solve, relative L2 at T = {T}: {solve_error:.2e}")

    # 4. Recover u0 from 32 noisy observations of u(T), through either right-hand side.
    sensors = np.arange(0, N, N // 32)
    noise = 0.01 * float(jnp.std(exact[-1]))
    observed = exact[-1, sensors] + noise * jax.random.normal(jax.random.key(3),
                                                               (len(sensors),))

    def through(kind):
        def final_state(u0):
            if kind == "surrogate":
                return operators.surrogate_solve(model, u0[None], coords, t1=T)[-1, 0]
            return reference(u0, np.array([0.0, T]))[-1]

        scale = float(jnp.std(observed))

        def objective(u0, _):  # misfit in units of the data's spread: O(1) at the start
            misfit = (final_state(u0)[sensors] - observed) / scale
            return 0.5 * jnp.mean(misfit**2) + inverse.tikhonov(u0, 1e-4, order=1,
                                                                spacing=2.0 / N)

        start = time.perf_counter()
        result = inverse.minimise(objective, jnp.zeros(N), method="bfgs",
                                  max_steps=args.inverse_steps, progress="off")
        wall = time.perf_counter() - start
        err = float(jnp.linalg.norm(result.params - u_true0) / jnp.linalg.norm(u_true0))
        print(f"inversion through the {kind} solve: u0 relative L2 {err:.2e}, "
              f"{result.steps} BFGS steps, {wall:.1f} s")
        return result.params, err

    recovered = {kind: through(kind) for kind in ("surrogate", "reference")}

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2), dpi=100)
    axes[0].plot(x, exact[-1], "k", label="reference (ETDRK4)")
    axes[0].plot(x, surrogate[-1, 0], "--", color="tab:red", label="FNO right-hand side")
    axes[0].set(title=f"u(x, T = {T}): relative L2 {solve_error:.1e}", xlabel="x")
    axes[0].legend()
    axes[1].plot(x, u_true0, "k", label="true u0")
    for kind, color in (("surrogate", "tab:red"), ("reference", "tab:blue")):
        u, err = recovered[kind]
        axes[1].plot(x, u, "--", color=color, label=f"through the {kind} ({err:.1e})")
    axes[1].plot(x[sensors], np.zeros(len(sensors)), "|", color="gray")
    axes[1].set(title="recovered initial state (sensors at the bottom)", xlabel="x")
    axes[1].legend(fontsize=8)
    axes[2].semilogy(np.asarray(fit.losses))
    axes[2].set(title="training loss (relative L2 of du/dt)", xlabel="step")
    fig.tight_layout()
    path = Path(args.out) / "operator_surrogate.png"
    fig.savefig(path)
    print(f"saved {path}")


if __name__ == "__main__":
    main()
