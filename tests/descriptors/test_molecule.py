"""Molecule and polymer featurizers: RDKit equality, polymer '*' handling, errors, output."""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from rdkit import Chem
from rdkit.Chem import Descriptors, MACCSkeys, rdFingerprintGenerator

from skmdl.descriptors import (MACCSKeys, MorganFingerprint, RDKitDescriptors, polymerize,
                               rdkit_descriptor_names)
from skmdl.descriptors.molecule import MAX_MAGNITUDE, MoleculeError, parse_molecule

SMILES = ["CCO", "c1ccccc1O", "CC(=O)Nc1ccc(O)cc1", "C1CCC(CC1)N", "O=C=O", "CC#N"]
SUBSET = ["MolWt", "MolLogP", "TPSA", "NumHDonors", "RingCount", "BertzCT", "qed"]


def test_rdkit_descriptors_equal_rdkit():
    f = RDKitDescriptors().fit()
    X = f.transform(SMILES)
    names = [n for n, _ in Descriptors.descList]
    assert list(f.get_feature_names_out()) == names == rdkit_descriptor_names()
    for i, s in enumerate(SMILES):
        ref = Descriptors.CalcMolDescriptors(Chem.MolFromSmiles(s))
        expected = np.array([ref[n] for n in names], dtype=float)
        np.testing.assert_allclose(X[i], expected, rtol=1e-12, equal_nan=True)


def test_descriptor_subset_and_mol_inputs():
    f = RDKitDescriptors(descriptors=SUBSET).fit()
    mols = [Chem.MolFromSmiles(s) for s in SMILES]
    np.testing.assert_array_equal(f.transform(mols), f.transform(SMILES))
    assert f.transform(SMILES).shape == (len(SMILES), len(SUBSET))
    with pytest.raises(ValueError, match="NotADescriptor"):
        RDKitDescriptors(descriptors=["MolWt", "NotADescriptor"]).fit()


def test_morgan_counts_equal_rdkit():
    f = MorganFingerprint(radius=2, n_bits=512).fit()
    gen = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=512)
    X = f.transform(SMILES)
    for i, s in enumerate(SMILES):
        np.testing.assert_array_equal(X[i], gen.GetCountFingerprintAsNumPy(Chem.MolFromSmiles(s)))
    bits = MorganFingerprint(radius=2, n_bits=512, counts=False).fit().transform(SMILES)
    np.testing.assert_array_equal(bits, (X > 0).astype(float))
    assert X.max() > 1  # counts, not bits


def test_maccs_equal_rdkit():
    X = MACCSKeys().fit().transform(SMILES)
    for i, s in enumerate(SMILES):
        np.testing.assert_array_equal(X[i], np.array(list(MACCSkeys.GenMACCSKeys(Chem.MolFromSmiles(s)))))


@pytest.mark.parametrize("cls", [RDKitDescriptors, MorganFingerprint, MACCSKeys])
def test_invalid_smiles_raise_or_nan(cls, capfd):
    X = pd.Series(["CCO", "C1CC", "c1ccccc1"], index=[7, 8, 9])
    with pytest.raises(ValueError, match=r"'C1CC' \(row 1\)"):
        cls().fit().transform(X)
    with pytest.warns(UserWarning, match="1 of 3 molecules"):
        out = cls(errors="nan").fit().transform(X)
    assert np.isnan(out[1]).all() and not np.isnan(out[[0, 2]]).all(axis=1).any()
    assert "SMILES Parse Error" not in capfd.readouterr().err  # RDKit's logging is silenced


def test_bad_input_types():
    f = RDKitDescriptors(descriptors=["MolWt"]).fit()
    with pytest.raises(ValueError, match="single string"):
        f.transform("CCO")
    with pytest.raises(ValueError, match=r"None \(row 1\).*got NoneType"):
        f.transform(["CCO", None])
    with pytest.raises(ValueError, match="empty SMILES"):
        f.transform([""])
    with pytest.raises(ValueError, match="one column"):
        f.transform(pd.DataFrame({"a": ["C"], "b": ["C"]}))


