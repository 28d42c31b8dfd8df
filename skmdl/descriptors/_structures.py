"""Crystal-structure inputs: reading them, and the transform loop shared by the structure featurizers.

Accepted items are pymatgen ``Structure`` objects, CIF text, and paths (``str``
or ``os.PathLike``) to a structure file pymatgen can read (CIF, POSCAR, ...).
Every item is checked on its own; a bad item becomes a :class:`StructureError`
carrying the reason, so the caller can name the item and its row.

pymatgen is imported lazily: ``import skmdl.descriptors`` stays as cheap as
the composition featurizer needs.

Examples
--------
>>> from pymatgen.core import Lattice, Structure
>>> nacl = Structure(Lattice.cubic(5.64), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
>>> describe(nacl)
'Structure(NaCl, 2 sites)'
>>> load_structures([nacl, "no/such.cif"])[1].reason
"no such file: 'no/such.cif'"
"""

from __future__ import annotations

import os
import warnings

from numbers import Real

import numpy as np
from sklearn.utils._param_validation import Interval

from ..exceptions import StructureError
from ._base import BaseFeaturizer, ParallelFeaturizer, parse_each
from ._formula import ELEMENTS

#: items from which ``n_jobs`` != 1 featurizes in parallel processes (below
#: that, starting workers costs more than it saves)
PARALLEL_MIN = 64
#: sites closer than this (Å) overlap (the tolerance of pymatgen's
#: ``Structure(validate_proximity=True)``)
MIN_DISTANCE = 0.5
#: bounds on one pymatgen neighbour search (``find_points_in_spheres``), whose
#: time and memory grow with the periodic images it visits (n sites times the
#: images within the cutoff: a thin or sheared cell has millions), the pairs it
#: returns, and the grid of cubes over the sites (216 bytes each: a 3,000 Å
#: cell takes 2.5 GB within 6 Å, a 10,000 Å one asks for 76 GB)
MAX_IMAGE_POINTS = 5e7
MAX_NEIGHBOR_PAIRS = 5e7
MAX_GRID_CUBES = 2e6


def _is_structure(obj) -> bool:
    # duck-typed so that pymatgen is not imported just to check a type
    return type(obj).__module__.startswith("pymatgen") and hasattr(obj, "lattice") \
        and hasattr(obj, "frac_coords")


def _looks_like_cif_text(s: str) -> bool:
    return "\n" in s or s.lstrip().startswith("data_")


def describe(item) -> str:
    """A short, readable name of an input item for error messages."""
    if _is_structure(item):
        try:
            return f"Structure({item.composition.reduced_formula}, {len(item)} sites)"
        except Exception:  # noqa: BLE001 - an empty or odd structure
            return f"{type(item).__name__}({len(item)} sites)"
    if isinstance(item, str) and _looks_like_cif_text(item):
        first = next((ln.strip() for ln in item.splitlines() if ln.strip()), "")
        return f"CIF text starting {first[:40]!r}"
    text = repr(item)
    # cut in the middle: a long path keeps its file name
    return text if len(text) <= 80 else text[:37] + "..." + text[-40:]


def atomic_numbers(s) -> np.ndarray:
    """Atomic number of each site; 0 for a dummy species (pymatgen gives those a hash)."""
    z = np.asarray(s.atomic_numbers, dtype=np.int64)
    return np.where((z >= 1) & (z <= len(ELEMENTS)), z, 0)


def to_structure(item):
    """One input item as an ordered, non-empty pymatgen ``Structure``.

    Raises
    ------
    StructureError
        With the reason: unreadable CIF text or file, missing file, no sites,
        partial occupancies, or an object that is not a structure.
    """
    from pymatgen.core import IStructure, Structure

    if isinstance(item, IStructure):  # Structure is a subclass
        s = item
    elif isinstance(item, (str, os.PathLike)):
        s = _read(item, Structure)
    else:
        raise StructureError(
            "expected a pymatgen Structure, CIF text or a path to a structure file, "
            f"got {type(item).__name__}"
        )
    if len(s) == 0:
        raise StructureError("the structure has no sites")
    if not s.is_ordered:
        raise StructureError("disordered structure (partial occupancies) is not supported")
    if not s.lattice.volume > 0:
        raise StructureError("the lattice has zero volume")
    if not (np.isfinite(s.lattice.matrix).all() and np.isfinite(s.frac_coords).all()):
        raise StructureError("the lattice or a coordinate is not a finite number")
    return s


