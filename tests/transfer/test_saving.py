import json

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import ExtraTreesRegressor

from skmdl.library import ArtifactIntegrityError
from skmdl.transfer.saving import (exportable_regressor, load_transfer_model,
                                   save_transfer_model)
from tinylib import synthetic_task


@pytest.fixture(scope="module")
def data():
    X, y = synthetic_task(n=80, seed=3)
    return pd.Series(X), y * 3 - 1


@pytest.mark.parametrize("mode", ["frozen", "finetune"])
def test_saved_model_predicts_as_the_fitted_one(tiny_library, data, tmp_path, mode):
    X, y = data
    model = exportable_regressor(library=str(tiny_library), n_sources=2, mode=mode,
                                 finetune_params={"max_epochs": 6, "patience": 3},
                                 calibration_cv=3, random_state=0).fit(X, y)
    save_transfer_model(model, tmp_path / "m", {"target": "toy"})
    saved = load_transfer_model(tmp_path / "m")
    assert saved.card["target"] == "toy" and saved.card["mode"] == mode
    assert [m["source"] for m in saved.card["members"]] == model.sources_
    mean, std = model.predict(X, return_std=True)
    s_mean, s_std = saved.predict(X, return_std=True)
    # the same ensemble up to float32 weights
    np.testing.assert_allclose(s_mean, mean, rtol=1e-4, atol=1e-4 * np.ptp(y))
    np.testing.assert_allclose(s_std, std, atol=1e-3 * np.ptp(y))
    np.testing.assert_allclose(saved.predict_interval(X, 0.1), model.predict_interval(X, 0.1),
                               atol=1e-2 * np.ptp(y))
    if mode == "frozen":
        assert np.corrcoef(s_mean, y)[0, 1] > 0.9


def test_only_network_members_are_saved(tiny_library, data, tmp_path):
    X, y = data
    model = exportable_regressor(library=str(tiny_library), n_sources=1, random_state=0,
                                 head=ExtraTreesRegressor(n_estimators=5)).fit(X, y)
    with pytest.raises(ValueError, match="only linear heads"):
        save_transfer_model(model, tmp_path / "m")
    assert not (tmp_path / "m").exists() and list(tmp_path.iterdir()) == []


def test_load_refuses_changed_files(tiny_library, data, tmp_path):
    X, y = data
    model = exportable_regressor(library=str(tiny_library), n_sources=1,
                                 random_state=0).fit(X, y)
    folder = tmp_path / "m"
    save_transfer_model(model, folder)
    with pytest.raises(FileExistsError):
        save_transfer_model(model, folder)
    body = json.loads((folder / "model.json").read_text())
    body["calibration"]["sd_floor"] *= 2  # a plausible edit, digest not updated
    (folder / "model.json").write_text(json.dumps(body))
    with pytest.raises(ArtifactIntegrityError, match="differs from its recorded sha256"):
        load_transfer_model(folder)
    save_transfer_model(model, folder, overwrite=True)
    body = json.loads((folder / "model.json").read_text())
    body["files"]["../outside"] = "0" * 64
    from skmdl.transfer.saving import _digest

    body.pop("sha256")
    body["sha256"] = _digest(body)
    (folder / "model.json").write_text(json.dumps(body))
    with pytest.raises(ArtifactIntegrityError, match="outside the model folder"):
        load_transfer_model(folder)
    with pytest.raises(FileNotFoundError, match="not a saved skmdl model"):
        load_transfer_model(tmp_path)
