import glob
import math

import pandas as pd
import pytest

from skmdl.descriptors import FormulaError, parse_formula


@pytest.mark.parametrize(
    "formula, expected",
    [
        ("Fe2O3", {"Fe": 2, "O": 3}),
        ("NaCl", {"Na": 1, "Cl": 1}),
        ("NaN", {"Na": 1, "N": 1}),  # sodium nitride, not a missing value
        ("Ag(AuS)2", {"Ag": 1, "Au": 2, "S": 2}),
        ("Ca[OH]2", {"Ca": 1, "O": 2, "H": 2}),
        ("K4[Fe(CN)6]", {"K": 4, "Fe": 1, "C": 6, "N": 6}),
        ("Li0.5(Co0.2Ni0.8)O2", {"Li": 0.5, "Co": 0.2, "Ni": 0.8, "O": 2}),
        ("CuSO4·5H2O", {"Cu": 1, "S": 1, "O": 9, "H": 10}),
        ("Na2CO3·10H2O", {"Na": 2, "C": 1, "O": 13, "H": 20}),
        (" Fe2 O3 ", {"Fe": 2, "O": 3}),
        ("CH3COOH", {"C": 2, "H": 4, "O": 2}),
        ("D2O", {"H": 2, "O": 1}),
        ("Fe.5O.5", {"Fe": 0.5, "O": 0.5}),
        ("Fe0.620C0.000953Ni0.192", {"Fe": 0.62, "C": 0.000953, "Ni": 0.192}),
        ("Fe2O0", {"Fe": 2}),  # zero amounts are dropped
    ],
)
def test_parse(formula, expected):
    got = parse_formula(formula)
    assert got.keys() == expected.keys()
    for el, amt in expected.items():
        assert math.isclose(got[el], amt, rel_tol=1e-12)


@pytest.mark.parametrize(
    "formula, message",
    [
        ("", "empty"),
        ("   ", "empty"),
        ("Xx2O", "unknown element 'Xx'"),
        ("H2O)", "unbalanced"),
        ("(H2O", "unclosed"),
        ("Fe-1O", "'-'"),
        ("Fe2O3(aq)", "'a'"),
        ("fe2o3", "'f'"),
        ("()2", "empty group"),
        ("O0", "no atoms"),
        ("H2O·", "empty part"),
        ("2H2O", "'2'"),
    ],
)
def test_parse_errors(formula, message):
    with pytest.raises(FormulaError, match=message.replace("(", r"\(")) as info:
        parse_formula(formula)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("bad", [None, 3, 2.5, b"Fe2O3"])
def test_parse_rejects_non_strings(bad):
    with pytest.raises(FormulaError, match="expected a formula string"):
        parse_formula(bad)


@pytest.mark.shared_data
@pytest.mark.slow
def test_parser_matches_pymatgen_on_all_shared_formulas(shared_data):
    """Every distinct formula of the shared composition data parses as pymatgen parses it."""
    from pymatgen.core import Composition

    formulas = set()
    for path in glob.glob(str(shared_data / "composition" / "*.csv.gz")):
        col = pd.read_csv(path, usecols=["formula"], dtype=str, keep_default_na=False)
        formulas.update(col["formula"])
    assert len(formulas) > 500_000
    mismatches = []
    for f in formulas:
        ours = parse_formula(f)
        ref = Composition(f).element_composition.as_dict()
        if ours.keys() != ref.keys() or any(
            not math.isclose(ours[e], ref[e], rel_tol=1e-9, abs_tol=1e-12) for e in ref
        ):
            mismatches.append((f, ours, ref))
    assert not mismatches, f"{len(mismatches)} formulas differ, e.g. {mismatches[:3]}"
