"""The library embedded in the package: complete, intact, small, leak-free."""

import numpy as np
import pytest

from skmdl.library import BENCHMARK_TARGETS, ModelLibrary
from skmdl.library.library import default_library_path


@pytest.fixture(scope="module")
def lib():
    return ModelLibrary.default()


def test_at_least_20_inorganic_properties_with_5_models_each(lib):
    df = lib.search(kind="inorganic")
    counts = df.groupby("property").size()
    assert len(counts) >= 20, counts
    assert (counts >= 5).all(), counts[counts < 5]
    assert df[["mae", "rmse", "r2", "n_test"]].notna().all().all()


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
    assert sum(p.stat().st_size for p in files) <= 30e6


def test_source_models_are_useful(lib):
    # held-out R² of the best model per property: the library is not noise
    # (refractive index from composition alone is the hardest: R² ~ 0.1)
    best = lib.search().groupby("property")["r2"].max()
    assert (best > 0.1).all(), best[best <= 0.1]
    assert np.median(best) > 0.7


def test_formation_enthalpy_model_is_physical(lib):
    ids = lib.search(task="oqmd_formation_enthalpy")["id"]
    pred = np.mean([lib.predict(i, ["NaCl", "Al2O3", "Fe"]) for i in ids], axis=0)
    assert pred[0] < -1.0 and pred[1] < -1.5 and abs(pred[2]) < 0.5  # eV/atom
