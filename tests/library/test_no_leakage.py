"""No source model used for a benchmark target was trained on that target's property."""

import pytest

from skmdl.library import BENCHMARK_TARGETS, ModelLibrary
from skmdl.library.recipes import TARGET_QUANTITIES, transfer_exclusions
from skmdl.transfer import TransferRegressor


@pytest.mark.parametrize("task", sorted(TARGET_QUANTITIES))
def test_candidates_exclude_the_target_property(task):
    lib = ModelLibrary.default()
    model = TransferRegressor(**transfer_exclusions(task))
    candidates = model._candidates(lib)
    assert candidates, task
    for model_id in candidates:
        card = lib.card(model_id)
        assert card["training"]["dataset"] != task
        assert card["quantity"] != TARGET_QUANTITIES[task], (task, model_id)


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


def test_benchmark_targets_are_not_library_tasks():
    assert not set(ModelLibrary.default().search()["task"]) & set(BENCHMARK_TARGETS)