def test_non_finite_values_become_nan():
    f = RDKitDescriptors(descriptors=["MolWt", "Ipc"]).fit()
    state = [lambda m: 1.0, lambda m: float("inf")]
    assert np.isnan(f._values(None, state)[1])
    state = [lambda m: 1e39, lambda m: -2.0]
    np.testing.assert_array_equal(f._values(None, state), [np.nan, -2.0])
    state = [lambda m: 1 / 0, lambda m: -MAX_MAGNITUDE]
    np.testing.assert_array_equal(f._values(None, state), [np.nan, -MAX_MAGNITUDE])
    # a real case: Ipc of a large repeat unit is astronomically large
    big = ("*N=P(*)(OCCOCCOCCOP1(OCCOCCOC)=NP(OCCOCCOC)(OCCOCCOC)=NP(OCCOCCOC)(OCCOCCOC)=N1)"
           "OCCOCCOCCOP1(OCCOCCOC)=NP(OCCOCCOC)(OCCOCCOC)=NP(OCCOCCOC)(OCCOCCOC)=N1")
    mol = polymerize(parse_molecule(big), "cap")
    assert Descriptors.Ipc(mol) > MAX_MAGNITUDE
    ipc = RDKitDescriptors(descriptors=["Ipc", "MolWt"], polymer="cap").fit().transform([big])
    assert np.isnan(ipc[0, 0]) and np.isfinite(ipc[0, 1])
    # a real case: Gasteiger charges are NaN for a '*' dummy atom, and stay NaN
    out = RDKitDescriptors(descriptors=["MaxPartialCharge", "MolWt"]).fit().transform(["*CC*"])
    assert np.isnan(out[0, 0]) and np.isfinite(out[0, 1])


def test_set_output_pandas_keeps_index_and_names():
    X = pd.Series(SMILES, index=list("abcdef"))
    f = RDKitDescriptors(descriptors=SUBSET).set_output(transform="pandas").fit(X)
    out = f.transform(X)
    assert list(out.columns) == SUBSET and list(out.index) == list("abcdef")
    out = f.transform(pd.DataFrame({"smiles": X}))
    assert out.shape == (6, len(SUBSET))


def test_pickle_round_trip():
    for f in (RDKitDescriptors(descriptors=SUBSET, polymer="cyclize"),
              MorganFingerprint(n_bits=128), MACCSKeys(polymer="cap")):
        f.fit()
        g = pickle.loads(pickle.dumps(f))
        X = ["*CC(*)c1ccccc1", "*CCO*"] if f.polymer else SMILES
        np.testing.assert_array_equal(f.transform(X), g.transform(X))


def test_n_jobs_gives_the_same_features(monkeypatch):
    import skmdl.descriptors.molecule as molecule

    monkeypatch.setattr(MorganFingerprint, "_parallel_min", 2)
    X = SMILES + ["CCCC", "C1CCOC1", "C1CC"]
    one = MorganFingerprint(n_bits=64, errors="nan").fit()
    with pytest.warns(UserWarning):
        a = one.transform(X)
    molecule._FEATURE_CACHE.clear()  # the workers must compute, not the cache answer
    from joblib import parallel_backend

    with pytest.warns(UserWarning), parallel_backend("threading"):  # chunking, no process start
        b = MorganFingerprint(n_bits=64, n_jobs=2, errors="nan").fit().transform(X)
    np.testing.assert_array_equal(a, b)


def test_repeated_smiles_come_from_the_cache(monkeypatch):
    f = RDKitDescriptors(descriptors=SUBSET, polymer="cyclize").fit()
    X = ["*CC*", "*CC(*)C", "*C(*)C"]
    first = f.transform(X)
    monkeypatch.setattr(RDKitDescriptors, "_values", lambda *a: pytest.fail("not cached"))
    np.testing.assert_array_equal(f.transform(X[::-1]), first[::-1])
    with pytest.raises(ValueError, match="found 3"):  # errors are cached too
        RDKitDescriptors(descriptors=SUBSET, polymer="cyclize").fit().transform(["*C(*)C*"])
    with pytest.raises(ValueError, match="found 3"):
        f.transform(["*CC*", "*C(*)C*"])
    # other settings are other cache entries
    monkeypatch.undo()
    other = RDKitDescriptors(descriptors=SUBSET, polymer="oligomer").fit().transform(X)
    assert not np.array_equal(other, first)


# ---------------------------------------------------------------- polymers

def smiles(mol):
    return Chem.MolToSmiles(mol)


