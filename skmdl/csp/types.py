"""Structure types: templates of one prototype collapsed into one entry with a count.

A large pool (the 155,000 Materials Project crystals) holds thousands of
crystals of one stoichiometry pattern, most of them the same few prototypes
with other elements (11,000 ``ABC2`` entries, hundreds of them α-NaFeO2
layered oxides). Substituting the target into each would evaluate one
prototype hundreds of times. A *structure type* here is the set of templates
with the same anonymized formula, space group and Wyckoff sequence (spglib,
``symprec``): the multiset of (element amount in the formula, Wyckoff letter)
over the crystal's orbits, so that the elements' names do not matter. Each type
is substituted once, from the member whose elements are most similar to the
target's (its lattice ratios and internal coordinates fit the target best), and
its member count is a prior: a prototype many compounds adopt is a likely one.

Wyckoff sequences cost a few ms a crystal; they are computed only for the
anonymized formulas a target needs and cached per pool file (atomic JSON files
under ``$SKMDL_CACHE``), so the 11,000 ``ABC2`` crystals are analysed once.
"""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from ..utils.atomic import write_text

#: the symmetry tolerance of the MP file's own space groups (SpacegroupAnalyzer symprec=0.1)
SYMPREC = 0.1


@dataclass
class StructureType:
    """Templates sharing anonymized formula, space group and Wyckoff sequence.

    Attributes
    ----------
    key : str
        ``"<anonymized formula>|<space group>|<wyckoff sequence>"``.
    members : list of Template
        The templates of this type in the store (after any leave-one-out).
    """

    key: str
    members: list = field(default_factory=list)

    @property
    def count(self) -> int:
        """Members in the store: the type's prior weight."""
        return len(self.members)

    @property
    def space_group(self) -> int:
        return int(self.key.split("|")[1])

    def __repr__(self):
        return f"StructureType({self.key}, {self.count} members)"


@lru_cache(maxsize=1)
def _z_table() -> dict:
    from pymatgen.core.periodic_table import Element

    return {e.symbol: e.Z for e in Element}


def wyckoff_sequence(lattice, frac, species, amounts: dict, symprec=SYMPREC) -> tuple:
    """``(space group, sequence)`` of a crystal given as raw arrays.

    ``amounts`` maps each element to its amount in the reduced formula; the
    sequence is the sorted ``amount:letter`` of every symmetry orbit, e.g.
    ``(166, "1:a.1:b.2:c")`` for LiCoO2 in R-3m. Falls back to
    ``(-1, "nsites=<n>")`` where spglib fails.

    Examples
    --------
    >>> lattice = [[0, 2.8, 2.8], [2.8, 0, 2.8], [2.8, 2.8, 0]]
    >>> wyckoff_sequence(lattice, [[0, 0, 0], [0.5, 0.5, 0.5]], ["Na", "Cl"],
    ...                  {"Na": 1, "Cl": 1})
    (225, '1:a.1:b')
    """
    import spglib

    z = _z_table()
    numbers = [z[s] for s in species]
    try:
        ds = spglib.get_symmetry_dataset((np.asarray(lattice), np.asarray(frac), numbers),
                                         symprec=symprec)
    except Exception:  # noqa: BLE001 - spglib rejects a few odd cells
        ds = None
    if ds is None:
        return -1, f"nsites={len(species)}"
    orbits = sorted(set(int(i) for i in ds.equivalent_atoms))
    parts = sorted(f"{amounts[species[i]]}:{ds.wyckoffs[i]}" for i in orbits)
    return int(ds.number), ".".join(parts)


def _amounts(species) -> dict:
    counts = Counter(species)
    g = 0
    for v in counts.values():
        g = math.gcd(g, v)
    return {el: v // g for el, v in counts.items()}


def type_key(template, symprec=SYMPREC) -> str:
    """The structure-type key of one template (computed from its raw arrays or Structure)."""
    raw = template.raw
    if raw is None:
        s = template.structure
        raw = (s.lattice.matrix, s.frac_coords, tuple(sp.symbol for sp in s.species))
    lattice, frac, species = raw
    sg, seq = wyckoff_sequence(lattice, frac, species, _amounts(species), symprec)
    return f"{template.key}|{sg}|{seq}"


class TypeCache:
    """Type keys of a pool's templates, computed per anonymized formula and kept on disk.

    Parameters
    ----------
    folder : Path or None
        Cache folder (one JSON file per anonymized formula); None keeps them in memory only.
    source : str, optional
        Only templates of this source (the pool's) are written to disk; ids of other
        templates (a user's ``ref-0``) mean different crystals in different runs.
    symprec : float
    """

    def __init__(self, folder=None, source=None, symprec=SYMPREC):
        self.folder = folder
        self.source = source
        self.symprec = symprec
        self._memory: dict = {}
        self._local: dict = {}  # Template object -> key, for templates never written to disk

    def _path(self, anonymized):
        return None if self.folder is None else self.folder / f"{anonymized}.json"

    def _read(self, anonymized) -> dict:
        path = self._path(anonymized)
        if path is None or not path.is_file():
            return {}
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):  # a damaged cache file is recomputed, not trusted
            return {}
        if data.get("symprec") != self.symprec or not isinstance(data.get("keys"), dict):
            return {}
        return data["keys"]

    def keys_for(self, anonymized: str, templates) -> dict:
        """``{template id: type key}`` for ``templates`` (all of one anonymized formula)."""
        known = self._memory.setdefault(anonymized, {})
        pooled = [t for t in templates if self._persisted(t)]
        if pooled and not known:
            known.update(self._read(anonymized))
        todo = [t for t in pooled if t.id not in known]
        for t in todo:
            known[t.id] = type_key(t, self.symprec)
        if todo:
            try:
                write_text(self._path(anonymized),
                           json.dumps({"symprec": self.symprec, "keys": known}))
            except OSError:  # a read-only cache is no reason to fail
                pass
        out = {}
        for t in templates:
            if self._persisted(t):
                out[t.id] = known[t.id]
            else:  # keyed by the object itself: the dict keeps it alive, ids stay unique
                if t not in self._local:
                    self._local[t] = type_key(t, self.symprec)
                out[t.id] = self._local[t]
        return out

    def _persisted(self, template) -> bool:
        """Whether a template's key belongs in the on-disk cache (a pool template)."""
        return self.folder is not None and template.source == self.source


def group_types(templates, cache: TypeCache) -> list:
    """Structure types of ``templates`` (one anonymized formula), most members first."""
    templates = list(templates)
    by_anon = defaultdict(list)
    for t in templates:
        by_anon[t.key].append(t)
    groups: dict = {}
    for anon, members in by_anon.items():
        keys = cache.keys_for(anon, members)
        for t in members:
            groups.setdefault(keys[t.id], StructureType(keys[t.id])).members.append(t)
    return sorted(groups.values(), key=lambda g: (-g.count, g.key))
