"""Molecule and polymer models of the embedded library: present, described, small, leak-free."""

import numpy as np
import pytest

from skmdl.library import ModelLibrary
from skmdl.library.artifact import featurizer_from_spec
from skmdl.library.library import default_library_path
from skmdl.library.recipes_organic import (MOLECULE_SOURCES, POLYMER_SOURCES, POLYMER_TARGETS,
                                           polymer_transfer_exclusions)


@pytest.fixture(scope="module")
def lib():
    return ModelLibrary.default()


@pytest.mark.parametrize("kind, sources, n_min", [("molecule", MOLECULE_SOURCES, 5),
                                                   ("polymer", POLYMER_SOURCES, 5)])
def test_every_source_property_has_models_with_metrics(lib, kind, sources, n_min):
    df = lib.search(kind=kind)
    counts = df.groupby("task").size()
    assert set(counts.index) == {s.task for s in sources}
    assert (counts >= n_min).all(), counts
    assert df[["mae", "rmse", "r2", "n_test"]].notna().all().all()
    assert (df.groupby("task")["r2"].max() > 0.1).all()


def test_cards_describe_kind_property_and_descriptor(lib):
    for kind, polymer in (("molecule", None), ("polymer", "cap")):
        model_id = lib.search(kind=kind)["id"].iloc[0]
        card = lib.card(model_id)
        assert card["kind"] == kind and card["property"] and card["quantity"]
        spec = card["descriptor"]
        assert spec["class"] == "RDKitDescriptors" and spec["params"]["polymer"] == polymer
        assert spec["n_features"] == len(spec["params"]["descriptors"]) > 200
        f = featurizer_from_spec(spec)
        assert f.polymer == polymer
        assert set(POLYMER_TARGETS) <= set(card["excluded_targets"])


def test_no_polymer_benchmark_target_is_a_source(lib):
    assert not set(lib.search()["task"]) & set(POLYMER_TARGETS)


def test_thermal_conductivity_sources_are_not_candidates_for_tc(lib):
    from skmdl.transfer import TransferRegressor

    ex = polymer_transfer_exclusions("opp2025_tc")
    ids = TransferRegressor(kind="polymer", **ex).candidate_sources(lib)
    assert ids
    assert all(lib.card(i)["quantity"] != "thermal conductivity" for i in ids)
    assert lib.search(task="radonpy_thermal_conductivity")["id"].tolist()  # but it exists


def test_molecule_and_polymer_part_is_small(lib):
    df = lib.search(kind=["molecule", "polymer"])
    root = default_library_path()
    size = sum(p.stat().st_size for i in df["id"] for p in (root / "models" / i).iterdir())
    assert size <= 8e6


def test_polymer_density_model_is_physical(lib):
    ids = lib.search(task="radonpy_density")["id"]
    # polyethylene, polystyrene, PTFE (g/cm^3; experiment ~0.9, 1.05, 2.2)
    pred = np.mean([lib.predict(i, ["*CC*", "*CC(*)c1ccccc1", "*C(F)(F)C(F)(F)*"])
                    for i in ids], axis=0)
    assert 0.7 < pred[0] < 1.1 and 0.9 < pred[1] < 1.3 and pred[2] > 1.5
    assert pred[0] < pred[1] < pred[2]


def test_qm9_gap_model_is_physical(lib):
    ids = lib.search(task="qm9_gap")["id"]
    pred = np.mean([lib.predict(i, ["CCCCC", "C=CC=CC=C"]) for i in ids], axis=0)
    assert pred[0] > pred[1] > 0  # conjugation closes the gap (Hartree)
