"""The library embedded in the package: complete, intact, small, leak-free."""

import numpy as np
import pytest

from skmdl.library import BENCHMARK_TARGETS, ModelLibrary
from skmdl.library.library import default_library_path


@pytest.fixture(scope="module")
def lib():
    return ModelLibrary.default()


def test_at_least_30_inorganic_properties_with_5_models_each(lib):
    df = lib.search(kind="inorganic")
    df = df[df["quantity"] != "multi-task"]  # the trunk: one model of many properties
    counts = df.groupby("property").size()
    assert len(counts) >= 30, counts
    assert (counts >= 5).all(), counts[counts < 5]
    assert df[["mae", "rmse", "r2", "n_test"]].notna().all().all()


def test_heldout_trunk_saw_no_benchmark_quantity(lib):
    from skmdl.library.recipes import TARGET_QUANTITIES, transfer_exclusions

    card = lib.card("multitask_inorganic_heldout-000")
    assert len(card["tasks"]) >= 10
    for task in TARGET_QUANTITIES:  # a candidate of every transfer benchmark target
        assert "multitask_inorganic_heldout-000" in set(
            lib.search(kind="inorganic", **transfer_exclusions(task))["id"]), task
    full = lib.card("multitask_inorganic-000")["tasks"]
    for task in TARGET_QUANTITIES:  # the full trunk only where none of its tasks is banned
        excl = transfer_exclusions(task)
        seen = any(t["dataset"] in excl["exclude_tasks"]
                   or t["quantity"] in excl["exclude_quantities"] for t in full)
        allowed = "multitask_inorganic-000" in set(lib.search(kind="inorganic", **excl)["id"])
        assert allowed != seen, task


def test_multi_task_trunk_covers_the_inorganic_properties(lib):
    ids = lib.search(kind="inorganic", quantity="multi-task")["id"].tolist()
    assert ids == ["multitask_inorganic-000", "multitask_inorganic_heldout-000"]
    card = lib.card(ids[0])
    tasks = card["tasks"]
    assert len({t["property"] for t in tasks}) >= 30
    assert card["architecture"]["n_out"] == len(tasks)
    assert all(t["metrics"]["n"] > 0 and np.isfinite(t["metrics"]["mae"]) for t in tasks)
    assert not {t["dataset"] for t in tasks} & set(BENCHMARK_TARGETS)
    pred = lib.predict(ids[0], ["NaCl", "Fe2O3"])
    assert pred.shape == (2, len(tasks)) and np.isfinite(pred).all()


def test_every_composition_property_has_a_full_data_network(lib):
    """Beside the 20k-row shotgun: one network on every clean training row."""
    from skmdl.library.recipes import FULL_SOURCES

    for source in FULL_SOURCES:
        card = lib.card(f"{source.prefix}-000")
        t = card["training"]
        assert t["n_train"] + t["n_val"] + t["n_test"] == t["n_clean"], source.prefix
        assert card["quantity"] == source.quantity and card["fidelity"] == source.fidelity
    # the library issue's goal for the OQMD formation-enthalpy source (ElemNet: ~0.05)
    assert lib.card("oqmd_formation_enthalpy_full-000")["metrics"]["mae"] <= 0.08


def test_every_artifact_verifies(lib):
    report = lib.verify()
    assert report["ok"].all(), report[~report.ok]


def test_no_benchmark_target_is_a_source(lib):
    tasks = set(lib.search()["task"])
    assert not tasks & set(BENCHMARK_TARGETS)
    card = lib.card(lib.ids[0])
    assert set(card["excluded_targets"]) == set(BENCHMARK_TARGETS)


def test_size_budget():
    files = [p for p in default_library_path().rglob("*") if p.is_file()]
    assert sum(p.stat().st_size for p in files) <= 40e6  # the library issue's budget


def test_every_card_records_its_fidelity(lib):
    df = lib.search()
    assert df["fidelity"].notna().all() and (df["fidelity"].str.len() > 0).all(), \
        df[df["fidelity"].isna()]["id"].tolist()


def test_leak_free_alloy_sources_never_saw_four_elements(lib):
    from skmdl.datasets import load_task
    from skmdl.library.tasks import n_elements

    ids = lib.search(max_elements=3, quantity="formation energy")["id"].tolist()
    assert len(ids) >= 5
    for model_id in ids:
        card = lib.card(model_id)
        assert card["max_elements"] == 3
        assert "at most 3 elements" in card["training"]["cleaning"]
    # the cleaning rule holds on the data: every <= 3-element row kept, none other
    X, y, split = load_task("oqmd_formation_enthalpy", return_split=True)
    n = n_elements(list(X))
    clean = np.isfinite(y.to_numpy()) & (np.abs(y.to_numpy()) <= 5)
    networks = [i for i in ids if "_pairs" not in i]
    assert len(networks) >= 5
    assert lib.card(networks[-1])["training"]["n_clean"] == int((clean & (n <= 3)).sum())
    # the pair models: 90 % of the train split's all-metal rows of 2-3 elements
    from skmdl.descriptors.pairs import metal_symbols
    from skmdl.descriptors import parse_formula

    metals = set(metal_symbols())
    alloy = np.array([2 <= len(d) <= 3 and set(d) <= metals
                      for d in (parse_formula(f) for f in X)])
    n_train = int((clean & alloy & (np.asarray(split) == "train")).sum())
    pairs = [i for i in ids if "_pairs" in i]
    assert len(pairs) == 5
    for model_id in pairs:
        assert lib.card(model_id)["training"]["n_train"] == int(0.9 * n_train)


def test_source_models_are_useful(lib):
    # held-out R² of the best model per property: the library is not noise
    # (refractive index from composition alone is the hardest: R² ~ 0.1)
    df = lib.search()
    best = df[df["quantity"] != "multi-task"].groupby("property")["r2"].max()
    assert (best > 0.1).all(), best[best <= 0.1]
    assert np.median(best) > 0.7


def test_formation_enthalpy_model_is_physical(lib):
    ids = lib.search(task="oqmd_formation_enthalpy")["id"]
    pred = np.mean([lib.predict(i, ["NaCl", "Al2O3", "Fe"]) for i in ids], axis=0)
    assert pred[0] < -1.0 and pred[1] < -1.5 and abs(pred[2]) < 0.5  # eV/atom
