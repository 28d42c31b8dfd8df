"""Pair-interaction descriptors: x_i x_j over element pairs, the rest in x_other."""

import numpy as np
import pandas as pd
import pytest

from skmdl.descriptors import FormulaError, PairFractionFeaturizer
from skmdl.descriptors.pairs import metal_symbols


def test_metal_pairs_and_the_fraction_outside():
    f = PairFractionFeaturizer().fit()
    names = list(f.get_feature_names_out())
    metals = metal_symbols()
    assert len(metals) == 69 and "Fe" in metals and "O" not in metals and "Si" not in metals
    assert len(names) == 69 * 68 // 2 + 1 and names[-1] == "x_other"
    X = f.transform(["AlNi", "Al2Ni", "AlNiCoFe", "Fe2O3", "Fe"])
    col = {n: i for i, n in enumerate(names)}
    assert X[0, col["x_Al*x_Ni"]] == pytest.approx(0.25)
    assert X[1, col["x_Al*x_Ni"]] == pytest.approx(2 / 9)
    assert np.count_nonzero(X[2]) == 6 and X[2, col["x_Fe*x_Co"]] == pytest.approx(1 / 16)
    assert X[3, col["x_other"]] == pytest.approx(0.6) and np.count_nonzero(X[3]) == 1
    assert not X[4].any()  # a pure element: no pair, nothing outside
    np.testing.assert_allclose(f.sparse_transform(["AlNiCoFe", "Fe2O3"]).toarray(), X[2:4])


def test_bad_formula_names_its_row_and_nan_mode_warns():
    f = PairFractionFeaturizer(elements=["Al", "Ni"]).fit()
    with pytest.raises(FormulaError, match=r"Xx.*row 1"):
        f.transform(["AlNi", "AlXx"])
    with pytest.warns(UserWarning):
        X = PairFractionFeaturizer(elements=["Al", "Ni"], errors="nan").fit().transform(
            ["AlNi", "AlXx"])
    assert np.isnan(X[1]).all() and X[0, 0] == pytest.approx(0.25)
    with pytest.raises(ValueError, match="distinct element symbols"):
        PairFractionFeaturizer(elements=["Al", "Qq"]).fit()


def test_set_output_pandas_names_the_pairs():
    f = PairFractionFeaturizer(elements=["Ni", "Al", "Co"]).set_output(transform="pandas")
    df = f.fit().transform(pd.Series(["AlCoNi"], index=[7]))
    assert list(df.columns) == ["x_Al*x_Co", "x_Al*x_Ni", "x_Co*x_Ni", "x_other"]
    assert df.index.tolist() == [7] and df.iloc[0, :3].tolist() == pytest.approx([1 / 9] * 3)
