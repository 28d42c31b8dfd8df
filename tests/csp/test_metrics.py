import numpy as np
import pytest

from skmdl.csp.metrics import (fingerprint_distance, first_match_rank, structure_match,
                               success_at_k)

from csp_crystals import cesium_chloride, rocksalt


def test_match_survives_perturbation_supercell_and_strain(nacl):
    rng = np.random.default_rng(0)
    moved = nacl.copy()
    for i in range(len(moved)):
        moved.translate_sites([i], rng.normal(0, 0.05, 3), frac_coords=False)
    assert structure_match(moved, nacl)
    assert structure_match(nacl.make_supercell([2, 1, 1], in_place=False), nacl)
    bigger = nacl.copy()
    bigger.scale_lattice(nacl.volume * 1.15)
    assert structure_match(bigger, nacl)
    assert structure_match(nacl.get_primitive_structure(), nacl)


def test_other_polymorph_or_composition_does_not_match(nacl):
    assert not structure_match(cesium_chloride("Na", "Cl", 3.3), nacl)
    assert not structure_match(rocksalt("K", "Cl", 6.29), nacl)


def test_fingerprint_distance(nacl):
    moved = nacl.copy().perturb(0.02)
    assert fingerprint_distance(moved, nacl) <= 0.2
    assert fingerprint_distance(cesium_chloride("Na", "Cl", 3.3), nacl) > 0.2


def test_first_match_rank_and_success_at_k(nacl):
    wrong = cesium_chloride("Na", "Cl", 3.3)
    ranked = [wrong, wrong, nacl]
    assert first_match_rank(ranked, nacl) == 3
    assert first_match_rank([wrong], nacl) is None
    assert first_match_rank(ranked, nacl, criterion="fingerprint") == 3
    assert success_at_k([ranked, [wrong]], [nacl, nacl], k=3) == 0.5
    assert success_at_k([ranked], [nacl], k=2) == 0.0
    with pytest.raises(ValueError, match="criterion"):
        first_match_rank(ranked, nacl, criterion="energy")
    with pytest.raises(ValueError, match="2 candidate lists for 1"):
        success_at_k([ranked, ranked], [nacl])
