"""A store of template crystals indexed by anonymized formula.

Template-based CSP looks up known crystals whose composition has the same
stoichiometry pattern as the target (``AB2C4`` for both ``MgAl2O4`` and
``Mn(FeO2)2``) and substitutes the target's elements. The store is a
dict from anonymized reduced formula to templates, so a look-up costs one dict
access whatever its size (100k templates load in seconds, no pairwise work).

Sources: pymatgen's AFLOW prototype library, folders of CIF / pymatgen JSON
files, and any list of Structures (e.g. the other crystals of a benchmark).
:meth:`TemplateStore.exclude_formulas` gives the leave-one-out store that holds
no structure of the target's reduced formula.
"""

from __future__ import annotations

import json
import warnings
from collections import defaultdict
from functools import lru_cache
from pathlib import Path

from pymatgen.core import Composition, Structure

from .types import TypeCache, group_types


def anonymized_formula(composition) -> str:
    """Stoichiometry pattern of a composition: ``"AB2"`` for SiO2, TiO2 and Si2O4.

    Examples
    --------
    >>> anonymized_formula("Fe3O4"), anonymized_formula("Mg2SiO4"), anonymized_formula("NaCl")
    ('A3B4', 'AB2C4', 'AB')
    """
    comp = composition if isinstance(composition, Composition) else Composition(composition)
    return comp.reduced_composition.anonymized_formula


def reduced_formula(composition) -> str:
    comp = composition if isinstance(composition, Composition) else Composition(composition)
    return comp.reduced_formula


class Template:
    """A template crystal: its id, structure and where it came from.

    Parameters
    ----------
    id : str
    structure : pymatgen Structure, optional
        Given now, or built on first access from ``raw``.
    source : str
    raw : tuple, optional
        ``(lattice 3x3, frac n x 3, species)`` arrays of a pool row; with ``formula``
        and ``key`` they let a store hold 155,000 templates without building them.
    formula, key : str, optional
        Reduced and anonymized formula (computed from the structure when not given).
    space_group : int, optional
        Known space group (a pool's own field), or None.
    """

    __slots__ = ("id", "source", "raw", "formula", "key", "space_group", "nsites", "_structure")

    def __init__(self, id, structure=None, source="user", *, raw=None, formula=None, key=None,
                 space_group=None):
        if structure is None and raw is None:
            raise ValueError(f"template {id!r}: give a structure or raw arrays")
        self.id, self.source, self.raw, self._structure = str(id), source, raw, structure
        if formula is None or key is None:
            comp = self.structure.composition.reduced_composition
            formula, key = comp.reduced_formula, comp.anonymized_formula
        self.formula, self.key = formula, key
        self.space_group = space_group
        self.nsites = len(raw[2]) if raw is not None else len(structure)

    @property
    def structure(self) -> Structure:
        """The template's pymatgen Structure (built from ``raw`` on first access)."""
        if self._structure is None:
            from pymatgen.core import Lattice

            lattice, frac, species = self.raw
            self._structure = Structure(Lattice(lattice), list(species), frac)
        return self._structure

    def __repr__(self):
        return f"Template({self.id!r}, {self.formula}, source={self.source!r})"

    def __getstate__(self):  # drop a structure that can be rebuilt from raw arrays
        return {k: (None if k == "_structure" and self.raw is not None else getattr(self, k))
                for k in self.__slots__}

    def __setstate__(self, state):
        for k, v in state.items():
            setattr(self, k, v)


