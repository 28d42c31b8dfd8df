"""``skmdl featurize``: tables of formulas, structures and SMILES in, feature tables out."""

import os

import numpy as np
import pandas as pd
import pytest

from skmdl.cli import main


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


def test_featurize_bad_formula_fails_cleanly(tmp_path, capsys, error_line):
    src = tmp_path / "in.csv"
    pd.DataFrame({"formula": ["Fe2O3", "Xx2O"]}).to_csv(src, index=False)
    out = tmp_path / "out.csv"
    assert main(["featurize", str(src), str(out)]) == 2
    err = error_line("featurize")
    assert "'Xx2O' (row 1)" in err
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [src]  # no temporary file left behind


def test_featurize_error_names_the_row_of_the_whole_table(tmp_path, capsys, monkeypatch, error_line):
    from skmdl.cli import featurize

    monkeypatch.setitem(featurize.CHUNK, "composition", 2)  # rows 0-1, 2-3, 4
    src = tmp_path / "in.csv"
    pd.DataFrame({"formula": ["NaCl", "KCl", "LiF", "MgO", "Qq3"]}).to_csv(src, index=False)
    assert main(["featurize", str(src), str(tmp_path / "o.parquet")]) == 2
    assert "'Qq3' (row 4)" in error_line("featurize")
    assert main(["featurize", str(src), str(tmp_path / "o.csv"), "--errors", "nan"]) == 0
    captured = capsys.readouterr()
    assert "warning: 1 of 5 formulas could not be featurized" in captured.err
    df = pd.read_csv(tmp_path / "o.csv")
    assert df.iloc[4, 1:].isna().all() and df.iloc[:4, 1:].notna().all().all()


def test_featurize_structures(tmp_path, capsys, error_line):
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
    err = error_line("featurize")
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
def test_featurize_bad_options(tmp_path, capsys, args, message, error_line):
    src = tmp_path / "in.csv"
    pd.DataFrame({"formula": ["Fe2O3"]}).to_csv(src, index=False)
    assert main(["featurize", str(src), str(tmp_path / "o.csv"), *args]) == 2
    assert message in error_line("featurize")
    assert list(tmp_path.iterdir()) == [src]


def test_featurize_bad_paths(tmp_path, capsys, error_line):
    src = tmp_path / "in.csv"
    pd.DataFrame({"formula": ["Fe2O3"]}).to_csv(src, index=False)
    assert main(["featurize", str(tmp_path / "none.csv"), str(tmp_path / "o.csv")]) == 2
    assert "none.csv: no such file" in error_line("featurize")
    assert main(["featurize", str(src), str(tmp_path / "o.xlsx")]) == 2
    assert "must end in .csv or .parquet" in error_line("featurize")
    assert main(["featurize", str(src), str(tmp_path / "no" / "o.csv")]) == 2
    assert "does not exist" in error_line("featurize")
