"""Crystal-structure descriptors: physics invariances, exact values on simple crystals,
agreement with straightforward reference implementations, input handling and errors."""

import itertools
import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from joblib import parallel_backend
from pymatgen.core import Lattice, Structure
from sklearn.base import clone
from sklearn.utils.parallel import Parallel

from skmdl.descriptors import (CHGNetEmbedding, OrbitalFieldMatrixFeaturizer,
                               RadialDistributionFeaturizer, _base)
from skmdl.descriptors.structure import ORBITALS, valence_orbitals


# built site by site: pymatgen's Structure.from_spacegroup takes seconds per call

def fcc_cu(a=3.61):
    """Conventional cell, 4 atoms."""
    return Structure(Lattice.cubic(a), ["Cu"] * 4,
                     [[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]])


def nacl(a=5.64):
    """Primitive rock-salt cell, 2 atoms."""
    fcc = Lattice(np.array([[0, 1, 1], [1, 0, 1], [1, 1, 0]]) * a / 2)
    return Structure(fcc, ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])


def wurtzite_zno(a=3.25, c=5.21, u=0.382):
    return Structure(Lattice.hexagonal(a, c), ["Zn", "Zn", "O", "O"],
                     [[1 / 3, 2 / 3, 0], [2 / 3, 1 / 3, 0.5], [1 / 3, 2 / 3, u],
                      [2 / 3, 1 / 3, 0.5 + u]])


def triclinic(abc=(4.1, 4.7, 5.3)):
    """Three elements, no symmetry: nothing cancels by accident.

    With the default cell, lattice vectors fall on RDF bin edges (0.1 Å bins).
    """
    lattice = Lattice.from_parameters(*abc, 80, 95, 105)
    return Structure(lattice, ["Li", "Fe", "O"], [[0.0, 0.0, 0.0], [0.5, 0.45, 0.52],
                                                 [0.23, 0.71, 0.12]])


STRUCTURES = {"Cu": fcc_cu(), "NaCl": nacl(), "ZnO": wurtzite_zno(), "LiFeO": triclinic()}

# ---------------------------------------------------------------------------
# physics invariances, one helper for every featurizer (dscribe's tests' style)
# ---------------------------------------------------------------------------


def rotation(axis, angle):
    axis = np.asarray(axis, float) / np.linalg.norm(axis)
    K = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    return np.eye(3) + np.sin(angle) * K + (1 - np.cos(angle)) * K @ K


def variants(s):
    """Copies of s that describe the same crystal."""
    translated = s.copy()
    translated.translate_sites(range(len(s)), [0.13, 0.27, 0.41], frac_coords=True)
    # same lattice parameters, rotated in space; same fractional coordinates
    rotated = Structure(Lattice(s.lattice.matrix @ rotation([1, 2, 3], 0.7).T), s.species,
                        s.frac_coords)
    perm = np.random.default_rng(0).permutation(len(s))
    permuted = Structure(s.lattice, [s.species[i] for i in perm], s.frac_coords[perm])
    return {"translated": translated, "rotated": rotated, "permuted": permuted,
            "supercell 2x1x1": s * (2, 1, 1), "supercell 2x2x2": s * (2, 2, 2)}


def assert_invariant(featurizer, structure, rtol=1e-7, atol=1e-9):
    """Translation, rotation, permutation and supercells leave the features unchanged."""
    others = variants(structure)
    f = clone(featurizer).fit([structure])
    X = f.transform([structure] + list(others.values()))
    assert np.isfinite(X).all()
    assert np.abs(X[0]).max() > 0
    for i, name in enumerate(others, start=1):
        np.testing.assert_allclose(X[i], X[0], rtol=rtol, atol=atol,
                                   err_msg=f"{type(f).__name__}: {name} changed the features")


FEATURIZERS = {
    "rdf": (RadialDistributionFeaturizer(cutoff=6.0, n_bins=60), {}),
    "ofm-voronoi": (OrbitalFieldMatrixFeaturizer(), {"atol": 1e-7}),
    "ofm-cutoff": (OrbitalFieldMatrixFeaturizer(neighbors="cutoff", cutoff=5.0), {}),
    # float32 network: sums over different atom orders round differently
    "chgnet": (CHGNetEmbedding(), {"rtol": 1e-4, "atol": 1e-4}),
}


