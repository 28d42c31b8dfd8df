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


def test_featurize_bad_formula_fails_cleanly(tmp_path, capsys):
    src = tmp_path / "in.csv"
    pd.DataFrame({"formula": ["Fe2O3", "Xx2O"]}).to_csv(src, index=False)
    out = tmp_path / "out.csv"
    assert main(["featurize", str(src), str(out)]) == 2
    err = capsys.readouterr().err
    assert "'Xx2O' (row 1)" in err and err.count("\n") == 1
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [src]  # no temporary file left behind


def test_featurize_missing_column(tmp_path, capsys):
    src = tmp_path / "in.csv"
    pd.DataFrame({"comp": ["Fe2O3"]}).to_csv(src, index=False)
    assert main(["featurize", str(src), str(tmp_path / "o.csv")]) == 2
    assert "no column 'formula'" in capsys.readouterr().err


def test_help(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    assert "featurize" in capsys.readouterr().out


def test_demo_runs():
    from skmdl.demo import run

    result = run(n_estimators=30, verbose=False)
    assert result["n_samples"] == 312
    assert 50 < result["mae_mean"] < 200  # a random forest on steels: ~95 MPa
