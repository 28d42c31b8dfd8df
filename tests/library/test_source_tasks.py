"""Source-task options of the library v2: fidelity, max_elements, log10 targets, id prefixes."""

import json
from dataclasses import replace

import numpy as np
import pytest

from skmdl.library import ModelLibrary, SourceTask, build
from skmdl.library.recipes import ALLOY_SOURCES, PRESETS, TRANSPORT_SOURCES, preset_sources
from skmdl.library.tasks import n_elements

from tinylib import DATA, TINY_CONFIG, TINY_FEATURIZER


def _tiny(out, sources, n_models=1):
    data = {s.prefix: DATA["toy_a"] for s in sources}
    return build(sources, out, featurizer=TINY_FEATURIZER, n_models=n_models,
                 config=TINY_CONFIG, data=data, name="tiny")


def test_max_elements_keeps_only_small_compositions_and_is_recorded(tmp_path):
    X, _ = DATA["toy_a"]
    sources = [SourceTask("toy_a", "toy, <= 2 elements", "toy", "1", fidelity="synthetic",
                          max_elements=2, name="toy_a_le2"),
               SourceTask("toy_a", "toy", "toy", "1", fidelity="synthetic")]
    _tiny(tmp_path, sources)
    lib = ModelLibrary(tmp_path)
    assert sorted(lib.ids) == ["toy_a-000", "toy_a_le2-000"]
    small, full = lib.card("toy_a_le2-000"), lib.card("toy_a-000")
    assert small["max_elements"] == 2 and "max_elements" not in full
    assert small["training"]["n_clean"] == int((n_elements(X) <= 2).sum()) < len(X)
    assert full["training"]["n_clean"] == len(X)
    assert "at most 2 elements" in small["training"]["cleaning"]
    assert small["fidelity"] == "synthetic"
    # one data set, two sources: the architectures are drawn per id prefix
    assert small["architecture"] != full["architecture"] or small["training"]["lr"] != \
        full["training"]["lr"]
    assert lib.search(max_elements=2)["id"].tolist() == ["toy_a_le2-000"]
    assert lib.search(max_elements=1).empty
    assert len(lib.search(fidelity="synthetic")) == 2
    # excluding the data set excludes both sources (no leak through a second name)
    assert lib.search(exclude_tasks=["toy_a"]).empty


def test_log10_transform_drops_non_positive_targets(tmp_path):
    X, y = DATA["toy_a"]
    y = np.where(np.arange(len(y)) % 4 == 0, -1.0, np.abs(y) + 0.1)
    build([SourceTask("toy_log", "log toy", "toy", "log10 1", transform="log10")], tmp_path,
          featurizer=TINY_FEATURIZER, n_models=1, config=TINY_CONFIG,
          data={"toy_log": (X, y)})
    card = ModelLibrary(tmp_path).card("toy_log-000")
    assert card["transform"] == "log10"
    assert card["training"]["n_clean"] == int((y > 0).sum())
    pred = ModelLibrary(tmp_path).predict("toy_log-000", X[:20])
    assert np.all(np.abs(pred) < 3)  # on the log scale, not the raw one


def test_unknown_transform_is_refused():
    with pytest.raises(ValueError, match="transform"):
        SourceTask("t", "p", "q", "u", transform="sqrt")


def test_rebuild_refreshes_card_metadata_but_not_weights(tmp_path):
    source = SourceTask("toy_a", "toy", "toy", "1")
    _tiny(tmp_path, [source])
    weights = (tmp_path / "models" / "toy_a-000" / "weights.safetensors").read_bytes()
    metrics = ModelLibrary(tmp_path).card("toy_a-000")["metrics"]
    again = _tiny(tmp_path, [SourceTask("toy_a", "toy", "toy", "1", fidelity="made up")])
    assert again["trained"] == []
    lib = ModelLibrary(tmp_path)
    assert lib.card("toy_a-000")["fidelity"] == "made up"
    assert lib.card("toy_a-000")["metrics"] == metrics
    assert (tmp_path / "models" / "toy_a-000" / "weights.safetensors").read_bytes() == weights
    assert lib.verify().ok.all()  # the index was re-hashed
    assert lib.search()["fidelity"].tolist() == ["made up"]


def test_recipes_record_fidelity_and_the_alloy_source_is_leak_free():
    sources = preset_sources("default")
    assert all(s.fidelity for s in sources)
    assert len({s.prefix for s in sources}) == len(sources)
    full = [s for s in sources if s.prefix.endswith("_full")]
    assert len({s.property for s in sources}) == len(sources) - len(full)
    shotgun = {s.prefix: s for s in sources}  # each full-data network beside its property's shotgun
    assert full and all(replace(shotgun[s.prefix[:-5]], name=s.name) == s for s in full)
    assert len({s.property for s in sources if s.kind == "inorganic"}) >= 30
    (alloy,) = ALLOY_SOURCES
    assert alloy.max_elements == 3 and alloy.prefix != alloy.task
    assert {s.transform for s in TRANSPORT_SOURCES} == {None, "log10"}
    assert set(PRESETS) == {"default", "extended", "full_v2", "full_v3", "strong"}
    assert all(n >= 50 for _, _, n in PRESETS["extended"])


def test_cli_build_refuses_an_unknown_task(tmp_path, capsys):
    from skmdl.cli import main

    assert main(["library", "build", "--out", str(tmp_path), "--tasks", "no_such_task"]) != 0
    assert "no_such_task" in capsys.readouterr().err


def test_cli_search_by_fidelity_and_max_elements(tmp_path, capsys):
    from skmdl.cli import main

    _tiny(tmp_path, [SourceTask("toy_a", "toy, <= 2", "toy", "1", fidelity="synthetic",
                                max_elements=2, name="toy_small")])
    assert main(["library", "search", "--library", str(tmp_path), "--max-elements", "2",
                 "--fidelity", "synthetic"]) == 0
    assert "toy_small-000" in capsys.readouterr().out
    assert main(["library", "search", "--library", str(tmp_path), "--max-elements", "1"]) == 0
    assert "(no models)" in capsys.readouterr().out
    index = json.loads((tmp_path / "index.json").read_text())
    assert index["models"][0]["max_elements"] == 2


def test_cosine_schedule_is_recorded_and_changes_training(tmp_path):
    source = [SourceTask("toy_a", "toy", "toy", "1")]
    for name, schedule in (("constant", "constant"), ("cosine", "cosine")):
        build(source, tmp_path / name, featurizer=TINY_FEATURIZER, n_models=1,
              config=replace(TINY_CONFIG, schedule=schedule), data={"toy_a": DATA["toy_a"]})
    cards = {n: ModelLibrary(tmp_path / n).card("toy_a-000") for n in ("constant", "cosine")}
    assert cards["cosine"]["training"]["lr_schedule"] == "cosine"
    assert cards["constant"]["training"]["lr_schedule"] == "constant"
    weights = [(tmp_path / n / "models" / "toy_a-000" / "weights.safetensors").read_bytes()
               for n in ("constant", "cosine")]
    assert weights[0] != weights[1]
    with pytest.raises(ValueError, match="schedule"):
        build(source, tmp_path / "bad", featurizer=TINY_FEATURIZER, n_models=1,
              config=replace(TINY_CONFIG, schedule="step"), data={"toy_a": DATA["toy_a"]})
