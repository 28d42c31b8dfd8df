"""``skmdl fit`` fits what ``TransferRegressor()`` fits; ``skmdl predict`` predicts as it does."""

import json
import shutil

import numpy as np
import pandas as pd
import pytest
import skops.io as sio

from skmdl.cli import main
from skmdl.library.artifact import sha256_file
from skmdl.transfer import TransferClassifier, TransferRegressor
from skmdl.transfer.saving import load_model, model_digest


def _predict(model, table, out, *args):
    assert main(["predict", str(model), str(table), "--out", str(out), "--quiet", *args]) == 0
    return pd.read_csv(out, float_precision="round_trip")


def test_cli_model_is_the_api_default(steels, fitted, fit_sources, tmp_path):
    path, X, y = steels
    api = TransferRegressor(sources=fit_sources, n_sources=2, combine="mean",
                            random_state=0).fit(X, y)
    loaded = load_model(fitted)
    assert loaded.get_params(deep=False) == {**api.get_params(deep=False),
                                             "exclude_tasks": []}
    assert loaded.sources_ == api.sources_
    df = _predict(fitted, path, tmp_path / "p.csv", "--alpha", "0.2")
    mean, std = api.predict(X, return_std=True)
    np.testing.assert_array_equal(df["yield_strength_pred"], mean)
    np.testing.assert_array_equal(df["yield_strength_std"], std)
    np.testing.assert_array_equal(df[["yield_strength_lo80", "yield_strength_hi80"]],
                                  api.predict_interval(X, alpha=0.2))
    # rows it was not fitted on: the members disagree, the interval is wider than the spread
    from skmdl.datasets import load_sample

    new = tmp_path / "new.csv"
    pd.DataFrame({"formula": load_sample("matbench_steels")[0][100:120]}).to_csv(new, index=False)
    df = _predict(fitted, new, tmp_path / "new_pred.csv")
    assert (df["yield_strength_std"] > 0).all()
    assert (df["yield_strength_hi90"] - df["yield_strength_pred"]
            > df["yield_strength_std"]).all()


def test_fit_predict_classification(steels, fit_sources, tmp_path):
    path, X, y = steels
    labels = np.where(y > np.median(y), "strong", "weak")
    table = tmp_path / "classes.csv"
    pd.DataFrame({"formula": X, "grade": labels}).to_csv(table, index=False)
    folder = tmp_path / "clf"
    assert main(["fit", str(table), "--target", "grade", "--task", "classification",
                 "--out", str(folder), "--sources", *fit_sources[:3], "--n-sources", "2",
                 "--cv", "2", "--quiet"]) == 0
    card = json.loads((folder / "model.json").read_text())["card"]
    assert card["task"] == "classification" and card["classes"] == ["strong", "weak"]
    assert 0.5 < card["metrics"]["cv_accuracy"] <= 1
    df = _predict(folder, table, tmp_path / "p.csv")
    assert list(df.columns) == ["formula", "grade", "grade_pred", "grade_proba_strong",
                                "grade_proba_weak"]
    api = TransferClassifier(sources=fit_sources[:3], n_sources=2, random_state=0)
    api.fit(X, labels)
    np.testing.assert_array_equal(df[["grade_proba_strong", "grade_proba_weak"]],
                                  api.predict_proba(X))
    np.testing.assert_array_equal(df["grade_pred"], api.predict(X))


def test_finetune_is_for_regression(steels, tmp_path, error_line):
    assert main(["fit", str(steels[0]), "--target", "yield_strength", "--task",
                 "classification", "--mode", "finetune", "--out", str(tmp_path / "m")]) == 2
    assert "--mode finetune applies to --task regression only" in error_line("fit")


def test_predict_refuses_an_untrusted_type(steels, fitted, tmp_path, error_line):
    """A model folder whose checksums are right but whose estimator asks for ``os.system``."""
    import os

    folder = tmp_path / "model"
    shutil.copytree(fitted, folder)
    (folder / "estimator.skops").write_bytes(sio.dumps({"call": os.system}))
    body = json.loads((folder / "model.json").read_text())
    body["files"] = {k: sha256_file(folder / k) for k in body["files"]}
    body.pop("sha256")
    body["sha256"] = model_digest(body)
    (folder / "model.json").write_text(json.dumps(body))
    out = tmp_path / "p.csv"
    assert main(["predict", str(folder), str(steels[0]), "--out", str(out)]) == 2
    err = error_line("predict")
    assert "estimator.skops" in err and "system" in err and "trusted list" in err
    assert not out.exists()


@pytest.mark.parametrize("option", [["--n-sources", "0"], ["--cv", "1"]])
def test_fit_bad_options(steels, tmp_path, error_line, option):
    assert main(["fit", str(steels[0]), "--target", "yield_strength", "--out",
                 str(tmp_path / "m"), *option]) == 2
    assert option[0] in error_line("fit")
