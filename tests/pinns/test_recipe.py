"""PINN settings are objects (optimisers) and the train -> evaluate -> record recipe is
library code (`PINNRecipe`, `train_and_evaluate`, `save_run`) that the CLI and the
benchmark call."""

import dataclasses
import json

import jax
import numpy as np
import pytest

import pinns
from sciopt import problems

HEAT = problems.get("heat1d", modes=1)  # u = exp(-0.1 t) sin x


def _tiny(**kw):
    return pinns.PINNRecipe(width=8, depth=2, points=64, **kw)


def test_optimizer_objects_equal_their_names():
    """`pinns.Adam(lr)` trains bit for bit as `optimizer="adam", learning_rate=lr`, and
    MultiAdam / Gauss-Newton likewise."""
    model = pinns.pinn_for(HEAT, width=8, depth=2, key=jax.random.key(0))
    common = dict(steps=5, key=jax.random.key(1), residual_points=32, initial_points=16,
                  progress="off")
    for obj, name, lr in ((pinns.Adam(3e-3), "adam", 3e-3),
                          (pinns.MultiAdam(2e-3), "multiadam", 2e-3),
                          (pinns.GaussNewton(1e-2), "gauss-newton", 1e-2)):
        a = pinns.train_pinn(HEAT, model, optimizer=obj, **common)
        b = pinns.train_pinn(HEAT, model, optimizer=name, learning_rate=lr, **common)
        np.testing.assert_array_equal(a.losses, b.losses)
    assert pinns.optimizer_for("lbfgs") == pinns.LBFGS()
    assert not pinns.LBFGS.resample and pinns.Adam.resample
    with pytest.raises(ValueError, match="optimizer must be one of"):
        pinns.train_pinn(HEAT, model, optimizer="sgd", **common)
    with pytest.raises(ValueError, match="build"):
        pinns.train_pinn(HEAT, model, optimizer=object(), **common)


def test_recipe_trains_scores_and_records(tmp_path):
    recipe = _tiny(steps=30, refine=pinns.GaussNewton(), refine_steps=3)
    run = pinns.train_and_evaluate(HEAT, recipe, key=jax.random.key(0), progress="off")
    assert (run.steps, run.refine_steps) == (30, 3) and len(run.losses) == 33
    assert run.relative_l2 == pinns.relative_error(HEAT, run.model)
    # the same as the two calls it stands for
    k_model, k_train = jax.random.split(jax.random.key(0))
    model = pinns.pinn_for(HEAT, width=8, depth=2, key=k_model)
    points = dict(residual_points=64, initial_points=64, boundary_points=64)
    first = pinns.train_pinn(HEAT, model, steps=30, key=k_train, progress="off", **points)
    second = pinns.train_pinn(HEAT, first.model, steps=3, key=jax.random.fold_in(k_train, 1),
                              optimizer="gauss-newton", progress="off", **points)
    np.testing.assert_array_equal(run.losses, np.concatenate([first.losses, second.losses]))

    record = pinns.save_run(run, HEAT, "heat1d", tmp_path, {"seed": 0})
    saved = json.loads((tmp_path / "heat1d_pinn.json").read_text())
    assert saved == json.loads(json.dumps(record))
    assert saved["optimizer"] == "adam" and saved["refine"] == "gauss-newton"
    assert saved["refine_settings"] == {"damping": 1e-3} and saved["seed"] == 0
    assert (tmp_path / "heat1d_pinn.png").stat().st_size > 0


def test_bad_recipes_are_refused():
    for kw, message in (({"model": "xpinn"}, "model must be one of"),
                        ({"steps": 0}, "steps must be a positive"),
                        ({"refine": pinns.GaussNewton(), "refine_steps": 0},
                         "refine_steps must be a positive"),
                        ({"model": "lpinn", "windows": 2}, "time marching"),
                        ({"model": "lpinn", "hard_boundary": True}, "hard_boundary"),
                        ({"optimizer": "adam-ish"}, "optimizer must be one of")):
        with pytest.raises(ValueError, match=message):
            _tiny(**kw)


def test_benchmark_cases_are_runnable_recipes():
    """Every case of `sciopt bench pinn` names a registered problem that takes its
    parameters, and its quick recipe keeps the full one's method."""
    names = set(problems.names())
    for case in pinns.BENCHMARK_CASES:
        assert case.problem in names
        problems.get(case.problem, **case.params)
        if case.quick[0]:
            quick = case.quick_recipe()
            assert (quick.steps, quick.refine_steps, quick.points) == case.quick
            assert dataclasses.replace(quick, steps=case.recipe.steps,
                                       refine_steps=case.recipe.refine_steps,
                                       points=case.recipe.points,
                                       refine_points=case.recipe.refine_points) == case.recipe