@pytest.mark.parametrize("name", ["NaCl", "ZnO", "LiFeO"])
@pytest.mark.parametrize("feat", list(FEATURIZERS))
def test_invariances(feat, name):
    featurizer, tol = FEATURIZERS[feat]
    assert_invariant(featurizer, STRUCTURES[name], **tol)


# ---------------------------------------------------------------------------
# radial distribution function
# ---------------------------------------------------------------------------


def coordination(f, g, structure, r_max, pair=None):
    """Neighbours within r_max: integral of rho_B g(r) 4 pi r^2 dr over the bins."""
    rho = len(structure) / structure.volume
    if pair is not None:
        rho = structure.composition[pair[1]] / structure.volume
        g = g[f.pairs_.index(pair)]
    shell = 4 / 3 * np.pi * np.diff(f.bin_edges_**3)
    return float((rho * g * shell)[f.bin_edges_[1:] <= r_max].sum())


def test_rdf_fcc_copper_first_shell():
    a = 3.61
    f = RadialDistributionFeaturizer(cutoff=8.0, n_bins=80).fit([fcc_cu(a)])
    g = f.transform([fcc_cu(a)])[0]
    centres = (f.bin_edges_[1:] + f.bin_edges_[:-1]) / 2
    assert abs(centres[g.argmax()] - a / np.sqrt(2)) < 0.05
    assert coordination(f, g, fcc_cu(a), 3.0) == pytest.approx(12.0)
    assert coordination(f, g, fcc_cu(a), 3.7) == pytest.approx(18.0)  # + 6 at a
    assert g[centres < 2.4].sum() == 0
    assert f.pairs_ == [("Cu", "Cu")]
    assert f.get_feature_names_out()[0] == "rdf_Cu-Cu_0.00-0.10"


def test_rdf_rock_salt_partials_are_symmetric_and_counted_right():
    s = nacl(5.64)
    f = RadialDistributionFeaturizer(cutoff=7.0, n_bins=70).fit([s])
    assert f.elements_ == ["Na", "Cl"] and f.pairs_ == [("Na", "Na"), ("Na", "Cl"), ("Cl", "Cl")]
    g = f.transform([s])[0].reshape(3, -1)
    assert coordination(f, g, s, 3.0, ("Na", "Cl")) == pytest.approx(6.0)      # at a/2
    assert coordination(f, g, s, 4.1, ("Na", "Na")) == pytest.approx(12.0)     # at a/sqrt2
    assert coordination(f, g, s, 4.1, ("Cl", "Cl")) == pytest.approx(12.0)


def reference_rdf(s, elements, cutoff, n_bins):
    """All periodic images by brute force, one pair at a time (the definition)."""
    edges = np.linspace(0, cutoff, n_bins + 1)
    reach = [int(np.ceil(cutoff / d)) + 1 for d in s.lattice.abc]
    images = np.array(list(itertools.product(*[range(-n, n + 1) for n in reach])))
    sym = [sp.symbol for sp in s.species]
    count = {p: len([x for x in sym if x == p]) for p in elements}
    out = []
    for a, b in itertools.combinations_with_replacement(elements, 2):
        d = []
        for i in range(len(s)):
            for j in range(len(s)):
                if sym[i] != a or sym[j] != b:
                    continue
                cart = s.lattice.get_cartesian_coords(s.frac_coords[j] + images)
                r = np.linalg.norm(cart - s.cart_coords[i], axis=1)
                d.extend(r[(r > 1e-8) & (r < cutoff)])
        hist = np.histogram(d, bins=edges)[0]
        rho_b = count[b] / s.volume
        shell = 4 / 3 * np.pi * np.diff(edges**3)
        out.append(hist / (count[a] * rho_b * shell) if count[a] and count[b] else 0 * hist)
    return np.concatenate(out)


