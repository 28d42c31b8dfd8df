import json
import os
import zipfile

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from sklearn.ensemble import ExtraTreesRegressor, RandomForestRegressor
from sklearn.pipeline import make_pipeline

from skmdl.descriptors import CompositionFeaturizer
from skmdl.library import ArtifactIntegrityError, ModelLibrary
from skmdl.transfer import (AffineTransferRegressor, PretrainedFeaturizer, TransferClassifier,
                            TransferRegressor)
from skmdl.transfer.saving import (UntrustedTypeError, exportable_regressor, load_model,
                                   load_transfer_model, model_digest, save_model,
                                   save_transfer_model, trusted_types)
from tinylib import synthetic_task


@pytest.fixture(scope="module")
def data():
    X, y = synthetic_task(n=80, seed=3)
    return pd.Series(X), y * 3 - 1


def _estimators(lib):
    """One of each kind a model folder holds: every fitted thing skmdl makes."""
    ids = ["toy_a-000", "toy_b-001"]
    return {
        "default": TransferRegressor(library=lib, n_sources=2, random_state=0),
        "descriptors": TransferRegressor(
            library=ModelLibrary(lib), n_sources=2, random_state=np.random.RandomState(1),
            descriptors=CompositionFeaturizer(element_fractions=True),
            head=ExtraTreesRegressor(n_estimators=20, random_state=0)),
        "ridge": exportable_regressor(library=lib, n_sources=1, random_state=0),
        "finetune": TransferRegressor(library=lib, n_sources=2, mode="finetune",
                                      finetune_params={"max_epochs": 5, "patience": 3},
                                      calibration_cv=3, random_state=0),
        "affine": AffineTransferRegressor(sources=ids, library=lib, random_state=0),
        "pipeline": make_pipeline(PretrainedFeaturizer(models=ids, library=lib),
                                  RandomForestRegressor(n_estimators=10, random_state=0)),
    }


@pytest.mark.parametrize("name", ["default", "descriptors", "ridge", "finetune", "affine",
                                  "pipeline"])
def test_saved_model_predicts_exactly_as_the_fitted_one(tiny_library, data, tmp_path, name):
    X, y = data
    model = _estimators(str(tiny_library))[name].fit(X, y)
    save_model(model, tmp_path / "m", {"target": "toy"})
    loaded, card = load_model(tmp_path / "m", return_card=True)
    assert type(loaded) is type(model) and card["target"] == "toy"
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    if isinstance(model, TransferRegressor):
        assert loaded.sources_ == model.sources_
        np.testing.assert_array_equal(loaded.predict(X, return_std=True)[1],
                                      model.predict(X, return_std=True)[1])
        np.testing.assert_array_equal(loaded.predict_interval(X, 0.1),
                                      model.predict_interval(X, 0.1))
        pd.testing.assert_frame_equal(loaded.screening_, model.screening_)
        assert loaded.get_params(deep=False).keys() == model.get_params(deep=False).keys()
    # never a pickle: the estimator as skops data, networks as safetensors
    files = {p.relative_to(tmp_path / "m").as_posix() for p in (tmp_path / "m").rglob("*")
             if p.is_file()}
    assert {os.path.splitext(f)[1] for f in files} <= {".json", ".skops", ".safetensors"}
    assert not any(n.endswith(".pt") or n.endswith(".pkl") for n in files)
    with zipfile.ZipFile(tmp_path / "m" / "estimator.skops") as z:
        assert not any("torch" in z.read(n).decode("latin-1") for n in z.namelist()
                       if n.endswith(".json"))


def test_saved_transfer_classifier(tiny_library, data, tmp_path):
    X, y = data
    labels = np.where(y > np.median(y), "high", "low")
    clf = TransferClassifier(library=str(tiny_library), n_sources=2, random_state=0).fit(X, labels)
    save_transfer_model(clf, tmp_path / "m")  # the 0.1 name still works
    loaded = load_transfer_model(tmp_path / "m")
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    assert list(loaded.classes_) == ["high", "low"]


def test_model_folder_is_a_library_of_the_source_networks(tiny_library, data, tmp_path):
    X, y = data
    model = TransferRegressor(library=str(tiny_library), n_sources=2, random_state=0,
                              calibration_cv=None).fit(X, y)
    save_model(model, tmp_path / "m")
    lib = ModelLibrary(tmp_path / "m")
    # the networks the kept members use: the shortlist and, for ``outputs``, every candidate
    assert lib.ids == sorted(model.source_models_.ids)
    assert set(model.sources_) <= set(lib.ids)
    assert lib.verify()["ok"].all()
    loaded = load_model(tmp_path / "m")
    assert loaded.library == str(tiny_library)  # the parameter it was fitted with
    assert loaded.source_models_.ids == model.source_models_.ids


