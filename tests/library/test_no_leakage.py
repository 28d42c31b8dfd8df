"""No source model used for a benchmark target was trained on that target's property."""

import pytest

from skmdl.library import BENCHMARK_TARGETS, ModelLibrary
from skmdl.library.recipes import TARGET_QUANTITIES, transfer_exclusions, transfer_sources
from skmdl.transfer import PretrainedFeaturizer, TransferRegressor


@pytest.mark.parametrize("task", sorted(TARGET_QUANTITIES))
def test_candidates_exclude_the_target_property(task):
    lib = ModelLibrary.default()
    model = TransferRegressor(**transfer_exclusions(task))
    candidates = model._candidates(lib)
    assert candidates, task
    for model_id in candidates:
        card = lib.card(model_id)
        assert card["training"]["dataset"] != task
        banned = TARGET_QUANTITIES[task]
        banned = {banned} if isinstance(banned, str) else set(banned)
        assert card["quantity"] not in banned, (task, model_id)


def test_learning_curve_tasks_are_covered(monkeypatch):
    import importlib.util
    from pathlib import Path

    benchmarks = Path(__file__).parents[2] / "benchmarks"
    monkeypatch.syspath_prepend(str(benchmarks))  # the script imports its _results helper
    path = benchmarks / "transfer_learning_curves.py"
    spec = importlib.util.spec_from_file_location("curves", path)
    curves = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(curves)
    assert set(curves.TASKS) <= set(TARGET_QUANTITIES)


@pytest.mark.parametrize("script, tasks", [
    ("transfer_learning_curves", "TASKS"),
    ("ltc_extrapolation", "TASK"),
    ("hea_stability", "TASK"),
])
def test_benchmark_scripts_only_use_allowed_sources(monkeypatch, script, tasks):
    """Every source a benchmark script may use passes the exclusions of its target."""
    import importlib.util
    from pathlib import Path

    benchmarks = Path(__file__).parents[2] / "benchmarks"
    monkeypatch.syspath_prepend(str(benchmarks))
    spec = importlib.util.spec_from_file_location(script, benchmarks / f"{script}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    targets = getattr(module, tasks)
    lib = ModelLibrary.default()
    for task in [targets] if isinstance(targets, str) else targets:
        assert task in TARGET_QUANTITIES
        allowed = set(TransferRegressor(**transfer_exclusions(task))._candidates(lib))
        assert set(transfer_sources(task)) == allowed
        for model in getattr(module, "models", lambda t: {})(task).values():
            if isinstance(model, TransferRegressor):
                assert set(model._candidates(lib)) <= allowed, (script, task)
            nested = model.get_params(deep=True).values() if hasattr(model, "steps") else []
            for step in nested:  # PretrainedFeaturizers inside pipelines / unions
                if isinstance(step, PretrainedFeaturizer):
                    assert set(step.models) <= allowed, (script, task)


def test_benchmark_targets_are_not_library_tasks():
    assert not set(ModelLibrary.default().search()["task"]) & set(BENCHMARK_TARGETS)
