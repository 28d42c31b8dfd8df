"""``skmdl fit`` / ``skmdl predict``: a transfer model saved as safe files, and used."""

import hashlib
import json
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from skmdl.cli import main


def test_fit_writes_safe_files_and_a_card(steels, fitted, fit_sources):
    path, _, y = steels
    files = [p for p in fitted.rglob("*") if p.is_file()]
    # never a pickle: JSON, the estimator as skops data, the networks as safetensors
    assert {p.suffix for p in files} == {".json", ".safetensors", ".skops"}
    assert not any(p.name.startswith(".") for p in fitted.parent.iterdir())  # no temp left
    body = json.loads((fitted / "model.json").read_text())
    card = body["card"]
    assert card["target"] == "yield_strength" and card["unit"] == "MPa"
    assert card["training_data"]["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert card["training_data"]["n_rows"] == 100
    assert len(card["sources"]) == 2 and set(card["sources"]) <= set(fit_sources)
    kept = [m for m in card["members"] if m["weight"] > 0]
    # the networks kept members use: shortlisted sources, or every candidate (``outputs``)
    assert {m["source"] for m in kept} - {None} <= set(card["networks"]) <= set(fit_sources)
    assert abs(sum(m["weight"] for m in kept) - 1) < 1e-9
    assert card["screening"]["candidates"] == 4
    assert [r["id"] for r in card["screening"]["best"]][:2] == card["sources"]
    mae = card["metrics"]["cv_mae"]
    assert 0 < mae < np.abs(y - y.mean()).mean()  # better than predicting the mean
    assert card["skmdl_version"] and card["source_library"]["index_sha256"]
    assert set(body["files"]) == {p.relative_to(fitted).as_posix() for p in files} - {
        "model.json"}


def test_fit_predict_round_trip(steels, fitted, tmp_path, capsys):
    from skmdl.transfer.saving import load_transfer_model

    path, X, y = steels
    out = tmp_path / "pred.csv"
    assert main(["predict", str(fitted), str(path), "--out", str(out), "--alpha", "0.2"]) == 0
    assert "wrote 100 predictions of yield_strength" in capsys.readouterr().out
    df = pd.read_csv(out, float_precision="round_trip")
    assert list(df.columns) == ["formula", "yield_strength", "yield_strength_pred",
                                "yield_strength_std", "yield_strength_lo80",
                                "yield_strength_hi80"]
    np.testing.assert_array_equal(df["formula"], X)
    pred = df["yield_strength_pred"].to_numpy()
    assert np.corrcoef(pred, y)[0, 1] > 0.7
    # members are extra trees (TransferRegressor's default head): on their own training
    # rows they agree, so the spread there may be 0 (unseen rows: test_model_roundtrip.py)
    assert (df["yield_strength_std"] >= 0).all()
    lo, hi = df["yield_strength_lo80"].to_numpy(), df["yield_strength_hi80"].to_numpy()
    assert (lo < pred).all() and (pred < hi).all()
    assert np.mean((lo <= y) & (y <= hi)) >= 0.7  # calibrated on CV residuals
    # the saved model loaded in Python gives the very same numbers
    model = load_transfer_model(fitted)
    mean, std = model.predict(list(X), return_std=True)
    np.testing.assert_array_equal(mean, pred)
    np.testing.assert_array_equal(std, df["yield_strength_std"].to_numpy())
    # parquet output, another input column name
    pd.DataFrame({"comp": X[:3]}).to_csv(tmp_path / "new.csv", index=False)
    assert main(["predict", str(fitted), str(tmp_path / "new.csv"), "--column", "comp",
                 "--out", str(tmp_path / "p.parquet"), "--quiet"]) == 0
    np.testing.assert_allclose(pd.read_parquet(tmp_path / "p.parquet")["yield_strength_pred"],
                               pred[:3], rtol=1e-6)  # whatever the batch: float32 source
    # networks round differently per batch size (~1e-7), which a linear member (outputs,
    # affine) passes on, where trees' thresholds did not


def test_model_folder_is_a_library(fitted, capsys):
    card = json.loads((fitted / "model.json").read_text())["card"]
    n = len(card["networks"])  # the networks the kept members use
    assert main(["library", "verify", "--library", str(fitted)]) == 0
    assert f"{n} of {n} artifacts verified" in capsys.readouterr().out
    assert main(["library", "list", "--library", str(fitted)]) == 0
    listed = capsys.readouterr().out
    card = json.loads((fitted / "model.json").read_text())["card"]
    assert all(source in listed for source in card["networks"])  # the source networks


@pytest.mark.parametrize("target", ["weights", "card", "model.json", "index.json",
                                    "estimator"])
def test_tampered_model_is_refused(steels, fitted, tmp_path, capsys, target, error_line):
    model = tmp_path / "model"
    shutil.copytree(fitted, model)
    member = next((model / "models").iterdir())
    path = {"weights": member / "weights.safetensors", "card": member / "card.json",
            "model.json": model / "model.json", "index.json": model / "index.json",
            "estimator": model / "estimator.skops"}[target]
    if path.suffix == ".json":
        path.write_text(path.read_text().replace("yield_strength", "yield_strengtH", 1)
                        .replace('"id"', '"id" ', 1))
    else:
        data = bytearray(path.read_bytes())
        data[-3] ^= 1  # one bit of one weight
        path.write_bytes(bytes(data))
    out = tmp_path / "pred.csv"
    assert main(["predict", str(model), str(steels[0]), "--out", str(out)]) == 2
    err = error_line("predict")
    assert path.name in err and "tampered" in err
    assert not out.exists()


def test_predict_bad_inputs(steels, fitted, tmp_path, capsys, error_line):
    out = tmp_path / "pred.csv"
    assert main(["predict", str(tmp_path), str(steels[0]), "--out", str(out)]) == 2
    assert "not a saved skmdl model" in error_line("predict")
    bad = tmp_path / "bad.csv"
    pd.DataFrame({"formula": ["Fe2O3", "Fe3Zz"]}).to_csv(bad, index=False)
    assert main(["predict", str(fitted), str(bad), "--out", str(out)]) == 2
    assert "'Fe3Zz' (row 1)" in error_line("predict")
    pd.DataFrame({"composition": ["Fe2O3"]}).to_csv(bad, index=False)
    assert main(["predict", str(fitted), str(bad), "--out", str(out)]) == 2
    assert "no column 'formula'" in error_line("predict")
    assert not out.exists()


@pytest.mark.parametrize("rows, args, message", [
    ({"formula": ["Fe2O3", "SiO2"] * 6, "y": ["1.5", "abc"] * 6}, [],
     "target column 'y' is not a finite number: 'abc' (row 1; 6 such rows"),
    ({"formula": ["Fe2O3", "SiO2"] * 6, "y": ["1.5", ""] * 6}, [],
     "target column 'y' is missing (row 1"),
    ({"formula": ["Fe2O3"] * 12, "z": ["1"] * 12}, [], "no column 'y'"),
    ({"formula": ["Fe2O3", "SiO2"] * 3, "y": ["1"] * 6}, [], "fit needs at least 10"),
    ({"formula": ["Fe2O3", "Qq"] * 6, "y": ["1", "2"] * 6}, [], "formula 'Qq' (row 1)"),
    ({"formula": ["Fe2O3", "SiO2"] * 6, "y": ["1", "2"] * 6}, ["--sources", "nope-000"],
     "no model 'nope-000'"),
    ({"formula": ["Fe2O3", "SiO2"] * 6, "y": ["1", "2"] * 6}, ["--max-epochs", "3"],
     "--max-epochs applies to --mode finetune only"),
])
def test_fit_bad_inputs(tmp_path, capsys, rows, args, message, error_line, fit_sources):
    src = tmp_path / "in.csv"
    pd.DataFrame(rows).to_csv(src, index=False)
    out = tmp_path / "model"
    sources = [] if args else ["--sources", *fit_sources[:2], "--n-sources", "1"]
    assert main(["fit", str(src), "--target", "y", "--out", str(out), "--cv", "0",
                 *sources, *args]) == 2
    assert message in error_line("fit")
    assert list(tmp_path.iterdir()) == [src]  # no model folder, no temporary one


def test_fit_predict_molecules(tmp_path, capsys, error_line):
    """SMILES input, molecule sources; a bad SMILES in predict names its row."""
    pytest.importorskip("rdkit")
    smiles = ["C" * n for n in range(1, 7)] + ["C" * n + "O" for n in range(1, 7)]
    src = tmp_path / "mols.csv"
    pd.DataFrame({"smiles": smiles, "n_heavy": [float(len(s)) for s in smiles]}).to_csv(
        src, index=False)
    model = tmp_path / "model"
    assert main(["fit", str(src), "--target", "n_heavy", "--kind", "molecule", "--out",
                 str(model), "--sources", "qm9_alpha-000", "qm9_r2-000", "--n-sources", "1",
                 "--cv", "0", "--quiet"]) == 0
    card = json.loads((model / "model.json").read_text())["card"]
    assert card["column"] == "smiles" and card["kind"] == "molecule"
    assert card["sources"][0] in ("qm9_alpha-000", "qm9_r2-000")
    out = tmp_path / "pred.csv"
    assert main(["predict", str(model), str(src), "--out", str(out)]) == 0
    pred = pd.read_csv(out)["n_heavy_pred"].to_numpy()
    assert np.corrcoef(pred, [len(s) for s in smiles])[0, 1] > 0.9
    pd.DataFrame({"smiles": ["CCO", "C1CC"]}).to_csv(tmp_path / "bad.csv", index=False)
    capsys.readouterr()
    assert main(["predict", str(model), str(tmp_path / "bad.csv"), "--out",
                 str(tmp_path / "bad_pred.csv")]) == 2
    assert "'C1CC' (row 1)" in error_line("predict")
    assert not (tmp_path / "bad_pred.csv").exists()


def test_fit_refuses_to_overwrite(steels, fitted, capsys, error_line):
    before = (fitted / "model.json").read_bytes()
    assert main(["fit", str(steels[0]), "--target", "yield_strength", "--out",
                 str(fitted)]) == 2
    assert "use --overwrite" in error_line("fit")
    assert (fitted / "model.json").read_bytes() == before


def test_entry_point_subprocess(steels, fitted, tmp_path):
    """The installed ``skmdl`` script: exit code and one clean stderr line in a real process."""
    model = tmp_path / "model"
    shutil.copytree(fitted, model)
    weights = next(model.rglob("weights.safetensors"))
    weights.write_bytes(weights.read_bytes()[:-10])  # truncated
    exe = shutil.which("skmdl") or sys.executable
    cmd = [exe] if exe.endswith("skmdl") else [exe, "-m", "skmdl.cli"]
    res = subprocess.run([*cmd, "predict", str(model), str(steels[0]), "--out",
                          str(tmp_path / "p.csv")], capture_output=True, text=True,
                         timeout=120, check=False)
    assert res.returncode == 2
    assert res.stderr.startswith("skmdl predict: error: ") and res.stderr.count("\n") == 1
    assert "weights.safetensors" in res.stderr and not (tmp_path / "p.csv").exists()
