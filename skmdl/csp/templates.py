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
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pymatgen.core import Composition, Structure


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


@dataclass
class Template:
    """A template crystal: its id, structure and where it came from."""

    id: str
    structure: Structure
    source: str

    def __post_init__(self):
        comp = self.structure.composition.reduced_composition
        #: reduced formula and anonymized formula, computed once
        self.formula = comp.reduced_formula
        self.key = comp.anonymized_formula


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
        for t in self:
            if t.formula not in banned:
                out.add(t)
        return out


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