def test_rdf_matches_brute_force_reference():
    s = triclinic((4.13, 4.71, 5.37))  # no distance on a bin edge
    f = RadialDistributionFeaturizer(elements=["O", "Li", "Fe", "Na"], cutoff=6.0, n_bins=30)
    got = f.fit().transform([s])[0]
    assert f.elements_ == ["Li", "O", "Na", "Fe"]  # atomic-number order; Na absent -> zeros
    np.testing.assert_allclose(got, reference_rdf(s, f.elements_, 6.0, 30), rtol=1e-10)


def test_rdf_learns_elements_and_ignores_unseen_ones():
    f = RadialDistributionFeaturizer(cutoff=4.0, n_bins=8).fit([fcc_cu(), nacl()])
    assert f.elements_ == ["Na", "Cl", "Cu"]
    assert len(f.get_feature_names_out()) == 6 * 8
    X = f.transform([wurtzite_zno(), fcc_cu()])  # Zn, O unseen: no pair of theirs
    assert (X[0] == 0).all() and X[1].any()
    with pytest.raises(ValueError, match="elements="):
        RadialDistributionFeaturizer().fit()
    with pytest.raises(ValueError, match="unknown"):
        RadialDistributionFeaturizer(elements=["Cu", "Xx"]).fit()


# ---------------------------------------------------------------------------
# orbital-field matrix
# ---------------------------------------------------------------------------


def test_valence_orbitals():
    table = valence_orbitals()

    def on(z):
        return [ORBITALS[i] for i in np.flatnonzero(table[z])]

    assert on(1) == ["s1"]
    assert on(8) == ["s2", "p4"]
    assert on(26) == ["s2", "d6"]
    assert on(31) == ["s2", "p1", "d10"]
    assert np.isnan(table[110]).all()


def test_ofm_rock_salt_by_hand():
    s, a = nacl(5.64), 5.64
    names = OrbitalFieldMatrixFeaturizer().fit().get_feature_names_out().tolist()
    assert len(names) == 1024 and names[:2] == ["ofm_s1_s1", "ofm_s1_s2"]
    X = OrbitalFieldMatrixFeaturizer().fit().transform([s])[0]
    # Voronoi cell of rock salt: a cube, 6 equal faces to the 6 counter-ions at a/2
    expected = {"ofm_s2_s1": 6 / (a / 2) / 2, "ofm_p5_s1": 6 / (a / 2) / 2,   # Na (s1) sees Cl
                "ofm_s1_s2": 6 / (a / 2) / 2, "ofm_s1_p5": 6 / (a / 2) / 2}   # Cl (s2 p5) sees Na
    for name, value in expected.items():
        assert X[names.index(name)] == pytest.approx(value)
    assert np.count_nonzero(X) == 4


def test_ofm_equals_xenonpy_definition():
    """Site by site with VoronoiNN.get_nn_info, as XenonPy's OrbitalFieldMatrix does."""
    from pymatgen.analysis.local_env import VoronoiNN

    s = triclinic()
    table = valence_orbitals()
    ref = np.zeros((32, 32))
    for i, site in enumerate(s):
        env = np.zeros(32)
        for nn in VoronoiNN(cutoff=10.0).get_nn_info(s, i):
            d = np.linalg.norm(site.coords - nn["site"].coords)
            env += table[nn["site"].specie.Z] * nn["weight"] / d
        ref += env[:, None] * table[site.specie.Z][None, :]
    got = OrbitalFieldMatrixFeaturizer().fit().transform([s])[0]
    np.testing.assert_allclose(got, (ref / len(s)).ravel(), rtol=1e-9, atol=1e-12)


def test_ofm_cutoff_weights():
    s, a, rc = nacl(5.64), 5.64, 3.5
    X = OrbitalFieldMatrixFeaturizer(neighbors="cutoff", cutoff=rc,
                                     divide_by_distance=False).fit().transform([s])[0]
    names = OrbitalFieldMatrixFeaturizer().fit().get_feature_names_out().tolist()
    w = 0.5 * (np.cos(np.pi * (a / 2) / rc) + 1)  # only the 6 counter-ions are within 3.5 Å
    assert X[names.index("ofm_p5_s1")] == pytest.approx(6 * w / 2)


# ---------------------------------------------------------------------------
# CHGNet embedding
# ---------------------------------------------------------------------------


