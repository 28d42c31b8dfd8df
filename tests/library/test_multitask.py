"""The multi-task trunk: masked joint training, its card, search exclusions, use as a source."""

import numpy as np
import pytest

from skmdl.library import ModelLibrary
from skmdl.library.multitask import build_multitask, stack_tasks, task_scaling

from tinylib import DATA, SOURCES, TINY_CONFIG, TINY_FEATURIZER, build_tiny

ARCH = {"hidden": [16, 8], "batch_size": 64}


@pytest.fixture(scope="module")
def trunk_library(tmp_path_factory):
    out = tmp_path_factory.mktemp("trunk")
    build_tiny(out, n_models=1)
    result = build_multitask(SOURCES, out, featurizer=TINY_FEATURIZER, name="toy_trunk",
                             config=TINY_CONFIG, arch=ARCH, data=DATA, library_name="tiny")
    assert result["trained"] == ["toy_trunk-000"]
    return out


def test_tasks_keep_their_own_splits_and_scaling():
    parts, prov = stack_tasks(SOURCES, TINY_FEATURIZER, 0, TINY_CONFIG, DATA)
    F, y, t = parts["train"]
    assert sorted(np.unique(t)) == [0, 1] and len(F) == len(y) == len(t)
    assert [p["n_train"] for p in prov] == [int((t == k).sum()) for k in (0, 1)]
    assert sum(len(parts[s][1]) for s in parts) == sum(p["n_clean"] for p in prov)
    mean, scale = task_scaling(np.array([1.0, 3.0, 10.0]), np.array([0, 0, 2]), 3)
    assert mean.tolist() == [2.0, 0.0, 10.0] and scale.tolist() == [1.0, 1.0, 1.0]


def test_trunk_card_predictions_and_rebuild(trunk_library):
    lib = ModelLibrary(trunk_library)
    card = lib.card("toy_trunk-000")
    assert [t["dataset"] for t in card["tasks"]] == ["toy_a", "toy_b"]
    assert card["architecture"]["n_out"] == 2 and card["quantity"] == "multi-task"
    assert all(t["metrics"]["n"] > 0 and t["fidelity"] is not None for t in card["tasks"])
    pred = lib.predict("toy_trunk-000", DATA["toy_a"][0][:20])
    assert pred.shape == (20, 2)
    # the first task's output learned the first task (smooth synthetic target)
    assert card["tasks"][0]["metrics"]["r2"] > 0.3
    assert lib.verify()["ok"].all()
    again = build_multitask(SOURCES, trunk_library, featurizer=TINY_FEATURIZER,
                            name="toy_trunk", config=TINY_CONFIG, arch=ARCH, data=DATA)
    assert again["skipped"] == ["toy_trunk-000"] and not again["trained"]


def test_search_drops_the_trunk_when_any_of_its_tasks_is_excluded(trunk_library):
    lib = ModelLibrary(trunk_library)
    assert "toy_trunk-000" in set(lib.search()["id"])
    assert "toy_trunk-000" in set(lib.search(quantity="multi-task")["id"])
    for kw in ({"exclude_tasks": ["toy_b"]}, {"exclude_quantities": ["toy"]}):
        ids = set(lib.search(**kw)["id"])
        assert "toy_trunk-000" not in ids and ids  # the other single-task models stay
    assert "toy_trunk-000" in set(lib.search(exclude_tasks=["elsewhere"])["id"])


def test_trunk_as_a_transfer_source(trunk_library):
    from skmdl.transfer import PretrainedFeaturizer, TransferRegressor

    X, y = DATA["toy_b"]
    H = PretrainedFeaturizer(models=["toy_trunk-000"], layers=[-1, "output"],
                             library=str(trunk_library)).fit(X[:30]).transform(X[:30])
    assert H.shape == (30, 8 + 2)
    est = TransferRegressor(sources=["toy_trunk-000", "toy_a-000"], library=str(trunk_library),
                            random_state=0).fit(X[:60], y[:60])
    assert np.isfinite(est.predict(X[60:80])).all()


def test_benchmark_targets_and_duplicate_names_are_refused(tmp_path):
    from skmdl.library import SourceTask

    steels = SourceTask("matbench_steels", "yield strength", "yield strength", "MPa")
    with pytest.raises(ValueError, match="benchmark targets"):
        build_multitask([steels], tmp_path, data={"matbench_steels": (["Fe"], [1.0])})
    with pytest.raises(ValueError, match="distinct names"):
        build_multitask([SOURCES[0], SOURCES[0]], tmp_path, data=DATA)