def test_load_refuses_changed_files(tiny_library, data, tmp_path):
    X, y = data
    model = TransferRegressor(library=str(tiny_library), n_sources=1, random_state=0,
                              head=ExtraTreesRegressor(n_estimators=5)).fit(X, y)
    folder = tmp_path / "m"
    save_model(model, folder)
    with pytest.raises(FileExistsError):
        save_model(model, folder)
    body = json.loads((folder / "model.json").read_text())
    body["card"]["target"] = "edited"  # a plausible edit, digest not updated
    (folder / "model.json").write_text(json.dumps(body))
    with pytest.raises(ArtifactIntegrityError, match="differs from its recorded sha256"):
        load_model(folder)
    save_model(model, folder, overwrite=True)
    data_ = bytearray((folder / "estimator.skops").read_bytes())
    data_[len(data_) // 2] ^= 1  # one bit of the estimator file
    (folder / "estimator.skops").write_bytes(bytes(data_))
    with pytest.raises(ArtifactIntegrityError, match=r"estimator.skops: sha256 .* tampered"):
        load_model(folder)
    save_model(model, folder, overwrite=True)
    body = json.loads((folder / "model.json").read_text())
    body["files"]["../outside"] = "0" * 64
    body.pop("sha256")
    body["sha256"] = model_digest(body)
    (folder / "model.json").write_text(json.dumps(body))
    with pytest.raises(ArtifactIntegrityError, match="outside the model folder"):
        load_model(folder)
    with pytest.raises(FileNotFoundError, match="not a saved skmdl model"):
        load_model(tmp_path)


class Payload:
    """What an attacker would like skmdl to build: it records that it was built."""

    built = False

    def __setstate__(self, state):
        Payload.built = True


def _reseal(folder):
    """Rewrite ``model.json`` with true checksums, as someone who controls the folder can."""
    from skmdl.library.artifact import sha256_file

    body = json.loads((folder / "model.json").read_text())
    body["files"] = {k: sha256_file(folder / k) for k in body["files"]}
    body.pop("sha256")
    body["sha256"] = model_digest(body)
    (folder / "model.json").write_text(json.dumps(body))


@pytest.mark.parametrize("payload, type_name", [
    (Payload(), f"{Payload.__module__}.Payload"),
    (os.system, "posix.system" if os.name == "posix" else "nt.system"),
])
def test_a_file_asking_for_an_untrusted_type_is_refused(tiny_library, data, tmp_path,
                                                        payload, type_name):
    X, y = data
    model = make_pipeline(CompositionFeaturizer(), ExtraTreesRegressor(n_estimators=3))
    model.fit(X, y)
    folder = tmp_path / "m"
    save_model(model, folder)
    # a crafted estimator file with valid checksums: only the type list protects the loader
    forest = model.steps[-1][1]
    forest.extra_ = payload
    (folder / "estimator.skops").write_bytes(sio.dumps(forest))
    _reseal(folder)
    with pytest.raises(UntrustedTypeError, match="not on skmdl's trusted list") as info:
        load_model(folder)
    assert type_name in info.value.types and not Payload.built
    assert str(folder / "estimator.skops") in str(info.value)


def test_saving_refuses_what_loading_would_refuse(data, tmp_path):
    X, y = data
    model = make_pipeline(CompositionFeaturizer(), ExtraTreesRegressor(n_estimators=3)).fit(X, y)
    model.steps[-1][1].fitted_with_ = Payload()
    with pytest.raises(TypeError, match=rf"{Payload.__module__}\.Payload.*trusted_types"):
        save_model(model, tmp_path / "m")
    assert list(tmp_path.iterdir()) == []  # nothing written, no temporary folder left


def test_trusted_types_are_a_short_explicit_list():
    names = trusted_types()
    assert "skmdl.transfer.estimators.TransferRegressor" in names
    assert "sklearn.tree._tree.Tree" in names
    assert all(n.startswith(("skmdl.", "sklearn.")) for n in names)
    assert not any(n.startswith(("builtins.", "os.", "posix.", "torch.")) for n in names)


def test_unsaved_torch_modules_are_refused(tiny_library, data, tmp_path):
    import torch

    X, y = data
    model = make_pipeline(CompositionFeaturizer(), ExtraTreesRegressor(n_estimators=3)).fit(X, y)
    model.steps[-1][1].net_ = torch.nn.Linear(2, 1)
    with pytest.raises(TypeError, match="only skmdl's MLP networks"):
        save_model(model, tmp_path / "m")
