"""The ``skmdl`` command line, run in-process through ``main`` (one real subprocess call)."""

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from skmdl.cli import build_parser, main

#: candidate sources of the fit tests: 4 instead of the library's 100 keeps fitting to seconds
SOURCES = ["critexam_ed-000", "mp_mu_b-000", "mp_shear_modulus-004", "aflow_energy_atom-002"]


def one_error_line(capsys, command):
    """The captured stderr, checked to be exactly one ``skmdl <command>: error:`` line."""
    err = capsys.readouterr().err
    assert err.startswith(f"skmdl {command}: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    return err


# ---------------------------------------------------------------- featurize

def test_featurize_csv(tmp_path, capsys):
    src = tmp_path / "in.csv"
    pd.DataFrame({"formula": ["Fe2O3", "NaN", "SiO2"], "y": [1, 2, 3]}).to_csv(src, index=False)
    out = tmp_path / "out.csv"
    assert main(["featurize", str(src), str(out), "--stoichiometry"]) == 0
    df = pd.read_csv(out, keep_default_na=False)
    assert list(df["formula"]) == ["Fe2O3", "NaN", "SiO2"]
    assert df.shape == (3, 1 + 132 + 6)
    assert np.isfinite(df.drop(columns="formula").to_numpy(float)).all()
    assert "wrote 3 rows" in capsys.readouterr().out
    mask = os.umask(0)
    os.umask(mask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~mask  # not private like a temp file


def test_featurize_parquet_equals_csv(tmp_path):
    src = tmp_path / "in.csv"
    pd.DataFrame({"comp": ["Fe2O3", "LiCoO2", "Fe2O3"]}).to_csv(src, index=False)
    args = ["--column", "comp", "--elements", "oliynyk", "--quiet"]
    assert main(["featurize", str(src), str(tmp_path / "o.parquet"), *args]) == 0
    assert main(["featurize", str(src), str(tmp_path / "o.csv"), *args]) == 0
    pq = pd.read_parquet(tmp_path / "o.parquet")
    csv = pd.read_csv(tmp_path / "o.csv")
    assert list(pq.columns) == list(csv.columns) and pq.columns[0] == "comp"
    np.testing.assert_allclose(pq.iloc[:, 1:].to_numpy(float), csv.iloc[:, 1:].to_numpy(float),
                               rtol=1e-12)
    np.testing.assert_array_equal(pq.iloc[0, 1:], pq.iloc[2, 1:])  # same formula, same row
    assert not (pq.iloc[0, 1:] == pq.iloc[1, 1:]).all()


def test_featurize_bad_formula_fails_cleanly(tmp_path, capsys):
    src = tmp_path / "in.csv"
    pd.DataFrame({"formula": ["Fe2O3", "Xx2O"]}).to_csv(src, index=False)
    out = tmp_path / "out.csv"
    assert main(["featurize", str(src), str(out)]) == 2
    err = one_error_line(capsys, "featurize")
    assert "'Xx2O' (row 1)" in err
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [src]  # no temporary file left behind


def test_featurize_error_names_the_row_of_the_whole_table(tmp_path, capsys, monkeypatch):
    from skmdl.cli import featurize

    monkeypatch.setitem(featurize.CHUNK, "composition", 2)  # rows 0-1, 2-3, 4
    src = tmp_path / "in.csv"
    pd.DataFrame({"formula": ["NaCl", "KCl", "LiF", "MgO", "Qq3"]}).to_csv(src, index=False)
    assert main(["featurize", str(src), str(tmp_path / "o.parquet")]) == 2
    assert "'Qq3' (row 4)" in one_error_line(capsys, "featurize")
    assert main(["featurize", str(src), str(tmp_path / "o.csv"), "--errors", "nan"]) == 0
    captured = capsys.readouterr()
    assert "warning: 1 of 5 formulas could not be featurized" in captured.err
    df = pd.read_csv(tmp_path / "o.csv")
    assert df.iloc[4, 1:].isna().all() and df.iloc[:4, 1:].notna().all().all()


def test_featurize_structures(tmp_path, capsys):
    from pymatgen.core import Lattice, Structure

    nacl = Structure.from_spacegroup("Fm-3m", Lattice.cubic(5.64), ["Na", "Cl"],
                                     [[0, 0, 0], [0.5, 0.5, 0.5]])
    (tmp_path / "cifs").mkdir()
    nacl.to(filename=str(tmp_path / "cifs" / "nacl.cif"))
    # a path relative to the table's folder, CIF text, a bad path
    cells = ["cifs/nacl.cif", nacl.to(fmt="cif"), "cifs/missing.cif"]
    src = tmp_path / "s.csv"
    pd.DataFrame({"cif": cells}).to_csv(src, index=False)
    out = tmp_path / "rdf.parquet"
    args = ["featurize", str(src), str(out), "--featurizer", "rdf", "--cutoff", "6",
            "--n-bins", "30"]
    assert main(args) == 2
    err = one_error_line(capsys, "featurize")
    assert "missing.cif" in err and "(row 2)" in err and not out.exists()
    pd.DataFrame({"cif": cells[:2]}).to_csv(src, index=False)
    assert main(args) == 0
    df = pd.read_parquet(out)
    assert df.shape == (2, 1 + 3 * 30)  # Na-Na, Na-Cl, Cl-Cl
    np.testing.assert_allclose(df.iloc[0, 1:].to_numpy(float), df.iloc[1, 1:].to_numpy(float))
    nacl_pairs = df.filter(like="rdf_Na-Cl_")
    first_shell = nacl_pairs.columns[int(np.argmax(nacl_pairs.iloc[0]))]
    assert first_shell == "rdf_Na-Cl_2.80-3.00"  # a / 2 = 2.82 Å


def test_featurize_polymer_smiles(tmp_path):
    pytest.importorskip("rdkit")
    src = tmp_path / "p.csv"
    pd.DataFrame({"smiles": ["*CC*", "*CC(*)C", "*CC*"]}).to_csv(src, index=False)
    out = tmp_path / "p.csv.parquet"
    assert main(["featurize", str(src), str(out), "--featurizer", "morgan", "--polymer",
                 "cyclize", "--n-bits", "256", "--quiet"]) == 0
    df = pd.read_parquet(out)
    assert df.shape == (3, 257)
    F = df.iloc[:, 1:].to_numpy(float)
    np.testing.assert_array_equal(F[0], F[2])
    assert F[0].sum() > 0 and not np.array_equal(F[0], F[1])


@pytest.mark.parametrize("args, message", [
    (["--polymer", "cap"], "--polymer does not apply to --featurizer composition"),
    (["--featurizer", "maccs", "--stats", "all", "--radius", "3"],
     "--stats, --radius do not apply to --featurizer maccs"),
    (["--column", "nope"], "no column 'nope'"),
])
def test_featurize_bad_options(tmp_path, capsys, args, message):
    src = tmp_path / "in.csv"
    pd.DataFrame({"formula": ["Fe2O3"]}).to_csv(src, index=False)
    assert main(["featurize", str(src), str(tmp_path / "o.csv"), *args]) == 2
    assert message in one_error_line(capsys, "featurize")
    assert list(tmp_path.iterdir()) == [src]


def test_featurize_bad_paths(tmp_path, capsys):
    src = tmp_path / "in.csv"
    pd.DataFrame({"formula": ["Fe2O3"]}).to_csv(src, index=False)
    assert main(["featurize", str(tmp_path / "none.csv"), str(tmp_path / "o.csv")]) == 2
    assert "none.csv: no such file" in one_error_line(capsys, "featurize")
    assert main(["featurize", str(src), str(tmp_path / "o.xlsx")]) == 2
    assert "must end in .csv or .parquet" in one_error_line(capsys, "featurize")
    assert main(["featurize", str(src), str(tmp_path / "no" / "o.csv")]) == 2
    assert "does not exist" in one_error_line(capsys, "featurize")


# ---------------------------------------------------------------- fit / predict

@pytest.fixture(scope="module")
def steels(tmp_path_factory):
    """100 rows of matbench_steels as a CSV: (path, formulas, yield strengths)."""
    from skmdl.datasets import load_sample

    X, y = load_sample("matbench_steels")
    X, y = X[:100], y[:100]
    path = tmp_path_factory.mktemp("steels") / "steels.csv"
    pd.DataFrame({"formula": X.to_numpy(), "yield_strength": y.to_numpy()}).to_csv(
        path, index=False)
    return path, X.to_numpy(), y.to_numpy()


@pytest.fixture(scope="module")
def fitted(steels, tmp_path_factory):
    path, _, _ = steels
    out = tmp_path_factory.mktemp("models") / "steels_model"
    code = main(["fit", str(path), "--target", "yield_strength", "--out", str(out),
                 "--sources", *SOURCES, "--n-sources", "2", "--cv", "3", "--unit", "MPa",
                 "--random-state", "0", "--quiet"])
    assert code == 0
    return out


def test_fit_writes_safe_files_and_a_card(steels, fitted):
    path, _, y = steels
    files = [p for p in fitted.rglob("*") if p.is_file()]
    assert {p.suffix for p in files} == {".json", ".safetensors"}  # never a pickle
    assert not any(p.name.startswith(".") for p in fitted.parent.iterdir())  # no temp left
    body = json.loads((fitted / "model.json").read_text())
    card = body["card"]
    assert card["target"] == "yield_strength" and card["unit"] == "MPa"
    assert card["training_data"]["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert card["training_data"]["n_rows"] == 100
    assert len(card["sources"]) == 2 and set(card["sources"]) <= set(SOURCES)
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
    assert (df["yield_strength_std"] > 0).all()
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
                               pred[:3], rtol=1e-10)  # whatever the batch


def test_model_folder_is_a_library(fitted, capsys):
    assert main(["library", "verify", "--library", str(fitted)]) == 0
    assert "2 of 2 artifacts verified" in capsys.readouterr().out
    assert main(["library", "list", "--library", str(fitted)]) == 0
    assert "member1-" in capsys.readouterr().out


@pytest.mark.parametrize("target", ["weights", "card", "model.json", "index.json"])
def test_tampered_model_is_refused(steels, fitted, tmp_path, capsys, target):
    model = tmp_path / "model"
    shutil.copytree(fitted, model)
    member = next((model / "models").iterdir())
    path = {"weights": member / "weights.safetensors", "card": member / "card.json",
            "model.json": model / "model.json", "index.json": model / "index.json"}[target]
    if path.suffix == ".json":
        path.write_text(path.read_text().replace("yield_strength", "yield_strengtH", 1)
                        .replace('"id"', '"id" ', 1))
    else:
        data = bytearray(path.read_bytes())
        data[-3] ^= 1  # one bit of one weight
        path.write_bytes(bytes(data))
    out = tmp_path / "pred.csv"
    assert main(["predict", str(model), str(steels[0]), "--out", str(out)]) == 2
    err = one_error_line(capsys, "predict")
    assert path.name in err and "tampered" in err
    assert not out.exists()


def test_predict_bad_inputs(steels, fitted, tmp_path, capsys):
    out = tmp_path / "pred.csv"
    assert main(["predict", str(tmp_path), str(steels[0]), "--out", str(out)]) == 2
    assert "not a saved skmdl model" in one_error_line(capsys, "predict")
    bad = tmp_path / "bad.csv"
    pd.DataFrame({"formula": ["Fe2O3", "Fe3Zz"]}).to_csv(bad, index=False)
    assert main(["predict", str(fitted), str(bad), "--out", str(out)]) == 2
    assert "'Fe3Zz' (row 1)" in one_error_line(capsys, "predict")
    pd.DataFrame({"composition": ["Fe2O3"]}).to_csv(bad, index=False)
    assert main(["predict", str(fitted), str(bad), "--out", str(out)]) == 2
    assert "no column 'formula'" in one_error_line(capsys, "predict")
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
def test_fit_bad_inputs(tmp_path, capsys, rows, args, message):
    src = tmp_path / "in.csv"
    pd.DataFrame(rows).to_csv(src, index=False)
    out = tmp_path / "model"
    sources = [] if args else ["--sources", *SOURCES[:2], "--n-sources", "1"]
    assert main(["fit", str(src), "--target", "y", "--out", str(out), "--cv", "0",
                 *sources, *args]) == 2
    assert message in one_error_line(capsys, "fit")
    assert list(tmp_path.iterdir()) == [src]  # no model folder, no temporary one


def test_fit_predict_molecules(tmp_path, capsys):
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
    assert "'C1CC' (row 1)" in one_error_line(capsys, "predict")
    assert not (tmp_path / "bad_pred.csv").exists()


def test_fit_refuses_to_overwrite(steels, fitted, capsys):
    before = (fitted / "model.json").read_bytes()
    assert main(["fit", str(steels[0]), "--target", "yield_strength", "--out",
                 str(fitted)]) == 2
    assert "use --overwrite" in one_error_line(capsys, "fit")
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


# ---------------------------------------------------------------- csp

def test_csp_writes_ranked_cifs(tmp_path, capsys):
    from pymatgen.core import Lattice, Structure

    ref = tmp_path / "ref"
    ref.mkdir()
    zns = Structure.from_spacegroup("F-43m", Lattice.cubic(5.41), ["Zn", "S"],
                                    [[0, 0, 0], [0.25, 0.25, 0.25]])
    zns.to(filename=str(ref / "ZnS.cif"))
    out = tmp_path / "gaas"
    assert main(["csp", "Ga2As2", "--reference", str(ref), "--no-prototypes",
                 "--generators", "template", "--n-candidates", "4", "--top-k", "2",
                 "--no-relax", "--out", str(out), "--quiet"]) == 0
    assert "GaAs: 2 structures" in capsys.readouterr().out
    ranking = pd.read_csv(out / "ranking.csv", keep_default_na=False)
    assert list(ranking["rank"]) == [1, 2]
    assert sorted(p.name for p in out.iterdir()) == ["rank01_GaAs.cif", "rank02_GaAs.cif",
                                                     "ranking.csv"]
    assert ranking["energy_per_atom"].is_monotonic_increasing
    assert (ranking["template_id"] == "ref:ZnS").all()
    best = Structure.from_file(out / "rank01_GaAs.cif")
    assert best.composition.reduced_formula == "GaAs"
    assert best.get_space_group_info(symprec=0.1)[1] == 216  # zincblende, as the template
    assert ranking["space_group"][0] == "F-43m (216)"
    assert -5 < ranking["energy_per_atom"][0] < -3  # CHGNet: about -4.06 eV/atom


@pytest.mark.parametrize("args, message", [
    (["Xx2O"], "bad formula 'Xx2O'"),
    (["Fe1e400"], "bad formula 'Fe1e400'"),  # overflowing amounts: no traceback
    (["Fe" + "9" * 400], "bad formula 'Fe999"),
    (["GaAs", "--no-prototypes"], "--no-prototypes needs --reference"),
    (["GaAs", "--reference", "/nonexistent/folder"], "no such folder"),
    (["GaAs", "--top-k", "0"], "--top-k must be at least 1"),
])
def test_csp_bad_input(tmp_path, capsys, args, message):
    out = tmp_path / "o"
    assert main(["csp", *args, "--out", str(out)]) == 2
    assert message in one_error_line(capsys, "csp")
    assert not out.exists()


# ---------------------------------------------------------------- library catalogue, help

def test_library_catalogue(fitted, tmp_path, capsys):
    out = tmp_path / "cat"
    code = main(["library", "catalogue", str(out), "--library", str(fitted)])
    try:
        import skmdl.library.catalogue  # noqa: F401 - written by another change
    except ModuleNotFoundError:
        assert code == 2
        assert "no catalogue writer" in one_error_line(capsys, "library catalogue")
        return
    assert code == 0
    assert (out / "index.html").is_file()


def test_help(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    for command in ("featurize", "fit", "predict", "csp", "library"):
        assert command in out


def _subparsers(parser, prog="skmdl"):
    yield prog, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _subparsers(sub, f"{prog} {name}")


def test_every_command_and_option_has_help():
    seen = []
    for prog, parser in _subparsers(build_parser()):
        seen.append(prog)
        assert parser.description, prog
        undocumented = [a.dest for a in parser._actions
                        if not a.help and not isinstance(a, argparse._SubParsersAction)
]
        assert not undocumented, (prog, undocumented)
    assert {"skmdl fit", "skmdl predict", "skmdl csp", "skmdl library catalogue"} <= set(seen)


def test_demo_runs():
    from skmdl.demo import run

    result = run(n_estimators=30, verbose=False)
    assert result["n_samples"] == 312
    assert 50 < result["mae_mean"] < 200  # a random forest on steels: ~95 MPa
