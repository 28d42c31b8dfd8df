import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline

from skmdl.descriptors import CompositionFeaturizer, load_element_table, parse_formula
from skmdl.descriptors.composition import ALL_STATS, MAGPIE_STATS, XENONPY_STATS

FORMULAS = [
    "Fe2O3", "NaCl", "Ag(AuS)2", "CuSO4·5H2O", "Li0.5(Co0.2Ni0.8)O2", "Si", "Fe4O6",
    "Fe0.620C0.000953Mn0.000521Si0.00102Cr0.000110Ni0.192Mo0.0176Co0.146Al0.00318Ti0.0185",
    "BaTiO3", "Ca14MnSb11", "NaN",
]


def naive_stats(formula, table, stats):
    """One row at a time, straight from the definitions (the reference)."""
    comp = parse_formula(formula)
    V = table.loc[list(comp)].to_numpy()
    a = np.array(list(comp.values()))
    w = a / a.sum()
    out = {}
    with np.errstate(divide="ignore", invalid="ignore"):
        for s in stats:
            if s == "mean":
                r = w @ V
            elif s == "sum":
                r = a @ V
            elif s == "var":
                r = w @ (V - w @ V) ** 2
            elif s == "avg_dev":
                r = w @ np.abs(V - w @ V)
            elif s == "min":
                r = V.min(0)
            elif s == "max":
                r = V.max(0)
            elif s == "range":
                r = V.max(0) - V.min(0)
            elif s == "gmean":
                r = np.array([
                    np.nan if (col < 0).any() else np.prod(col ** w) for col in V.T
                ])
            elif s == "hmean":
                r = np.array([
                    0.0 if (col == 0).any() else 1 / np.sum(w / col) for col in V.T
                ])
                r[np.isinf(r)] = np.nan
            elif s == "mode":
                top = np.isclose(a, a.max())
                r = V[top].min(0)
            out[s] = r
    # property-major, as the featurizer orders its columns
    return np.array([[out[s][j] for s in stats] for j in range(V.shape[1])]).ravel()


@pytest.mark.parametrize("table_name", ["magpie", "oliynyk"])
@pytest.mark.parametrize("stats", ["magpie", "xenonpy", "all"])
def test_matches_row_by_row_reference(table_name, stats):
    f = CompositionFeaturizer(elements=table_name, stats=stats).fit()
    table = load_element_table(table_name)
    X = f.transform(FORMULAS)
    for i, formula in enumerate(FORMULAS):
        ref = naive_stats(formula, table, f.stats_)
        np.testing.assert_allclose(X[i], ref, rtol=1e-10, atol=1e-12, equal_nan=True,
                                   err_msg=formula)


def test_known_values():
    f = CompositionFeaturizer(stats=["mean", "sum", "min", "max", "range", "mode"]).fit()
    names = list(f.get_feature_names_out())
    row = dict(zip(names, f.transform(["NaCl"])[0]))
    assert row["mean_Number"] == 14.0  # (11 + 17) / 2
    assert row["sum_Number"] == 28.0
    assert row["min_Number"] == 11.0 and row["max_Number"] == 17.0 and row["range_Number"] == 6
    assert row["mode_Number"] == 11.0  # tie -> smallest value
    row = dict(zip(names, f.transform(["Fe2O3"])[0]))
    assert row["mode_Number"] == 8.0  # O is most abundant
    assert np.isclose(row["mean_Number"], (2 * 26 + 3 * 8) / 5)


def test_stat_presets_and_names():
    for stats, expected in [("magpie", MAGPIE_STATS), ("xenonpy", XENONPY_STATS),
                            ("all", ALL_STATS)]:
        f = CompositionFeaturizer(stats=stats).fit()
        assert f.stats_ == expected
        assert len(f.get_feature_names_out()) == 22 * len(expected)
    f = CompositionFeaturizer(stoichiometry=True, element_fractions=True).fit()
    names = f.get_feature_names_out()
    assert len(names) == 22 * 6 + 6 + 103
    assert names[22 * 6] == "stoich_p0" and names[-1] == "frac_Lr"


def test_scale_invariance_except_sum():
    f = CompositionFeaturizer(stats="all").fit()
    a, b = f.transform(["Fe2O3", "Fe4O6"])
    names = f.get_feature_names_out()
    is_sum = np.array([n.startswith("sum_") for n in names])
    np.testing.assert_allclose(a[~is_sum], b[~is_sum])
    np.testing.assert_allclose(2 * a[is_sum], b[is_sum])


def test_stoichiometry_and_fractions():
    f = CompositionFeaturizer(stats=["mean"], stoichiometry=True, element_fractions=True).fit()
    names = list(f.get_feature_names_out())
    row = dict(zip(names, f.transform(["Fe2O3"])[0]))
    assert row["stoich_p0"] == 2
    assert np.isclose(row["stoich_p2"], np.sqrt(0.4**2 + 0.6**2))
    assert np.isclose(row["stoich_p10"], (0.4**10 + 0.6**10) ** 0.1)
    assert np.isclose(row["frac_Fe"], 0.4) and np.isclose(row["frac_O"], 0.6)
    fr = [n for n in names if n.startswith("frac_")]
    assert np.isclose(sum(row[n] for n in fr), 1.0)


