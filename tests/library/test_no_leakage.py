"""No source model used for a benchmark target was trained on that target's property."""

import pytest

from skmdl.library import BENCHMARK_TARGETS, ModelLibrary
from skmdl.library.recipes import TARGET_QUANTITIES, transfer_exclusions, transfer_sources
from skmdl.library.recipes_organic import POLYMER_TARGETS, polymer_transfer_exclusions
from skmdl.transfer import PretrainedFeaturizer, TransferRegressor


@pytest.mark.parametrize("task", sorted(TARGET_QUANTITIES))
def test_candidates_exclude_the_target_property(task):
    lib = ModelLibrary.default()
    model = TransferRegressor(**transfer_exclusions(task))
    candidates = model.candidate_sources(lib)
    assert candidates, task
    for model_id in candidates:
        card = lib.card(model_id)
        assert card["training"]["dataset"] != task
        banned = TARGET_QUANTITIES[task]
        banned = {banned} if isinstance(banned, str) else set(banned)
        assert card["quantity"] not in banned, (task, model_id)
        for trunk_task in card.get("tasks", ()):  # a multi-task trunk: every one of its tasks
            assert trunk_task["dataset"] != task and trunk_task["quantity"] not in banned


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
        allowed = TransferRegressor(**transfer_exclusions(task)).candidate_sources(lib)
        assert transfer_sources(task) == allowed  # one filter: same ids, same order
        allowed = set(allowed) | leak_free_sources(module, lib)
        for model in getattr(module, "models", lambda t: {})(task).values():
            if isinstance(model, TransferRegressor):
                assert set(model.candidate_sources(lib)) <= allowed, (script, task)
            nested = model.get_params(deep=True).values() if hasattr(model, "steps") else []
            for step in nested:  # PretrainedFeaturizers inside pipelines / unions
                if isinstance(step, PretrainedFeaturizer):
                    assert set(step.models) <= allowed, (script, task)


def leak_free_sources(module, lib):
    """Sources a script may use beyond the exclusions: trained on fewer elements than it tests.

    The HEA benchmark tests on 4- and 5-element alloys; a source whose card
    says it saw compositions of at most 3 elements never saw one.
    """
    fewest = getattr(module, "FEWEST_TEST_ELEMENTS", None)
    if fewest is None:
        return set()
    ids = set(lib.search(max_elements=fewest - 1)["id"])
    assert all(lib.card(i)["max_elements"] < fewest for i in ids)
    return ids


def test_hea_test_sets_have_more_elements_than_the_leak_free_sources(monkeypatch):
    import importlib.util
    from pathlib import Path

    benchmarks = Path(__file__).parents[2] / "benchmarks"
    monkeypatch.syspath_prepend(str(benchmarks))
    spec = importlib.util.spec_from_file_location("hea", benchmarks / "hea_stability.py")
    hea = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hea)
    assert hea.FEWEST_TEST_ELEMENTS == 4
    k = hea.n_metal_elements(["AlCoCrFe", "AlCoCrFeNi", "NiAl", "CuZnSn", "NaCl"])
    assert list(k) == [4, 5, 2, 3, 0]  # test sets select k == 4 and k == 5 only
    assert set(hea.leak_free_energy_sources()) <= leak_free_sources(hea, ModelLibrary.default())


def test_benchmark_targets_are_not_library_tasks():
    assert not set(ModelLibrary.default().search()["task"]) & set(BENCHMARK_TARGETS)


def _filter_on_cards(lib, quantities, kind, exclude_tasks, exclude_quantities):
    """What TransferRegressor screened before ``candidate_sources``: each card's quantity."""
    df = lib.search(kind=kind, exclude_tasks=exclude_tasks)
    return [i for i in df["id"] if quantities[i] not in set(exclude_quantities)]


def test_candidate_sources_are_those_of_the_card_filter():
    """The index-based filter gives the same ids, in the same order, for every target."""
    lib = ModelLibrary.default()
    quantities = {i: lib.card(i).get("quantity") for i in lib.search()["id"]}
    cases = [("inorganic", transfer_exclusions(t)) for t in sorted(TARGET_QUANTITIES)]
    cases += [(kind, polymer_transfer_exclusions(t)) for t in sorted(POLYMER_TARGETS)
              for kind in ("molecule", "polymer")]
    for kind, ex in cases:
        expected = _filter_on_cards(lib, quantities, kind, **ex)
        assert expected, (kind, ex)
        assert TransferRegressor(kind=kind, **ex).candidate_sources(lib) == expected, (kind, ex)
