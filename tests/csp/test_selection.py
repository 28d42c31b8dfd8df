"""Which candidates get relaxed: near copies skipped, related polymorphs kept apart."""
import numpy as np
from pymatgen.core import Lattice, Structure

from skmdl.csp import Candidate
from skmdl.csp.metrics import near_copy, structure_match
from skmdl.csp.selection import diverse_head, prerelax


def _cscl(c=4.0, e=-1.0, generator="template"):
    s = Structure(Lattice.tetragonal(4.0, c), ["Cs", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    return Candidate(s, generator, energy_per_atom=e)


def test_related_polymorphs_both_enter_the_relaxation_set():
    cubic, copy, stretched = _cscl(4.0, -1.0), _cscl(4.0, -0.9), _cscl(5.6, -0.8)
    # the success criterion merges the stretched cell with the cubic one ...
    assert structure_match(cubic.structure, stretched.structure)
    assert not near_copy(cubic.structure, stretched.structure)
    # ... but only the true copy is skipped before relaxation
    head = diverse_head([cubic, copy, stretched], 3)
    assert [c.energy_per_atom for c in head] == [-1.0, -0.8]


class _Shrink:
    """A fake relaxer: each step lowers the energy by 0.1 eV/atom; one structure fails."""

    def __init__(self, fail=None):
        self.fail = fail

    def relax(self, structure, steps=None):
        if structure is self.fail:
            raise RuntimeError("exploded")
        return structure.copy(), -10.0 - 0.1 * steps, steps


def test_prerelax_steps_the_head_and_small_ideal_cells_and_reranks():
    big = [_cscl(4.0 + 0.3 * i, -1.0 - 0.01 * i) for i in range(4)]
    for c in big:
        c.structure.make_supercell([2, 2, 2])  # 16 atoms: not "small"
    small = _cscl(4.0, 5.0)  # far behind, 2 atoms: pre-relaxed anyway
    failing = _cscl(7.0, -0.5, generator="wyckoff")
    ranked = sorted(big + [small, failing], key=lambda c: c.energy_per_atom)
    best = ranked[0]
    out, n = prerelax(ranked, _Shrink(fail=failing.structure), 2, 3, max_atoms=8)
    # head of 2 in plain alternation: the best big cell and the failing Wyckoff one
    stepped = [c for c in out if c.info.get("prerelaxed")]
    assert n == 3 and len(stepped) == 2
    assert any(c is best for c in stepped) and any(c is small for c in stepped)
    assert small.info["prerelaxed"] and small.info["unrelaxed_energy"] == 5.0
    assert np.isclose(small.energy_per_atom, -10.3)
    assert out[0].info.get("prerelaxed")  # re-ranked: stepped ones first
    assert failing.energy_per_atom == -0.5 and "prerelaxed" not in failing.info
    assert [c.energy_per_atom for c in out] == sorted(c.energy_per_atom for c in out)


def test_relaxation_window_keeps_slots_for_candidates_near_the_best():
    shapes = [4.0, 5.6, 8.0, 11.0, 15.0]  # CsCl cells no two of which are near copies
    templates = [_cscl(c, -1.0 + 0.01 * i) for i, c in enumerate(shapes[:4])]
    far = _cscl(shapes[4], -0.2, generator="wyckoff")  # 0.8 eV/atom above the best
    near = _cscl(shapes[4], -0.9, generator="wyckoff")
    gens = lambda head: [c.generator for c in head]  # noqa: E731
    ranked = templates + [far]
    assert gens(diverse_head(ranked, 4, share=0.25)).count("wyckoff") == 1
    assert gens(diverse_head(ranked, 4, share=0.25, window=0.25)) == ["template"] * 4
    # outside the window a candidate still fills a slot nobody inside can
    assert gens(diverse_head(ranked, 5, share=0.25, window=0.25)).count("wyckoff") == 1
    # inside the window the kept share holds
    ranked = sorted(templates + [near], key=lambda c: c.energy_per_atom)
    assert gens(diverse_head(ranked, 4, share=0.25, window=0.25)).count("wyckoff") == 1


def test_tie_break_promotes_the_best_prior_only_within_the_window():
    from skmdl.csp.selection import tie_break_first

    energies = [-3.000, -2.999, -2.990, -2.900]
    counts = [3, 40, 900, 5000]
    assert tie_break_first(energies, counts, delta=0.0) == [0, 1, 2, 3]
    assert tie_break_first(energies, counts, delta=0.002) == [1, 0, 2, 3]
    assert tie_break_first(energies, counts, delta=0.02) == [2, 0, 1, 3]
    # a lower-is-better prior, and candidates without one (None, NaN) never promoted
    assert tie_break_first(energies, [0.9, 0.2, None, 0.0], delta=0.02, higher=False) == [
        1, 0, 2, 3]
    assert tie_break_first(energies, [None, float("nan"), None, 1], delta=0.05) == [0, 1, 2, 3]
    assert tie_break_first([], [], delta=0.01) == []