def check_neighbor_search(s, cutoff: float) -> None:
    """Refuse, before it starts, a neighbour search within ``cutoff`` Å that cannot end well.

    A lattice vector shorter than :data:`MIN_DISTANCE` puts every site on top
    of its periodic image. Cells so thin, dense or large that pymatgen would
    need gigabytes or minutes are refused with the reason (see
    :data:`MAX_IMAGE_POINTS`); no real crystal comes near these bounds.

    Raises
    ------
    StructureError
    """
    lattice = s.lattice
    shortest = min(lattice.abc)
    if shortest < MIN_DISTANCE:
        raise StructureError(f"a lattice vector is {shortest:.3g} Å long: every site overlaps "
                             "its periodic image")
    heights = lattice.volume / np.linalg.norm(
        np.cross(np.roll(lattice.matrix, -1, axis=0), np.roll(lattice.matrix, -2, axis=0)),
        axis=1)
    points = len(s) * np.prod(2 * np.ceil((cutoff + 0.15) / heights) + 2)
    if points > MAX_IMAGE_POINTS:
        raise StructureError(f"the cell is too thin (height {heights.min():.3g} Å) for a "
                             f"neighbour search within {cutoff:g} Å: ~{points:.2g} periodic "
                             f"images of sites (at most {MAX_IMAGE_POINTS:.0e})")
    pairs = len(s) ** 2 / lattice.volume * 4.0 / 3.0 * np.pi * cutoff**3
    if pairs > MAX_NEIGHBOR_PAIRS:
        raise StructureError(f"{len(s)} sites in {lattice.volume:.3g} Å^3 would have "
                             f"~{pairs:.2g} neighbour pairs within {cutoff:g} Å "
                             f"(at most {MAX_NEIGHBOR_PAIRS:.0e})")
    span = np.ptp(s.cart_coords, axis=0)
    if np.prod(np.ceil((span + 2 * cutoff) / cutoff)) > MAX_GRID_CUBES:
        raise StructureError(f"the sites span {span.max():.3g} Å: too far apart for a neighbour "
                             f"search within {cutoff:g} Å")


def check_overlap(centre, nbr, dist) -> None:
    """StructureError naming two sites closer than :data:`MIN_DISTANCE` in a neighbour list."""
    if len(dist) and dist.min() < MIN_DISTANCE:
        k = int(np.argmin(dist))
        raise StructureError(f"sites {int(centre[k])} and {int(nbr[k])} are {dist[k]:.3g} Å apart "
                             f"(overlapping atoms; at least {MIN_DISTANCE} Å expected)")


def _read(item, Structure):
    text = os.fspath(item)
    cif_text = isinstance(item, str) and _looks_like_cif_text(item)
    if not cif_text and not os.path.isfile(text):
        raise StructureError(f"no such file: {text!r}")
    try:
        with warnings.catch_warnings():
            # pymatgen warns about every rounded occupancy and missing tag
            warnings.simplefilter("ignore")
            if cif_text:
                return Structure.from_str(text, fmt="cif")
            return Structure.from_file(text)
    except Exception as exc:  # noqa: BLE001 - any reader failure is a bad input
        what = "CIF text" if cif_text else "file"
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise StructureError(f"cannot read the {what}: {reason}") from None


def load_structures(items) -> list:
    """Each item as a Structure, or the StructureError that says why not."""
    return parse_each(to_structure, items, StructureError)


class BaseStructureFeaturizer(BaseFeaturizer):
    """Featurizers of crystal structures: what an item is, how it is named, how it is read.

    Subclasses set ``feature_names_out_`` in ``fit`` and implement
    ``_featurize_one(structure) -> 1-d array``; a ``StructureError`` (or
    ``ValueError``) raised there fails that row only. Items are not
    deduplicated (comparing structures costs more than featurizing them).
    """

    _noun = "structures"
    _item_error = StructureError
    _deduplicate = False

    @classmethod
    def _is_single_item(cls, X) -> bool:
        return isinstance(X, (str, os.PathLike)) or _is_structure(X)

    def _describe(self, item) -> str:
        return describe(item)

    def _featurize_chunk(self, items):
        """(matrix, {position: reason}) for a list of input items."""
        out = self._empty(len(items))
        errors = {}
        for i, s in enumerate(load_structures(items)):
            try:
                if isinstance(s, StructureError):
                    raise s
                out[i] = self._featurize_one(s)
            except ValueError as exc:  # StructureError is one
                errors[i] = str(exc)
        return out, errors

    def _structures_for_fit(self, X):
        """Structures of X for learning (bad items raise, or are skipped with a warning)."""
        items = self._items(X)
        loaded = load_structures(items)
        errors = {i: s.reason for i, s in enumerate(loaded) if isinstance(s, StructureError)}
        self._report(errors, items, stacklevel=4)
        return [s for s in loaded if not isinstance(s, StructureError)]


class ParallelStructureFeaturizer(BaseStructureFeaturizer, ParallelFeaturizer):
    """Structure featurizers with ``n_jobs``: workers read the files and CIF text themselves."""

    _parallel_min = PARALLEL_MIN
    _chunks_per_job = 4


class NeighborFeaturizer(ParallelStructureFeaturizer):
    """Structure featurizers built on a neighbour search within ``cutoff`` Å.

    Parameters
    ----------
    cutoff : float
        Radius of the neighbour search (Å).
    errors : {"raise", "nan"}, default="raise"
    n_jobs : int or None, default=None
    """

    _parameter_constraints = {**ParallelStructureFeaturizer._parameter_constraints,
                              "cutoff": [Interval(Real, 0, None, closed="neither")]}

    def __init__(self, *, cutoff, errors="raise", n_jobs=None):
        self.cutoff = cutoff
        super().__init__(errors=errors, n_jobs=n_jobs)
