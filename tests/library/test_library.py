import json
import shutil

import numpy as np
import pytest
import torch

from skmdl.exceptions import UnknownModelError
from skmdl.library import ArtifactIntegrityError, ModelLibrary, source_name
from skmdl.library.artifact import CARD, WEIGHTS, load_artifact


def copy_lib(tiny_library, tmp_path):
    dst = tmp_path / "lib"
    shutil.copytree(tiny_library, dst)
    return dst


def test_search(tiny_library):
    lib = ModelLibrary(tiny_library)
    assert len(lib) == 4
    df = lib.search()
    assert list(df["id"]) == ["toy_a-000", "toy_a-001", "toy_b-000", "toy_b-001"]
    assert set(df["kind"]) == {"inorganic"}
    assert len(lib.search(property="toy property A")) == 2
    assert len(lib.search(property=["toy property A", "toy property B"])) == 4
    assert len(lib.search(text="PROPERTY b")) == 2
    assert len(lib.search(kind="molecule")) == 0
    assert len(lib.search(exclude_tasks=["toy_a"])) == 2
    assert len(lib.search(min_r2=-np.inf)) == 4
    assert len(lib.search(min_r2=2.0)) == 0
    assert df["descriptor"].iloc[0] == "composition:magpie:mean-max"


def test_search_by_source_keeps_a_shotgun_apart_from_its_full_data_network(tiny_library):
    lib = ModelLibrary(tiny_library)
    assert list(lib.search(source="toy_a")["id"]) == ["toy_a-000", "toy_a-001"]
    assert len(lib.search(source=["toy_a", "toy_b"])) == 4
    assert len(lib.search(source="toy")) == 0  # exact, not a prefix match
    assert [source_name(i) for i in ("x_full-000", "x-012", "x-y", "x")] == \
        ["x_full", "x", "x-y", "x"]


def test_volume_model_uses_the_shotgun_ensemble_only():
    from skmdl.csp.volume import VolumeModel

    lib = ModelLibrary.default()
    ids = VolumeModel().model_ids()
    assert len(ids) == 5 and all(source_name(i) == VolumeModel.TASK for i in ids)
    assert f"{VolumeModel.TASK}_full-000" in lib  # there, and left out on purpose


def test_entry_name_and_quantity_are_public(tiny_library):
    lib = ModelLibrary(tiny_library)
    assert lib.name == "tiny"
    row = lib.entry("toy_b-001")
    assert row["quantity"] == lib.card("toy_b-001")["quantity"] == lib.quantity("toy_b-001")
    assert row["path"] == "models/toy_b-001" and set(row["sha256"]) == {"card", "weights"}
    row["sha256"]["card"] = "0" * 64  # a copy: the library keeps its checksums
    assert lib.entry("toy_b-001")["sha256"]["card"] != "0" * 64
    with pytest.raises(UnknownModelError, match="did you mean") as info:
        lib.entry("toy_b-01")
    assert info.value.model_id == "toy_b-01" and isinstance(info.value, KeyError)


def test_quantity_filters_read_the_index_not_the_cards(tiny_library, monkeypatch):
    lib = ModelLibrary(tiny_library)
    quantities = dict(zip(lib.search()["id"], lib.search()["quantity"]))
    q = quantities["toy_a-000"]
    monkeypatch.setattr(ModelLibrary, "card", lambda self, i: pytest.fail("read a card"))
    assert set(lib.search(quantity=q)["id"]) == {i for i, v in quantities.items() if v == q}
    assert set(lib.search(exclude_quantities=[q])["id"]) == {
        i for i, v in quantities.items() if v != q}


def test_an_index_without_quantities_still_filters_by_them(tiny_library, tmp_path):
    """Indexes written before ``quantity`` was a summary field: the cards are read instead."""
    root = copy_lib(tiny_library, tmp_path)
    index = json.loads((root / "index.json").read_text())
    for e in index["models"]:
        del e["quantity"]
    (root / "index.json").write_text(json.dumps(index))
    lib = ModelLibrary(root)
    q = lib.card("toy_a-000")["quantity"]
    assert lib.search()["quantity"].isna().all()
    assert lib.quantity("toy_a-000") == q
    expected = [i for i in lib.ids if lib.card(i)["quantity"] != q]
    assert lib.search(exclude_quantities=[q])["id"].tolist() == expected


def test_card_contents(tiny_library):
    card = ModelLibrary(tiny_library).card("toy_b-001")
    assert card["id"] == "toy_b-001"
    assert card["property"] == "toy property B" and card["unit"] == "eV"
    assert card["descriptor"]["class"] == "CompositionFeaturizer"
    assert card["descriptor"]["params"]["stats"] == ["mean", "max"]
    assert len(card["descriptor"]["element_table_hash"]) == 64
    assert card["architecture"]["n_in"] == 44
    assert {"mae", "rmse", "r2", "n"} <= set(card["metrics"])
    assert card["training"]["n_train"] + card["training"]["n_val"] + \
        card["training"]["n_test"] == card["training"]["n_clean"]
    assert "outside [None, 100.0]" in card["training"]["cleaning"]
    assert "matbench_steels" in card["excluded_targets"]
    assert card["license"] == "synthetic"