def test_chgnet_is_the_mean_atom_feature_of_chgnet(capsys):
    import torch

    S = [nacl(), wurtzite_zno()]
    threads = torch.get_num_threads()
    f = CHGNetEmbedding(batch_size=1).fit()
    X = f.transform(S)
    assert torch.get_num_threads() == threads  # n_threads=1 only while transforming
    assert capsys.readouterr() == ("", "")  # CHGNet's prints are silenced
    assert X.dtype == np.float32 and X.shape == (2, 64)
    assert f.get_feature_names_out()[[0, -1]].tolist() == ["chgnet_0", "chgnet_63"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pred = f._net.predict_structure(S, task="e", return_crystal_feas=True)
    for x, p, s in zip(X, pred, S):  # CHGNet's crystal_fea is the sum over atoms
        np.testing.assert_allclose(x, p["crystal_fea"] / len(s), rtol=1e-4, atol=1e-5)


def test_chgnet_pickle_and_clone_do_not_carry_the_network():
    f = CHGNetEmbedding().fit()
    blob = pickle.dumps(f)
    assert len(blob) < 10_000
    g = pickle.loads(blob)
    assert "_net" not in vars(g)
    np.testing.assert_array_equal(g.transform([nacl()]), f.transform([nacl()]))
    assert "_net" not in vars(clone(f))


def test_chgnet_rejects_elements_it_does_not_know():
    am = Structure(Lattice.cubic(3.5), ["Am"], [[0, 0, 0]])
    with pytest.raises(ValueError, match=r"row 1\).*Z = 1..94"):
        CHGNetEmbedding().fit().transform([nacl(), am])


def test_chgnet_rejects_isolated_atoms():
    lonely = Structure(Lattice.cubic(12.0), ["Cu"], [[0, 0, 0]])
    with pytest.raises(ValueError, match=r"row 0\).*isolated atom"):
        CHGNetEmbedding().fit().transform([lonely])


def test_dummy_species_are_reported():
    x = Structure(Lattice.cubic(3.0), ["X0+"], [[0, 0, 0]])
    with pytest.raises(ValueError, match=r"row 0\).*valence-orbital data for \['X0\+'\]"):
        OrbitalFieldMatrixFeaturizer(neighbors="cutoff").fit().transform([x])
    with pytest.raises(ValueError, match=r"row 0\).*Z = 1..94"):
        CHGNetEmbedding().fit().transform([x])
    # the RDF leaves them out of every pair, like any element outside elements_
    f = RadialDistributionFeaturizer(cutoff=4.0, n_bins=4).fit([x, nacl()])
    assert f.elements_ == ["Na", "Cl"] and (f.transform([x]) == 0).all()


# ---------------------------------------------------------------------------
# inputs and errors (all featurizers share the input handling)
# ---------------------------------------------------------------------------

FAST = [RadialDistributionFeaturizer(cutoff=5.0, n_bins=10),
        OrbitalFieldMatrixFeaturizer(neighbors="cutoff"), CHGNetEmbedding()]
FAST_IDS = ["rdf", "ofm", "chgnet"]


def test_input_forms_give_the_same_features(tmp_path):
    s = wurtzite_zno()
    path = tmp_path / "zno.cif"
    s.to(filename=str(path))
    cif = path.read_text()
    f = RadialDistributionFeaturizer(cutoff=5.0, n_bins=10).fit([s])
    ref = f.transform([s])
    arr = np.empty(1, dtype=object)
    arr[0] = s
    for X in ([cif], [str(path)], [path], pd.Series([path]), pd.DataFrame({"s": [cif]}), arr):
        np.testing.assert_allclose(f.transform(X), ref, rtol=1e-6, err_msg=repr(type(X)))


def bad_inputs(tmp_path):
    return {
        "broken CIF": ("data_x\n_cell_length_a 3.0\nloop_\n_atom_site_label\nfoo bar baz\n",
                       "cannot read the CIF text"),
        "missing file": (str(tmp_path / "nope.cif"), "no such file"),
        "empty": (Structure(Lattice.cubic(3.0), [], []), "no sites"),
        "disordered": (Structure(Lattice.cubic(3.0), [{"Fe": 0.5, "Ni": 0.5}], [[0, 0, 0]]),
                       "disordered"),
        "not a structure": (42, "got int"),
    }


@pytest.mark.parametrize("featurizer", FAST, ids=FAST_IDS)
def test_bad_inputs_name_item_and_row(featurizer, tmp_path):
    f = clone(featurizer).set_params(errors="raise").fit([nacl()])
    for what, (item, reason) in bad_inputs(tmp_path).items():
        with pytest.raises(ValueError, match=rf"\(row 1\): .*{reason}") as info:
            f.transform([nacl(), item, nacl()])
        assert "cannot featurize" in str(info.value), what


@pytest.mark.parametrize("featurizer", FAST, ids=FAST_IDS)
def test_errors_nan_gives_nan_rows_and_warns(featurizer, tmp_path):
    f = clone(featurizer).set_params(errors="nan").fit([nacl()])
    items = [nacl()] + [item for item, _ in bad_inputs(tmp_path).values()] + [nacl()]
    with pytest.warns(UserWarning, match="5 of 7 structures"):
        X = f.transform(pd.Series(items))
    assert np.isfinite(X[[0, -1]]).all() and np.isnan(X[1:-1]).all()


def test_single_structure_must_be_wrapped():
    f = RadialDistributionFeaturizer().fit([nacl()])
    with pytest.raises(ValueError, match="wrap it in a list"):
        f.transform(nacl())
    with pytest.raises(ValueError, match="one column"):
        f.transform(pd.DataFrame({"a": [nacl()], "b": [nacl()]}))


def test_fit_reports_bad_training_items(tmp_path):
    with pytest.raises(ValueError, match=r"row 0\): no such file"):
        RadialDistributionFeaturizer().fit([str(tmp_path / "x.cif"), nacl()])
    with pytest.warns(UserWarning, match="1 of 2"):
        f = RadialDistributionFeaturizer(errors="nan").fit([str(tmp_path / "x.cif"), nacl()])
    assert f.elements_ == ["Na", "Cl"]


@pytest.mark.parametrize("featurizer", FAST, ids=FAST_IDS)
def test_pandas_output_keeps_index(featurizer):
    X = pd.Series([nacl(), wurtzite_zno()], index=["a", "b"])
    f = clone(featurizer).set_output(transform="pandas").fit(X)
    out = f.transform(X)
    assert isinstance(out, pd.DataFrame) and list(out.index) == ["a", "b"]
    assert list(out.columns) == list(f.get_feature_names_out())


@pytest.mark.parametrize("featurizer", FAST[:2], ids=FAST_IDS[:2])
def test_pickle_and_clone(featurizer):
    X = [nacl(), wurtzite_zno()]
    f = clone(featurizer).fit(X)
    g = pickle.loads(pickle.dumps(f))
    np.testing.assert_array_equal(g.transform(X), f.transform(X))
    assert clone(f).get_params() == f.get_params()


def test_parallel_path_equals_serial(monkeypatch):
    """The chunked path (threads here: worker processes would take ~10 s to start)."""
    monkeypatch.setattr(RadialDistributionFeaturizer, "_parallel_min", 2)
    calls = []
    monkeypatch.setattr(_base, "Parallel", lambda **kw: calls.append(kw) or Parallel(**kw))
    X = [nacl(), wurtzite_zno(), triclinic(), "not a cif path", fcc_cu()]
    f = RadialDistributionFeaturizer(cutoff=5.0, n_bins=10, errors="nan").fit(X[:3])
    with warnings.catch_warnings(), parallel_backend("threading"):
        warnings.simplefilter("ignore")
        one = f.set_params(n_jobs=1).transform(X)
        two = f.set_params(n_jobs=2).transform(X)
    np.testing.assert_array_equal(one, two)
    assert calls, "the parallel path did not run"
    assert np.isnan(two[3]).all() and np.isfinite(two[[0, 1, 2, 4]]).all()
    with pytest.raises(ValueError, match=r"row 3\)"), parallel_backend("threading"):
        f.set_params(n_jobs=2, errors="raise").transform(X)
