"""Benchmark of TENG (`pinns.TENG`, Chen et al., ICML 2024): relative L2 error against our
float64 references over time, the least-squares misfit per step, wall time.

Problems in the paper's setting on `[0, 2 pi)^2` (diffusion 0.1, dt = 0.005): heat
(`heat2d`, exact series), Allen–Cahn (`allen_cahn_torus2d`) and viscous Burgers
(`burgers2d`), references by our pseudo-spectral ETDRK4 solver (128^2). The paper's
network (periodic first layer, tanh MLP 40 x 7, ~8.4k parameters) and its random parameter
subsets (1536 on a step's first iteration, then 1024). Baselines: TENG-Euler against
TENG-Heun, and a space-time PINN of the same width and depth (Adam) on the heat horizon.

The paper integrates to T = 4 (800 steps) with 65,536 points on a GPU; a CPU run here
covers a reduced horizon with 48^2 points (`horizon`), and reports how the error grows per
step. Goals: heat <= 1e-6, Allen–Cahn / Burgers <= 1e-5 at T = 4.
"""

from __future__ import annotations

import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

import pinns  # noqa: E402
from sciopt import problems  # noqa: E402
from sciopt.bench.plots import figure, save

# (full, quick): the full settings are the CPU run (about 20 minutes in all); the quick ones
# only check that every piece runs.
SETTINGS = {
    False: dict(width=40, depth=7, grid=48, init_steps=40, steps=60, record=10,
                subset=1024, first_subset=1536, pinn_steps=2000),
    True: dict(width=16, depth=3, grid=20, init_steps=10, steps=4, record=2,
               subset=None, first_subset=None, pinn_steps=20),
}
CASES = [  # (problem, params, scheme, goal at T = 4)
    ("heat2d", {"nu": 0.1, "modes": 2, "t_final": 4.0}, "heun", "<= 1e-6"),
    ("heat2d", {"nu": 0.1, "modes": 2, "t_final": 4.0}, "euler", "<= 1e-6"),
    ("allen_cahn_torus2d", {}, "heun", "<= 1e-5"),
    ("burgers2d", {}, "heun", "<= 1e-5"),
]
DT = 0.005
REF_N = 128


class _Reference:
    """The solution on the 64 x 64 subgrid of the 128^2 reference grid at saved times."""

    def __init__(self, problem, times: np.ndarray):
        grid = problem.grid(REF_N)
        x = np.asarray(grid.axes()[0])
        u = np.asarray(problem.reference({"x": x, "y": x}, jnp.asarray(times)))[..., 0]
        self.u = {round(float(t), 9): u[i, ::2, ::2] for i, t in enumerate(times)}
        xx, yy = np.meshgrid(x[::2], x[::2], indexing="ij")
        self.points = jnp.asarray(np.stack([xx.ravel(), yy.ravel()], 1))

    def error(self, model, t: float) -> float:
        want = self.u[round(float(t), 9)].ravel()
        pred = np.asarray(jax.vmap(model)(self.points))
        return float(np.linalg.norm(pred - want) / np.linalg.norm(want))


def _pinn_baseline(problem, horizon: float, s: dict, ref: _Reference, key) -> dict:
    """A space-time PINN of the same width and depth on `[0, horizon]`."""
    p = problems.get("heat2d", **{**problem.parameters, "t_final": horizon})
    model = pinns.pinn_for(p, width=s["width"], depth=s["depth"], periodic_modes=1, key=key)
    t0 = time.perf_counter()
    result = pinns.train_pinn(p, model, steps=s["pinn_steps"], key=key, progress="lines",
                              residual_points=2048, initial_points=512)
    wall = time.perf_counter() - t0
    errors = [(t, ref.error(lambda z, t=t: result.model(jnp.append(z, t)), t))
              for t in sorted(ref.u)]
    return {"errors": errors, "wall": wall}


