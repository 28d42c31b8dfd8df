"""Energies: CHGNet single points (batched the same as one by one) and the per-system surrogate."""

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure

from csp_crystals import cesium_chloride, rocksalt
from skmdl.csp.energy import (CHGNetEnergy, PretrainedSurrogate, SurrogateEnergy, describable,
                              rdf_fingerprint, screen_model)


def test_chgnet_batches_agree_with_single_points_and_prefer_rock_salt():
    structures = [rocksalt("Na", "Cl", a) for a in (5.2, 5.64, 6.2)] + [
        cesium_chloride("Na", "Cl", 3.4)]
    energy = CHGNetEnergy(batch_size=2)
    together = energy(structures)
    alone = np.array([energy([s])[0] for s in structures])
    np.testing.assert_allclose(together, alone, atol=1e-5)
    assert together[1] < together[0] and together[1] < together[2]  # minimum near 5.64 Å
    assert together[1] < together[3]  # rock salt below CsCl-type NaCl
    assert energy([]).shape == (0,)


def test_a_structure_chgnet_refuses_gets_nan_and_spares_its_batch():
    """Isolated atoms (no neighbour within 6 Å) end a CHGNet call; here they cost one NaN."""
    from pymatgen.core import Lattice, Structure

    isolated = Structure(Lattice.cubic(15.0), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    good = [rocksalt("Na", "Cl", 5.64), rocksalt("Na", "Cl", 5.9)]
    energy = CHGNetEnergy(batch_size=3)
    with pytest.raises(ValueError, match="isolated"):  # what chgnet itself does
        energy.model.predict_structure([isolated], task="e")
    got = energy([good[0], isolated, good[1]])
    assert np.isnan(got[1]) and np.isfinite(got[[0, 2]]).all()
    np.testing.assert_allclose(got[[0, 2]], energy(good), atol=1e-5)


def test_rdf_fingerprint_shape_and_invariance():
    s = rocksalt("Na", "Cl", 5.64)
    f = rdf_fingerprint(s, ["Na", "Cl"])
    assert f.shape == (3 * 24 + 1,) and f[-1] == pytest.approx(s.volume / len(s))
    np.testing.assert_allclose(rdf_fingerprint(s * (2, 1, 1), ["Na", "Cl"]), f, atol=1e-9)


def test_surrogate_learns_a_smooth_energy_of_one_system():
    rng = np.random.default_rng(0)
    lattices = rng.uniform(5.0, 6.4, 30)
    structures = [rocksalt("Na", "Cl", a) for a in lattices]
    target = (lattices - 5.64) ** 2  # an energy-like curve with its minimum at 5.64 Å
    sur = SurrogateEnergy().fit(structures[:20], target[:20])
    pred = sur.predict(structures[20:])
    assert np.corrcoef(pred, target[20:])[0, 1] > 0.9
    with pytest.raises(ValueError, match="need ≥ 3 structures"):
        SurrogateEnergy().fit(structures[:2], target[:2])


def test_pretrained_surrogate_carries_the_library_source_over_to_one_system():
    """Energies = the library's formation-energy networks + a constant (what one composition
    looks like): the transferred screen follows them, the fingerprint kernel ridge cannot."""
    from skmdl.library import ModelLibrary

    rng = np.random.default_rng(1)
    structures = [rocksalt("Na", "Cl", a).perturb(0.15 * rng.random())
                  for a in rng.uniform(5.0, 6.4, 60)]
    lib = ModelLibrary.default()
    ids = lib.search(kind="structure", quantity="formation energy")["id"]
    target = np.mean([lib.predict(i, structures) for i in ids], axis=0) - 3.2
    sur = PretrainedSurrogate().fit(structures[:30], target[:30])
    assert set(sur.model_.sources_) <= set(ids)
    pred = sur.predict(structures[30:])
    assert np.corrcoef(pred, target[30:])[0, 1] > 0.95
    mae = np.abs(pred - target[30:]).mean()
    kr = SurrogateEnergy().fit(structures[:30], target[:30]).predict(structures[30:])
    assert mae < 0.5 * np.abs(kr - target[30:]).mean()
    assert sur.predict([]).shape == (0,)
    with pytest.raises(ValueError, match="need ≥ 6 structures"):
        PretrainedSurrogate().fit(structures[:5], target[:5])


def test_screen_model_names_the_shotgun_screens():
    rows = lambda n: [rocksalt("Na", "Cl", 5.64)] * n  # noqa: E731 - n fitted candidates
    assert isinstance(screen_model(True, rows(48)), SurrogateEnergy)
    assert isinstance(screen_model("kernel_ridge", rows(3)), SurrogateEnergy)
    assert isinstance(screen_model("pretrained", rows(6)), PretrainedSurrogate)
    assert screen_model("pretrained", rows(5)) is None and screen_model(True, rows(2)) is None
    assert screen_model(False, rows(48)) is None and screen_model("none", rows(48)) is None
    overlapping = Structure(Lattice.cubic(5.6), ["Na", "Cl"], [[0, 0, 0], [0.03, 0, 0]])
    assert screen_model("pretrained", rows(5) + [overlapping]) is None  # 5 it can describe


def test_pretrained_surrogate_skips_overlapping_atoms():
    """A candidate with two sites 0.2 Å apart still has a CHGNet energy, but the
    structure descriptors refuse it: the screen fits without it and ranks it last."""
    S = [Structure.from_spacegroup("Fm-3m", Lattice.cubic(a), ["Na", "Cl"],
                                   [[0, 0, 0], [0.5, 0.5, 0.5]]) for a in np.linspace(5.0, 6.2, 8)]
    bad = Structure(Lattice.cubic(5.6), ["Na", "Cl"], [[0, 0, 0], [0.03, 0, 0]])
    assert describable(S + [bad]).tolist() == [True] * 8 + [False]
    E = [(s.lattice.a - 5.6) ** 2 - 3.0 for s in S]
    sur = PretrainedSurrogate().fit(S + [bad], E + [10.0])
    assert sur.n_skipped_ == 1
    pred = sur.predict([bad, S[3]])
    assert pred[0] == np.inf and np.isfinite(pred[1])
    with pytest.raises(ValueError, match="overlapping atoms"):
        PretrainedSurrogate().fit(S[:5] + [bad], E[:5] + [10.0])
