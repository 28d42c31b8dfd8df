"""Shared pieces of the command-line tests: the one-error-line check, a fitted model folder."""

import pandas as pd
import pytest

from skmdl.cli import main

#: candidate sources of the fit tests: 4 instead of the whole library keeps fitting to seconds
SOURCES = ["critexam_ed-000", "mp_mu_b-000", "mp_shear_modulus-004", "aflow_energy_atom-002"]


@pytest.fixture(scope="session")
def fit_sources():
    """The candidate source models of the fit tests."""
    return list(SOURCES)


@pytest.fixture
def error_line(capsys):
    """``error_line(command)``: the captured stderr, checked to be exactly one
    ``skmdl <command>: error:`` line and no traceback."""
    def read(command):
        err = capsys.readouterr().err
        assert err.startswith(f"skmdl {command}: error: ") and err.count("\n") == 1, err
        assert "Traceback" not in err
        return err

    return read


@pytest.fixture(scope="session")
def steels(tmp_path_factory):
    """100 rows of matbench_steels as a CSV: (path, formulas, yield strengths)."""
    from skmdl.datasets import load_sample

    X, y = load_sample("matbench_steels")
    X, y = X[:100], y[:100]
    path = tmp_path_factory.mktemp("steels") / "steels.csv"
    pd.DataFrame({"formula": X.to_numpy(), "yield_strength": y.to_numpy()}).to_csv(
        path, index=False)
    return path, X.to_numpy(), y.to_numpy()


@pytest.fixture(scope="session")
def fitted(steels, tmp_path_factory):
    path, _, _ = steels
    out = tmp_path_factory.mktemp("models") / "steels_model"
    code = main(["fit", str(path), "--target", "yield_strength", "--out", str(out),
                 "--sources", *SOURCES, "--n-sources", "2", "--cv", "3", "--unit", "MPa",
                 "--combine", "mean",  # every member kept: the folder holds source networks
                 "--random-state", "0", "--quiet"])
    assert code == 0
    return out
