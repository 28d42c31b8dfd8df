"""Is a predicted crystal the true one? Structure matching, fingerprint distance, success@k.

The two success criteria of the CSP benchmarks (CSPML, ShotgunCSP): pymatgen's
``StructureMatcher(ltol=0.3, stol=0.5, angle_tol=10)`` and the Euclidean distance
between matminer ``SiteStatsFingerprint(CrystalNNFingerprint.from_preset("ops"))``
vectors (a match when ≤ 0.2).
"""

from __future__ import annotations

import warnings
from functools import lru_cache

import numpy as np
from pymatgen.analysis.structure_matcher import StructureMatcher

from ..utils.optional import import_optional

#: fingerprint distance at or below which two structures count as the same
FINGERPRINT_THRESHOLD = 0.2


@lru_cache(maxsize=1)
def _matcher():
    return StructureMatcher(ltol=0.3, stol=0.5, angle_tol=10)


@lru_cache(maxsize=1)
def _tight_matcher():
    return StructureMatcher()  # pymatgen's defaults: ltol=0.2, stol=0.3, angle_tol=5


@lru_cache(maxsize=1)
def _fingerprinter():
    purpose = "the fingerprint distance (CrystalNN site statistics)"
    site = import_optional("matminer.featurizers.site", purpose)
    structure = import_optional("matminer.featurizers.structure", purpose)
    return structure.SiteStatsFingerprint(site.CrystalNNFingerprint.from_preset("ops"),
                                stats=("mean", "std_dev", "minimum", "maximum"))


def _structure(s):
    return getattr(s, "structure", s)  # accept Candidate records too


def structure_match(pred, true) -> bool:
    """Whether ``pred`` matches ``true`` under StructureMatcher(ltol=0.3, stol=0.5, angle_tol=10).

    Compositions must agree (as reduced formulas); the cells may be different
    supercells and volumes (the matcher scales them).

    Examples
    --------
    >>> from pymatgen.core import Lattice, Structure
    >>> nacl = Structure.from_spacegroup("Fm-3m", Lattice.cubic(5.64), ["Na", "Cl"],
    ...                                  [[0, 0, 0], [0.5, 0.5, 0.5]])
    >>> big = nacl.make_supercell([2, 1, 1], in_place=False)
    >>> structure_match(big, nacl)
    True
    """
    return _fits(_matcher(), pred, true)


def _fits(matcher, a, b) -> bool:
    """``matcher.fit`` of two structures (or Candidates) of one reduced composition."""
    a, b = _structure(a), _structure(b)
    if a.composition.reduced_composition != b.composition.reduced_composition:
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return bool(matcher.fit(a, b))


def near_copy(a, b) -> bool:
    """Whether two structures are copies of one crystal, at pymatgen's default tolerances.

    Tighter than :func:`structure_match` (ltol 0.2, stol 0.3, angle 5°): the
    success criterion's tolerances also merge related polymorphs *before*
    relaxation (baddeleyite ZrO2 and its orthorhombic cousin), which must each
    be relaxed to tell them apart.

    Examples
    --------
    >>> from pymatgen.core import Lattice, Structure
    >>> cscl = Structure(Lattice.cubic(4.0), ["Cs", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    >>> stretched = Structure(Lattice.tetragonal(4.0, 5.6), ["Cs", "Cl"],
    ...                       [[0, 0, 0], [0.5, 0.5, 0.5]])
    >>> near_copy(cscl, cscl.copy()), near_copy(cscl, stretched), structure_match(cscl, stretched)
    (True, False, True)
    """
    return _fits(_tight_matcher(), a, b)


def structure_fingerprint(structure) -> np.ndarray:
    """The local-environment fingerprint (SiteStatsFingerprint of CrystalNN 'ops')."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return np.asarray(_fingerprinter().featurize(_structure(structure)), dtype=float)


def fingerprint_distance(pred, true) -> float:
    """Euclidean distance between the local-environment fingerprints of two structures.

    ``pred`` and ``true`` may be Structures or precomputed fingerprint vectors.
    """
    a = pred if isinstance(pred, np.ndarray) else structure_fingerprint(pred)
    b = true if isinstance(true, np.ndarray) else structure_fingerprint(true)
    return float(np.linalg.norm(np.nan_to_num(a) - np.nan_to_num(b)))


def first_match_rank(candidates, true, criterion="match") -> int | None:
    """1-based rank of the first candidate that counts as ``true`` (None if none does).

    ``criterion`` is ``"match"`` (StructureMatcher), ``"fingerprint"`` (distance
    ≤ 0.2) or ``"either"``.
    """
    if criterion not in ("match", "fingerprint", "either"):
        raise ValueError(f"criterion must be 'match', 'fingerprint' or 'either', got {criterion!r}")
    fp_true = structure_fingerprint(true) if criterion != "match" else None
    for rank, cand in enumerate(candidates, start=1):
        if criterion != "fingerprint" and structure_match(cand, true):
            return rank
        if criterion != "match":
            same_comp = (_structure(cand).composition.reduced_composition
                         == _structure(true).composition.reduced_composition)
            if same_comp and fingerprint_distance(cand, fp_true) <= FINGERPRINT_THRESHOLD:
                return rank
    return None


def success_at_k(ranked_lists, trues, k=10, criterion="match") -> float:
    """Fraction of targets whose true structure is among the first ``k`` candidates.

    Parameters
    ----------
    ranked_lists : list of lists of Structure or Candidate, best first, one list per target
    trues : list of Structure, the true structure of each target
    k : int
    criterion : {"match", "fingerprint", "either"}
    """
    if len(ranked_lists) != len(trues):
        raise ValueError(f"{len(ranked_lists)} candidate lists for {len(trues)} true structures")
    if not trues:
        return float("nan")
    hits = [first_match_rank(list(c)[:k], t, criterion) is not None
            for c, t in zip(ranked_lists, trues)]
    return float(np.mean(hits))