class TemplateStore:
    """Template crystals indexed by anonymized formula.

    Examples
    --------
    >>> from pymatgen.core import Lattice, Structure
    >>> kcl = Structure.from_spacegroup("Fm-3m", Lattice.cubic(6.3), ["K", "Cl"],
    ...                                 [[0, 0, 0], [0.5, 0.5, 0.5]])
    >>> store = TemplateStore().add_structures([kcl], ids=["KCl-rocksalt"])
    >>> [t.id for t in store.lookup("NaCl")]
    ['KCl-rocksalt']
    >>> len(store.exclude_formulas(["KCl"]))
    0
    """

    def __init__(self):
        self._by_key: dict[str, list[Template]] = defaultdict(list)
        self._ids: set[str] = set()
        #: where structure types of pool templates are cached (set by add_table)
        self.type_cache = TypeCache()

    def __len__(self):
        return len(self._ids)

    def __iter__(self):
        for templates in self._by_key.values():
            yield from templates

    def __repr__(self):
        return f"TemplateStore({len(self)} templates, {len(self._by_key)} stoichiometries)"

    @property
    def formulas(self) -> set:
        """Reduced formulas of every stored template."""
        return {t.formula for t in self}

    def add(self, template: Template) -> "TemplateStore":
        if template.id in self._ids:
            raise ValueError(f"duplicate template id {template.id!r}")
        self._ids.add(template.id)
        self._by_key[template.key].append(template)
        return self

    def add_structures(self, structures, ids=None, source="user") -> "TemplateStore":
        """Add Structures (ordered crystals only; disordered ones are skipped with a warning)."""
        structures = list(structures)
        if ids is None:
            start = len(self)
            ids = [f"{source}-{start + i}" for i in range(len(structures))]
        if len(ids) != len(structures):
            raise ValueError(f"{len(ids)} ids for {len(structures)} structures")
        skipped = []
        for tid, s in zip(ids, structures):
            if not isinstance(s, Structure):
                raise TypeError(f"template {tid!r} is a {type(s).__name__}, "
                                "not a pymatgen Structure")
            if not s.is_ordered:
                skipped.append(tid)
                continue
            self.add(Template(str(tid), s, source))
        if skipped:
            warnings.warn(f"skipped {len(skipped)} disordered template(s), e.g. {skipped[:3]}")
        return self

    def add_table(self, table, source=None) -> "TemplateStore":
        """Add the rows of a pool table (:func:`skmdl.datasets.load_structures`), lazily.

        No Structure is built here: each template keeps its row's arrays and
        builds its Structure when a target needs it. Structure types of the
        table's templates are cached beside the pool's parsed-array cache.
        """
        from ..datasets.structures import cache_dir, is_pool_table

        if not is_pool_table(table):
            raise TypeError("add_table needs a table from skmdl.datasets.load_structures "
                            f"(columns lattice, species, frac), got {type(table).__name__}")
        pool = dict(table.attrs.get("pool", {}))
        source = source or pool.get("name") or "pool"
        cols = [table[c].tolist() for c in ("id", "lattice", "frac", "species", "formula",
                                            "anonymized_formula", "spacegroup")]
        for sid, lat, frac, species, formula, anon, sg in zip(*cols):
            self.add(Template(sid, source=source, raw=(lat, frac, species), formula=formula,
                              key=anon, space_group=int(sg) if sg > 0 else None))
        if pool.get("sha256"):
            self.type_cache = TypeCache(cache_dir() / "pools" / f"{source}-{pool['sha256'][:16]}"
                                        "-types", source=source)
        return self

    def types(self, composition, max_atoms=None) -> list:
        """Structure types (:class:`~skmdl.csp.types.StructureType`) of the templates with
        the stoichiometry pattern of ``composition`` (≤ ``max_atoms`` sites), most members first.
        """
        members = [t for t in self.lookup(composition)
                   if max_atoms is None or t.nsites <= max_atoms]
        return group_types(members, self.type_cache)

    def add_aflow_prototypes(self) -> "TemplateStore":
        """Add pymatgen's AFLOW prototype library (288 ordered prototypes), ids ``aflow:<label>``.
        """
        for template in _aflow_templates():
            self.add(template)
        return self

    def add_folder(self, folder, source=None) -> "TemplateStore":
        """Add every ``*.cif`` and pymatgen ``*.json`` Structure file of a folder (recursively).

        Ids are ``<source>:<relative path without suffix>``.
        """
        folder = Path(folder)
        if not folder.is_dir():
            raise FileNotFoundError(f"template folder {folder} does not exist")
        source = source or folder.name
        structures, ids = [], []
        for path in sorted(folder.rglob("*")):
            if path.suffix.lower() not in (".cif", ".json"):
                continue
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    if path.suffix.lower() == ".json":
                        s = Structure.from_dict(json.loads(path.read_text()))
                    else:
                        s = Structure.from_file(path)
            except Exception as exc:  # noqa: BLE001 - name the bad file
                raise ValueError(f"cannot read a structure from {path}: {exc}") from exc
            structures.append(s)
            ids.append(f"{source}:{path.relative_to(folder).with_suffix('')}")
        return self.add_structures(structures, ids, source=source)

    def lookup(self, composition) -> list[Template]:
        """Templates with the same stoichiometry pattern as ``composition``."""
        return list(self._by_key.get(anonymized_formula(composition), ()))

    def exclude_formulas(self, formulas) -> "TemplateStore":
        """A new store without any structure whose reduced formula is in ``formulas``."""
        banned = {reduced_formula(f) for f in formulas}
        out = TemplateStore()
        out.type_cache = self.type_cache
        for t in self:
            if t.formula not in banned:
                out.add(t)
        return out


def aflow_prototypes() -> dict:
    """pymatgen's AFLOW prototype library as ``{id: Structure}`` (the ordered prototypes).

    The same crystals as :meth:`TemplateStore.add_aflow_prototypes`, for a
    reference set of prototypes alone (e.g. a benchmark's template-pool
    ablation: ``ShotgunCSP(prototypes=False).fit(pd.Series(aflow_prototypes()))``).

    Examples
    --------
    >>> protos = aflow_prototypes()
    >>> len(protos) > 200, next(iter(protos)).startswith("aflow:")
    (True, True)
    """
    return {t.id: t.structure for t in _aflow_templates()}


@lru_cache(maxsize=1)
def _aflow_templates() -> tuple:
    """pymatgen's AFLOW prototypes as Templates (built once per process: loading takes seconds)."""
    from pymatgen.analysis.prototypes._data import AFLOW_PROTOTYPE_LIBRARY

    out, ids = [], set()
    for i, entry in enumerate(AFLOW_PROTOTYPE_LIBRARY):
        tid = f"aflow:{entry.get('tags', {}).get('aflow', i)}"
        if tid in ids:
            tid = f"{tid}#{i}"
        ids.add(tid)
        if entry["snl"].structure.is_ordered:
            out.append(Template(tid, entry["snl"].structure, "aflow"))
    return tuple(out)


def leave_one_out(store: TemplateStore, target) -> TemplateStore:
    """The store without any structure of the target's reduced formula.

    ``target`` is a formula, Composition or Structure. Use it for benchmarks:
    a target must never be its own template.
    """
    comp = getattr(target, "composition", target)
    return store.exclude_formulas([comp])