def run(config: dict) -> dict:
    quick = config.get("quick", False)
    out_dir: Path = config["out_dir"]
    s = SETTINGS[bool(quick)]
    horizon = s["steps"] * DT
    times = DT * np.arange(0, s["steps"] + 1, s["record"])
    rows, curves, misfits, metrics = [], {}, {}, {}
    fitted = {}
    with jax.enable_x64(True):
        for name, params, scheme, goal in CASES:
            problem = problems.get(name, **params)
            ref = _Reference(problem, times)
            label = f"{name} TENG-{scheme.capitalize()}"
            print(f"teng: {label}, {s['steps']} steps of dt = {DT}", flush=True)
            net = pinns.teng_model(problem, width=s["width"], depth=s["depth"],
                                   key=jax.random.key(0))
            teng = pinns.TENG(net, problem, dt=DT, scheme=scheme, grid=s["grid"],
                              subset=s["subset"], first_subset=s["first_subset"],
                              solver="cholesky", damping=1e-12, init_steps=s["init_steps"])
            t0 = time.perf_counter()
            if name not in fitted:     # one initial fit per problem, shared by the schemes
                fitted[name] = teng.init()
            model, init_misfit = fitted[name]
            init_wall = time.perf_counter() - t0
            result = teng.run(model, s["steps"], jax.random.key(1), record_every=s["record"],
                              observe=ref.error, progress="lines")
            errors = [e for _, e in result.records]
            per_step = (errors[-1] - errors[0]) / s["steps"]
            rows.append([label, s["steps"], horizon, float(init_misfit), errors[0], errors[-1],
                         per_step, float(result.residuals.max()), goal, init_wall,
                         result.wall_time, s["steps"] / result.wall_time])
            curves[label] = result.records
            misfits[label] = (result.times, result.residuals)
            metrics[label] = errors[-1]
            if name == "heat2d" and scheme == "heun":
                base = _pinn_baseline(problem, horizon, s, ref, jax.random.key(2))
                plabel = f"{name} PINN (space-time, Adam)"
                rows.append([plabel, s["pinn_steps"], horizon, "—", base["errors"][0][1],
                             base["errors"][-1][1], "—", "—", goal, "—", base["wall"],
                             s["pinn_steps"] / base["wall"]])
                curves[plabel] = base["errors"]
                metrics[plabel] = base["errors"][-1][1]
    fig, ax = figure()
    for label, rec in curves.items():
        ax.semilogy([t for t, _ in rec], [e for _, e in rec], marker="o", label=label)
    ax.set_xlabel("t")
    ax.set_ylabel("relative L2 error")
    ax.legend(fontsize=7)
    png_error = save(fig, out_dir / "teng_error.png")
    fig, ax = figure()
    for label, (t, r) in misfits.items():
        ax.semilogy(t, r, label=label)
    ax.set_xlabel("t")
    ax.set_ylabel("least-squares misfit (relative RMS)")
    ax.legend(fontsize=7)
    png_misfit = save(fig, out_dir / "teng_misfit.png")
    n_params = sum(x.size for x in jax.tree.leaves(
        pinns.teng_model(problems.get("heat2d"), width=s["width"], depth=s["depth"],
                         key=jax.random.key(0))))
    return {
        "title": "TENG (pinns.TENG)",
        "summary": f"Relative L2 at t = {horizon:g}: " + ", ".join(
            f"{k} {v:.2e}" for k, v in metrics.items()) + ".",
        "dtype": "float64",
        "tables": [{
            "title": f"TENG error against the float64 reference (dt = {DT})",
            "columns": ["case", "steps", "t final", "initial misfit", "error t = 0",
                        "error t final", "growth per step", "max step misfit",
                        "goal (T = 4)", "init wall (s)", "wall (s)", "steps/s"],
            "rows": rows,
            "notes": (f"PeriodicMLP {s['width']} x {s['depth']} ({n_params} parameters), "
                      f"{s['grid']}^2 sample points shifted randomly every step, "
                      + (f"Gauss-Newton over random subsets of {s['first_subset']} / "
                         f"{s['subset']} parameters" if s["subset"] else
                         "Gauss-Newton on all parameters")
                      + " (5 + 2 and 5 iterations per stage), "
                      "normal equations with Tikhonov damping 1e-12 (relative) by Cholesky, "
                      "backtracking; the initial fit is variable projection with "
                      f"Levenberg-Marquardt ({s['init_steps']} iterations). Errors on a "
                      f"64^2 grid against the spectral reference ({REF_N}^2, ETDRK4; the "
                      "exact series for heat). The PINN baseline: the same width and "
                      "depth with a periodic embedding in x, y, trained over space-time "
                      "with Adam. Wall times include compilation. The paper's full setting "
                      "(T = 4, 65,536 points) needs a GPU."),
        }],
        "metrics": {"relative_l2": metrics},
        "figures": [png_error, png_misfit],
    }