def test_load_predict_hidden(tiny_library):
    lib = ModelLibrary(tiny_library)
    module, featurizer = lib.load("toy_a-000")
    assert not module.training
    X = ["Fe2O3", "NaCl", "LiCoO2"]
    F = torch.as_tensor(featurizer.transform(X), dtype=torch.float32)
    with torch.no_grad():
        direct = module(F).numpy()[:, 0]
    np.testing.assert_allclose(lib.predict("toy_a-000", X), direct, rtol=1e-6)
    widths = lib.card("toy_a-000")["architecture"]["hidden"]
    H = lib.hidden("toy_a-000", X, layers=list(range(len(widths))))
    assert H.shape == (3, sum(widths)) and H.dtype == np.float32
    assert lib.hidden("toy_a-000", X).shape == (3, widths[-1])
    with pytest.raises(ValueError, match="out of range"):
        lib.hidden("toy_a-000", X, layers=[5])
    with pytest.raises(KeyError, match="did you mean"):
        lib.load("toy_a-00")


def test_predictions_learn_something(tiny_library):
    # a few epochs of a tiny net on a smooth target: clearly better than the mean
    lib = ModelLibrary(tiny_library)
    r2 = lib.search()["r2"].astype(float)
    assert (r2 > 0.2).all(), r2


def test_tampered_weights_raise(tiny_library, tmp_path):
    root = copy_lib(tiny_library, tmp_path)
    w = root / "models" / "toy_a-000" / WEIGHTS
    data = bytearray(w.read_bytes())
    data[-5] ^= 0xFF  # flip one byte of a weight
    w.write_bytes(bytes(data))
    lib = ModelLibrary(root)
    with pytest.raises(ArtifactIntegrityError, match=r"toy_a-000.*weights.safetensors.*sha256"):
        lib.load("toy_a-000")
    report = lib.verify()
    assert list(report[~report.ok]["id"]) == ["toy_a-000"]
    lib.load("toy_a-001")  # others still load


def test_tampered_card_raises(tiny_library, tmp_path):
    root = copy_lib(tiny_library, tmp_path)
    c = root / "models" / "toy_b-000" / CARD
    card = json.loads(c.read_text())
    card["architecture"]["hidden"] = [999]
    c.write_text(json.dumps(card))
    with pytest.raises(ArtifactIntegrityError, match="card.json.*sha256"):
        ModelLibrary(root).load("toy_b-000")


def test_truncated_weights_clear_error_without_index(tiny_library, tmp_path):
    root = copy_lib(tiny_library, tmp_path)
    folder = root / "models" / "toy_a-001"
    w = folder / WEIGHTS
    w.write_bytes(w.read_bytes()[:100])
    with pytest.raises(ArtifactIntegrityError, match="sha256"):
        ModelLibrary(root).load("toy_a-001")
    # even without checksums (a bare artifact folder) truncation is a clear error
    with pytest.raises(ArtifactIntegrityError, match="unreadable weights"):
        load_artifact(folder)


def test_missing_file_and_bad_index(tiny_library, tmp_path):
    root = copy_lib(tiny_library, tmp_path)
    (root / "models" / "toy_b-001" / WEIGHTS).unlink()
    with pytest.raises(ArtifactIntegrityError, match="missing"):
        ModelLibrary(root).load("toy_b-001")
    (root / "index.json").write_text("{not json")
    with pytest.raises(ArtifactIntegrityError, match="unreadable library index"):
        ModelLibrary(root)
    with pytest.raises(FileNotFoundError, match="no model library index"):
        ModelLibrary(tmp_path / "nowhere")


def test_weights_of_wrong_shape(tiny_library, tmp_path):
    root = copy_lib(tiny_library, tmp_path)
    a, b = root / "models" / "toy_a-000", root / "models" / "toy_b-000"
    cards = [json.loads((p / CARD).read_text()) for p in (a, b)]
    if cards[0]["architecture"]["hidden"] == cards[1]["architecture"]["hidden"]:
        pytest.skip("same architecture drawn")
    shutil.copy(a / WEIGHTS, b / WEIGHTS)
    with pytest.raises(ArtifactIntegrityError, match="do not fit the card"):
        load_artifact(b)


def test_no_pickle_anywhere(tiny_library):
    for path in tiny_library.rglob("*"):
        if path.is_file():
            assert path.suffix in {".json", ".safetensors"}, path
            assert not path.read_bytes().startswith(b"\x80"), f"{path} looks like a pickle"