def test_compositions_and_dicts_equal_strings():
    from pymatgen.core import Composition

    f = CompositionFeaturizer().fit()
    strings = ["Fe2O3", "LiCoO2", "Ag(AuS)2"]
    comps = [Composition(s) for s in strings]
    dicts = [Composition(s).as_dict() for s in strings]
    np.testing.assert_allclose(f.transform(strings), f.transform(comps))
    np.testing.assert_allclose(f.transform(strings), f.transform(dicts))
    # oxidation-state decorated species collapse to their elements
    ox = Composition({"Fe3+": 2, "O2-": 3})
    np.testing.assert_allclose(f.transform([ox]), f.transform(["Fe2O3"]))


@pytest.mark.parametrize(
    "bad, fragment",
    [
        ("Xx2O", "unknown element 'Xx'"),
        ("H2O)", "unbalanced"),
        ("", "empty formula"),
        ("   ", "empty formula"),
        (None, "missing formula"),
        (float("nan"), "missing formula"),
        ("Fe-2O3", "'-'"),
        (42, "expected a formula string"),
    ],
)
def test_bad_input_names_formula_and_row(bad, fragment):
    f = CompositionFeaturizer().fit()
    X = ["Fe2O3", "NaCl", bad, "SiO2"]
    with pytest.raises(ValueError, match="row 2") as info:
        f.transform(X)
    assert fragment in str(info.value)
    assert repr(bad) in str(info.value)


def test_errors_nan_warns_with_count():
    f = CompositionFeaturizer(errors="nan").fit()
    X = ["Fe2O3", "Xx2O", None, "NaCl", "Xx2O"]
    with pytest.warns(UserWarning, match="3 of 5 formulas"):
        Xt = f.transform(X)
    assert np.isnan(Xt[[1, 2, 4]]).all()
    assert np.isfinite(Xt[[0, 3]]).all()
    np.testing.assert_array_equal(Xt[[0, 3]], f.transform(["Fe2O3", "NaCl"]))


def test_element_missing_from_table():
    # Og is a real element but not in the magpie table (97 elements)
    f = CompositionFeaturizer().fit()
    with pytest.raises(ValueError, match=r"'OgO2' \(row 0\).*'Og' is not in the element table"):
        f.transform(["OgO2"])
    g = CompositionFeaturizer(errors="nan").fit()
    with pytest.warns(UserWarning):
        assert np.isnan(g.transform(["OgO2"])).all()


@pytest.mark.parametrize("X", ["Fe2O3", 5, np.zeros((2, 2))])
def test_rejects_non_sequences(X):
    with pytest.raises(ValueError, match="expected"):
        CompositionFeaturizer().fit().transform(X)


def test_empty_input_gives_empty_output():
    f = CompositionFeaturizer().fit()
    assert f.transform([]).shape == (0, 132)


def test_user_table():
    table = pd.DataFrame({"a": [1.0, 2.0], "b": [0.0, 4.0]}, index=["Na", "Cl"])
    f = CompositionFeaturizer(elements=table, stats=["mean", "max"]).fit()
    assert list(f.get_feature_names_out()) == ["mean_a", "max_a", "mean_b", "max_b"]
    np.testing.assert_allclose(f.transform(["NaCl3"]), [[1.75, 2.0, 3.0, 4.0]])
    bad = pd.DataFrame({"a": [1.0]}, index=["Qq"])
    with pytest.raises(ValueError, match="unknown element symbols"):
        CompositionFeaturizer(elements=bad).fit()


def test_invalid_parameters():
    from sklearn.utils._param_validation import InvalidParameterError

    with pytest.raises(InvalidParameterError):
        CompositionFeaturizer(elements="nope").fit()
    with pytest.raises(ValueError, match="unknown statistics"):
        CompositionFeaturizer(stats=["mean", "median"]).fit()


def test_n_jobs_identical_on_many_formulas(monkeypatch):
    monkeypatch.setattr(CompositionFeaturizer, "_parallel_min", 1000)
    rng = np.random.default_rng(0)
    els = ["Fe", "O", "Na", "Cl", "Si", "Ti", "Ba", "Li", "Co", "Ni"]
    X = [
        "".join(f"{e}{rng.integers(1, 9)}" for e in rng.choice(els, size=3, replace=False))
        + f"H{i}"
        for i in range(3000)
    ] + ["Xx", "Fe2O3"]
    a = CompositionFeaturizer(stats="all", n_jobs=1, errors="nan").fit()
    b = CompositionFeaturizer(stats="all", n_jobs=2, errors="nan").fit()
    with pytest.warns(UserWarning, match="1 of 3002"):
        Xa = a.transform(X)
    with pytest.warns(UserWarning, match="1 of 3002"):
        Xb = b.transform(X)
    np.testing.assert_array_equal(Xa, Xb)
    assert np.isnan(Xb[-2]).all() and np.isfinite(Xb[-1]).all()
    with pytest.raises(ValueError, match=r"'Xx' \(row 3000\)"):
        b.set_params(errors="raise").transform(X)


def test_pandas_output_and_column_transformer():
    df = pd.DataFrame({"formula": ["Fe2O3", "NaCl", "SiO2", "BaTiO3"], "T": [300, 400, 500, 600]},
                      index=[7, 8, 9, 10])
    f = CompositionFeaturizer().set_output(transform="pandas").fit(df["formula"])
    out = f.transform(df["formula"])
    assert isinstance(out, pd.DataFrame) and list(out.index) == [7, 8, 9, 10]
    ct = ColumnTransformer([("comp", CompositionFeaturizer(), "formula")], remainder="passthrough")
    model = make_pipeline(ct, Ridge()).fit(df, [1.0, 2.0, 3.0, 4.0])
    assert model.predict(df).shape == (4,)
    assert ct.get_feature_names_out()[0] == "comp__min_Number"
