"""Crystal-structure tasks: targets keyed by Materials Project id, joined to the pool.

``$SKMDL_DATA/structures/mp2018_formation_energy.csv.gz`` holds the MEGNet
MP-2018.6.1 formation energies and PBE band gaps with their published
train/val/test split; the structures come from ``mp_structures.jsonl.gz``
(:func:`~skmdl.datasets.load_structures`, its cached table). ``X`` is a
list-like Series of pymatgen ``Structure`` objects, built lazily per row only
when asked (:class:`StructureColumn`), so loading the task costs the pool table
and the join, not 51,000 pymatgen objects.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

#: structure task -> (file under ``structures/``, target column)
STRUCTURE_TASKS = {
    "mp2018_e_form": ("mp2018_formation_energy.csv.gz", "e_form"),
    "mp2018_gap_pbe": ("mp2018_formation_energy.csv.gz", "gap_pbe"),
}


def structure_task_path(home: Path, name: str) -> Path:
    return Path(home) / "structures" / STRUCTURE_TASKS[name][0]


class StructureColumn(Sequence):
    """Structures of pool rows, each built on access (a read-only sequence).

    ``len``, indexing, slicing and iteration behave as for a list of
    ``Structure``; nothing is built until an item is read. Featurizers that
    take a list of structures accept it as it is.

    Examples
    --------
    >>> from pymatgen.core import Lattice, Structure
    >>> from skmdl.datasets.structures import pool_from_structures
    >>> cu = Structure(Lattice.cubic(3.61), ["Cu"], [[0, 0, 0]])
    >>> nacl = Structure(Lattice.cubic(5.64), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    >>> table = pool_from_structures([cu, nacl], ids=["a", "b"]).set_index("id")
    >>> column = StructureColumn(table, ["b", "a", "b"])
    >>> len(column), column[0].composition.reduced_formula, column[1:].ids
    (3, 'NaCl', ['a', 'b'])
    """

    def __init__(self, table: pd.DataFrame, ids: Sequence):
        self._table = table
        self.ids = list(ids)

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, i):
        from .structures import table_structure

        if isinstance(i, slice):
            return StructureColumn(self._table, self.ids[i])
        if isinstance(i, (list, np.ndarray)):
            return StructureColumn(self._table, [self.ids[int(j)] for j in i])
        return table_structure(self._table.loc[self.ids[i]])

    def __repr__(self) -> str:
        return f"StructureColumn({len(self)} structures)"


def load_structure_task(home: Path, name: str, return_split: bool = False):
    """``(X, y[, split])`` of a structure task: rows whose id is in the structure pool.

    ``X`` is a :class:`StructureColumn` (``X.ids`` are the Materials Project
    ids), ``y`` a float64 Series named ``name``, ``split`` the published
    ``"train"``/``"val"``/``"test"`` labels.
    """
    from .structures import load_structures

    column = STRUCTURE_TASKS[name][1]
    targets = pd.read_csv(structure_task_path(home, name))
    pool = load_structures("mp").set_index("id")
    targets = targets[targets["id"].isin(pool.index)].reset_index(drop=True)
    X = StructureColumn(pool, targets["id"].tolist())
    y = pd.Series(targets[column].to_numpy(dtype=np.float64), name=name)
    if not return_split:
        return X, y
    return X, y, pd.Series(targets["split"].to_numpy(dtype=object), name="split")
