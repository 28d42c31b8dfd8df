"""Crystal-structure descriptors from the geometry: partial radial distribution functions
and orbital-field matrices (the pretrained CHGNet embedding is in
:mod:`skmdl.descriptors.chgnet`, and importable from here too).

All are intensive: a supercell, a translated or rotated copy, or a
re-ordering of the sites of a structure gives the same features
(``tests/descriptors/test_structure.py`` checks it for each). Inputs are
pymatgen ``Structure`` objects, CIF text or paths to CIF files (see
:mod:`skmdl.descriptors._structures`).
"""

from __future__ import annotations

import functools
import re
import warnings
from numbers import Integral

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions

from . import _structures
from ._formula import ATOMIC_NUMBER, ELEMENTS
from ._structures import (MIN_DISTANCE, StructureError, atomic_numbers, check_neighbor_search,
                          check_overlap)
from .chgnet import CHGNetEmbedding

__all__ = ["MIN_DISTANCE", "CHGNetEmbedding", "ORBITALS", "OrbitalFieldMatrixFeaturizer",
           "RadialDistributionFeaturizer", "atomic_numbers", "valence_orbitals"]

# ---------------------------------------------------------------------------
# Partial radial distribution function
# ---------------------------------------------------------------------------


class RadialDistributionFeaturizer(_structures.NeighborFeaturizer):
    r"""Partial radial distribution functions :math:`g_{AB}(r)` of each element pair.

    For elements A and B of a structure with volume V and :math:`N_A`,
    :math:`N_B` atoms,

    .. math::
        g_{AB}(r_k) = \frac{n_{A \to B}(r_k)}{N_A \, (N_B / V) \, 4\pi/3 \, (r_{k+1}^3 - r_k^3)}

    where :math:`n_{A \to B}(r_k)` counts the B atoms (periodic images
    included, the centre itself excluded) at a distance in
    :math:`[r_k, r_{k+1})` of any A atom. Dividing by the pair density makes
    it dimensionless and independent of the cell size (it tends to 1 at large
    r for an ideal mixture); :math:`g_{AB} = g_{BA}`, so each unordered pair
    appears once. The distances come from pymatgen's neighbour list
    (``Structure.get_neighbor_list``, compiled code) and are binned for all
    pairs at once with ``np.bincount``.

    matminer's ``PartialRadialDistributionFunction`` computes
    :math:`\rho_B \, g_{AB}(r)` (no division by :math:`N_B / V`, units of
    Å\ :sup:`-3`) and orders elements by electronegativity;
    ``benchmarks/structure_speed.py`` checks that the two agree after that
    factor.

    Parameters
    ----------
    elements : list of str, default=None
        Element symbols whose pairs are featurized. ``None`` learns them in
        ``fit`` (every element of the training structures). Atoms of other
        elements are left out of every pair. There are
        ``n(n+1)/2 * n_bins`` features for n elements (4,005 pairs for 89
        elements): name the elements that matter on data sets spanning the
        periodic table.
    cutoff : float, default=10.0
        Largest distance (Å).
    n_bins : int, default=100
        Number of equal-width distance bins on ``[0, cutoff)``.
    errors : {"raise", "nan"}, default="raise"
        Unreadable CIF text or file, empty or disordered structure, or an
        object that is not a structure: raise a ``ValueError`` naming the
        item and its row, or return a row of NaN and warn with the count.
    n_jobs : int, default=None
        Worker processes (joblib) for inputs of at least 64 items; ``None``
        means 1. Results do not depend on it. On ``Structure`` objects one
        process is faster: shipping structures and feature rows between
        processes costs more than the featurization
        (``benchmarks/structure_speed.py``: 200 structures, 1.7 s with one
        process, 4.6 s with two).

    Attributes
    ----------
    elements_ : list of str
        Elements in atomic-number order.
    pairs_ : list of tuple of str
        Element pairs (A, B), A not after B, in feature order.
    bin_edges_ : ndarray of shape (n_bins + 1,)
    feature_names_out_ : ndarray of str
        ``"rdf_{A}-{B}_{r_lo}-{r_hi}"``.

    See Also
    --------
    OrbitalFieldMatrixFeaturizer : local-environment descriptor.

    Examples
    --------
    >>> from pymatgen.core import Lattice, Structure
    >>> cu = Structure(Lattice.cubic(3.61), ["Cu"] * 4,        # fcc copper
    ...                [[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]])
    >>> f = RadialDistributionFeaturizer(cutoff=4.0, n_bins=40).fit([cu])
    >>> g = f.transform([cu])[0]
    >>> f.get_feature_names_out()[int(g.argmax())]     # first shell at a / sqrt(2) = 2.55 Å
    'rdf_Cu-Cu_2.50-2.60'
    """

    _parameter_constraints = {
        **_structures.NeighborFeaturizer._parameter_constraints,
        "elements": [list, tuple, None],
        "n_bins": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(self, elements=None, cutoff=10.0, n_bins=100, errors="raise", n_jobs=None):
        self.elements = elements
        self.n_bins = n_bins
        super().__init__(cutoff=cutoff, errors=errors, n_jobs=n_jobs)

    def _fit(self, X):
        """Learn the element set from ``X`` (unless ``elements`` is given)."""
        if self.elements is not None:
            unknown = [e for e in self.elements if e not in ATOMIC_NUMBER]
            if unknown or not len(self.elements):
                raise ValueError(f"elements must be element symbols, got unknown {unknown}")
            zs = {ATOMIC_NUMBER[e] for e in self.elements}
        else:
            if X is None:
                raise ValueError("X is required to learn the elements (or pass elements=)")
            zs = {int(z) for s in self._structures_for_fit(X) for z in atomic_numbers(s)} - {0}
            if not zs:
                raise StructureError("no structure of X could be read; cannot learn the elements")
        self.elements_ = [ELEMENTS[z - 1] for z in sorted(zs)]
        n = len(self.elements_)
        a, b = np.triu_indices(n)
        self.pairs_ = [(self.elements_[i], self.elements_[j]) for i, j in zip(a, b)]
        self.bin_edges_ = np.linspace(0.0, float(self.cutoff), self.n_bins + 1)
        # pair index of (A, B) and (B, A) alike
        self._pair_of = np.full((n, n), -1, dtype=np.intp)
        self._pair_of[a, b] = self._pair_of[b, a] = np.arange(len(a))
        self._code_of = np.full(len(ELEMENTS) + 1, -1, dtype=np.intp)
        self._code_of[[ATOMIC_NUMBER[e] for e in self.elements_]] = np.arange(n)
        step = float(self.cutoff) / self.n_bins
        digits = max(2, int(np.ceil(-np.log10(step))) + 1)
        lo, hi = self.bin_edges_[:-1], self.bin_edges_[1:]
        self.feature_names_out_ = np.asarray(
            [f"rdf_{p}-{q}_{x:.{digits}f}-{y:.{digits}f}" for p, q in self.pairs_
             for x, y in zip(lo, hi)],
            dtype=object,
        )

    def _featurize_one(self, s):
        n_bins, cutoff = self.n_bins, float(self.cutoff)
        n_pairs = len(self.pairs_)
        code = self._code_of[atomic_numbers(s)]  # row 0 (dummy species) is -1 too
        check_neighbor_search(s, cutoff)
        centre, nbr, _, dist = s.get_neighbor_list(cutoff, numerical_tol=1e-8)
        check_overlap(centre, nbr, dist)
        ca, cb = code[centre], code[nbr]
        keep = (ca >= 0) & (cb >= 0) & (dist < cutoff)
        # bins are [lo, hi); the nudge keeps a distance that sits on an edge (a lattice
        # vector of 5.3 Å with 0.1 Å bins) in the upper bin whatever its rounding noise
        k = np.minimum((dist[keep] * (n_bins / cutoff) + 1e-9).astype(np.intp), n_bins - 1)
        pair = self._pair_of[ca[keep], cb[keep]]
        # both directions of an A-B pair land in the same row: n_{A->B} + n_{B->A} = 2 n_{A->B}
        counts = np.bincount(pair * n_bins + k, minlength=n_pairs * n_bins).reshape(n_pairs, n_bins)
        n_el = np.bincount(code[code >= 0], minlength=len(self.elements_)).astype(float)
        a, b = np.triu_indices(len(self.elements_))
        pair_density = n_el[a] * n_el[b] / s.lattice.volume * np.where(a == b, 1.0, 2.0)
        shell = 4.0 / 3.0 * np.pi * np.diff(self.bin_edges_**3)
        with np.errstate(divide="ignore", invalid="ignore"):
            g = counts / (pair_density[:, None] * shell[None, :])
        g[pair_density == 0] = 0.0  # a pair whose elements are absent
        return g.ravel()


# ---------------------------------------------------------------------------
# Orbital-field matrix
# ---------------------------------------------------------------------------

#: valence subshell occupations of the orbital-field matrix (Lam Pham et al. 2017)
ORBITALS = tuple(f"s{i}" for i in range(1, 3)) + tuple(f"p{i}" for i in range(1, 7)) + \
    tuple(f"d{i}" for i in range(1, 11)) + tuple(f"f{i}" for i in range(1, 15))
_SUBSHELL = re.compile(r"^\d([spdf])(\d+)$")


@functools.lru_cache(maxsize=1)
def valence_orbitals() -> np.ndarray:
    """One-hot valence-subshell vectors, shape (n_elements + 1, 32), row Z.

    The subshells outside the noble-gas core of pymatgen's ground-state
    ``Element.electronic_structure`` (Fe ``[Ar].3d6.4s2`` -> d6, s2). Rows of
    elements without that data (Z > 104) are NaN.
    """
    from pymatgen.core import Element

    col = {o: i for i, o in enumerate(ORBITALS)}
    table = np.zeros((len(ELEMENTS) + 1, len(ORBITALS)))
    table[0] = np.nan
    for z in range(1, len(ELEMENTS) + 1):
        try:
            config = Element.from_Z(z).electronic_structure
        except (KeyError, ValueError):
            table[z] = np.nan
            continue
        for part in config.split("."):
            m = _SUBSHELL.match(part)
            if m:  # "[Ar]" (the core) does not match
                table[z, col[f"{m[1]}{m[2]}"]] = 1.0
    return table


class OrbitalFieldMatrixFeaturizer(_structures.NeighborFeaturizer):
    r"""Orbital-field matrix: valence orbitals of each site times those of its neighbours.

    Each element is a one-hot vector :math:`o` over the 32 valence-subshell
    occupations ``s1, s2, p1..p6, d1..d10, f1..f14`` (those outside the
    noble-gas core). For every site i the neighbours j give an environment
    vector :math:`e_i = \sum_j w_{ij} \, o_j / d_{ij}`; the descriptor is the
    site average :math:`\frac{1}{N}\sum_i e_i \otimes o_i`, a 32 × 32 matrix
    flattened row-major into 1024 features (Lam Pham et al., Sci. Technol.
    Adv. Mater. 18, 756 (2017); XenonPy's ``OrbitalFieldMatrix``, same
    feature order).

    Neighbour weights :math:`w_{ij}`:

    * ``neighbors="voronoi"`` (default, XenonPy's definition): the sites sharing
      a Voronoi facet with site i, weighted by the facet's solid angle divided
      by the largest solid angle of site i (pymatgen's
      ``VoronoiNN.get_all_voronoi_polyhedra``, one tessellation per
      structure). Parameter-free but slow, about 10 ms per site.
    * ``neighbors="cutoff"``: every site within ``cutoff`` Å, weighted by the
      smooth cosine cutoff :math:`\frac{1}{2}(\cos(\pi d / r_c) + 1)`.
      Computed from pymatgen's neighbour list with array operations only:
      about 100 times faster, but it depends on ``cutoff`` and does not equal
      XenonPy's values.

    matminer's ``OrbitalFieldMatrix`` is the same matrix with 1/r in Bohr⁻¹
    (skmdl's values / 1.8897) where its one-hot vectors agree, i.e. for
    main-group elements; for transition metals and the f block it also marks
    filled semicore subshells (Fe: s2 p6 d6, here s2 d6).
    ``benchmarks/structure_speed.py`` checks the agreement.

    Parameters
    ----------
    neighbors : {"voronoi", "cutoff"}, default="voronoi"
    cutoff : float, default=6.0
        ``"cutoff"``: radius of the neighbour shell (Å). ``"voronoi"``: radius
        of the periodic images given to the tessellation (doubled and retried
        if the Voronoi cells do not close); it does not change the result.
    divide_by_distance : bool, default=True
        Divide each weight by the distance (XenonPy ``including_d``).
    errors : {"raise", "nan"}, default="raise"
        Bad items (see :class:`RadialDistributionFeaturizer`) and elements
        beyond Z = 104: raise a ``ValueError`` naming the item and its row, or
        NaN row and a warning.
    n_jobs : int, default=None
        Worker processes for inputs of at least 64 items; ``None`` means 1.

    Attributes
    ----------
    feature_names_out_ : ndarray of str
        ``"ofm_{neighbour orbital}_{site orbital}"``, e.g. ``"ofm_p4_s2"``.

    Examples
    --------
    >>> from pymatgen.core import Lattice, Structure
    >>> fcc = Lattice([[0, 2.82, 2.82], [2.82, 0, 2.82], [2.82, 2.82, 0]])
    >>> nacl = Structure(fcc, ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    >>> f = OrbitalFieldMatrixFeaturizer().fit([nacl])
    >>> X = f.transform([nacl])
    >>> X.shape
    (1, 1024)
    >>> names = f.get_feature_names_out().tolist()
    >>> round(float(X[0, names.index("ofm_p5_s1")]), 3)   # Na (s1) sees 6 Cl (p5) at 2.82 Å, / 2
    1.064
    """

    _parameter_constraints = {
        **_structures.NeighborFeaturizer._parameter_constraints,
        "neighbors": [StrOptions({"voronoi", "cutoff"})],
        "divide_by_distance": ["boolean"],
    }

    def __init__(self, neighbors="voronoi", cutoff=6.0, divide_by_distance=True, errors="raise",
                 n_jobs=None):
        self.neighbors = neighbors
        self.divide_by_distance = divide_by_distance
        super().__init__(cutoff=cutoff, errors=errors, n_jobs=n_jobs)

    def _fit(self, X):
        """Fix the output features (the featurizer learns nothing)."""
        self.feature_names_out_ = np.asarray(
            [f"ofm_{a}_{b}" for a in ORBITALS for b in ORBITALS], dtype=object
        )

    def _featurize_one(self, s):
        onehot = valence_orbitals()
        z = atomic_numbers(s)
        missing = np.isnan(onehot[z, 0])
        if missing.any():
            bad = sorted({str(sp) for sp, m in zip(s.species, missing) if m})
            raise StructureError(f"no valence-orbital data for {bad}")
        check_neighbor_search(s, float(self.cutoff))
        if self.neighbors == "voronoi":
            centre, z_nbr, w, d = self._voronoi_neighbors(s)
        else:
            centre, nbr, _, d = s.get_neighbor_list(float(self.cutoff), numerical_tol=1e-8)
            check_overlap(centre, nbr, d)
            z_nbr = z[nbr]
            w = 0.5 * (np.cos(np.pi * d / float(self.cutoff)) + 1.0)
        if self.divide_by_distance:
            w = w / d
        env = np.zeros((len(s), len(ORBITALS)))
        np.add.at(env, centre, onehot[z_nbr] * w[:, None])
        return (env.T @ onehot[z] / len(s)).ravel()

    def _voronoi_neighbors(self, s):
        """(centre index, neighbour Z, solid-angle weight, distance) of every Voronoi facet."""
        from pymatgen.analysis.local_env import VoronoiNN

        # pymatgen puts the root sites into the unit cell but takes their images from the
        # coordinates as given: a site at fractional 1.0 then appears twice and loses its cell
        frac = s.frac_coords % 1.0
        frac[frac > 1.0 - 1e-8] = 0.0
        s = type(s)(s.lattice, s.species, frac)
        cutoff = float(self.cutoff)
        for _ in range(4):
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    cells = VoronoiNN(cutoff=cutoff).get_all_voronoi_polyhedra(s)
                break
            except (RuntimeError, ValueError):  # the cells do not close within the cutoff
                cutoff *= 2
        else:
            raise StructureError("Voronoi tessellation failed")
        centre, z_nbr, angle, dist = [], [], [], []
        for i, cell in enumerate(cells):
            top = max(f["solid_angle"] for f in cell.values())
            for f in cell.values():
                centre.append(i)
                z_nbr.append(f["site"].specie.Z)
                angle.append(f["solid_angle"] / top)
                dist.append(2.0 * f["face_dist"])
        return (np.asarray(centre, dtype=np.intp), np.asarray(z_nbr, dtype=np.intp),
                np.asarray(angle), np.asarray(dist))