def test_polyethylene_star_handling():
    pe = parse_molecule("*CC*")
    assert smiles(polymerize(pe, "cyclize", 3)) == "C1CCCCC1"
    assert smiles(polymerize(pe, "oligomer", 3)) == "CCCCCC"
    assert smiles(polymerize(pe, "cap")) == "CC"
    # '[*]' notation, labelled and isotopic stars are connection points too
    for s in ("[*]CC[*]", "[*:1]CC[*:2]", "[1*]CC[2*]", "*C*"):
        assert smiles(polymerize(parse_molecule(s), "oligomer", 3)) in ("CCCCCC", "CCC")
    # both '*' on the same atom: polymethylene
    assert smiles(polymerize(parse_molecule("*C*"), "cyclize", 3)) == "C1CC1"
    assert smiles(polymerize(parse_molecule("*C(*)(F)F"), "oligomer", 2)) == "FC(F)C(F)F"
    # caps on bracket and aromatic N atoms get explicit H; '=*' ends get two H
    assert smiles(polymerize(parse_molecule("*[Si](C)(C)O*"), "cap")) == "C[SiH](C)O"
    assert smiles(polymerize(parse_molecule("*Cn1c(*)nc2ccccc21"),
                             "cap")) == "Cn1cnc2ccccc21"
    assert smiles(polymerize(parse_molecule("*c1ccc2[nH]c(*)cc2c1"), "cap")) == "c1ccc2[nH]ccc2c1"
    assert smiles(polymerize(parse_molecule("*N1C(=O)c2ccc(*)cc2C1=O"),
                             "cap")) == "O=C1NC(=O)c2ccccc21"
    assert smiles(polymerize(parse_molecule("*=CC=*"), "oligomer", 2)) == "CC=CC"


@pytest.mark.parametrize("mode", ["cyclize", "oligomer", "cap"])
def test_features_do_not_depend_on_the_written_direction(mode):
    f = RDKitDescriptors(polymer=mode).fit()
    a, b = f.transform(["*CC(C)*", "*C(C)C*"])
    np.testing.assert_array_equal(a, b)
    m = MorganFingerprint(polymer=mode).fit()
    a, b = m.transform(["*CC(*)c1ccccc1", "*C(c1ccccc1)C*"])
    np.testing.assert_array_equal(a, b)


def test_cyclize_does_not_depend_on_where_the_unit_is_cut():
    # poly(ethylene oxide) written from three different starting atoms
    f = RDKitDescriptors(polymer="cyclize").fit()
    X = f.transform(["*CCO*", "*COC*", "*OCC*"])
    np.testing.assert_array_equal(X[0], X[1])
    np.testing.assert_array_equal(X[0], X[2])
    # the chain ends of an oligomer do depend on it
    O = RDKitDescriptors(descriptors=["NumHDonors"], polymer="oligomer").fit()
    assert O.transform(["*CCO*", "*COC*"])[:, 0].tolist() == [1.0, 0.0]


def test_cyclize_matches_the_ring_molecule():
    f = RDKitDescriptors(polymer="cyclize").fit()
    g = RDKitDescriptors().fit()
    np.testing.assert_array_equal(f.transform(["*CC*"]), g.transform(["C1CCCCC1"]))


@pytest.mark.parametrize("bad, message", [
    ("*CC", "exactly 2 '\\*' connection points, found 1"),
    ("*C(*)C*", "found 3"),
    ("CCC", "found 0"),
    ("**", "bonded to each other"),
    ("C*C*", "exactly one neighbour"),
])
def test_bad_repeat_units_name_the_smiles(bad, message):
    f = RDKitDescriptors(descriptors=["MolWt"], polymer="cyclize").fit()
    with pytest.raises(ValueError, match=message) as info:
        f.transform(["*CC*", bad])
    assert repr(bad) in str(info.value) and "(row 1)" in str(info.value)


def test_ring_too_small_for_cyclize():
    with pytest.raises(MoleculeError, match="increase n_repeat"):
        polymerize(parse_molecule("*C*"), "cyclize", 2)
    assert smiles(polymerize(parse_molecule("*CCC*"), "cyclize", 1)) == "C1CC1"


def test_polymer_featurizers_on_shared_data(shared_data):
    df = pd.read_csv(shared_data / "polymers" / "grea_polyinfo_tg.csv.gz").head(60)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # every repeat unit of the sample is valid
        X = RDKitDescriptors(descriptors=SUBSET, polymer="cyclize").fit().transform(df.SMILES)
    assert np.isfinite(X).all()
