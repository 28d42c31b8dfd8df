"""Molecule and polymer tasks of the shared data folder: one SMILES column, one property.

Each task is one property column of a wide table under ``$SKMDL_DATA``
(``molecules/qm9_subset.csv.gz``, ``polymers/*.csv.gz``); rows without a
value of that property are left out. Polymer SMILES are repeat units with two
``*`` connection points (featurize them with ``polymer="cyclize"``, see
:mod:`skmdl.descriptors.molecule`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

_QM9 = "molecules/qm9_subset.csv.gz"
_RADONPY = "polymers/radonpy_pi1070.csv.gz"
_OPP = "polymers/neurips_opp2025.csv.gz"
_POLYINFO = "polymers/grea_polyinfo_tg.csv.gz"

#: task -> (file under $SKMDL_DATA, SMILES column, property column, kind)
SMILES_TASKS = {
    **{f"qm9_{p}": (_QM9, "smiles", p, "molecule")
       for p in ("mu", "alpha", "homo", "lumo", "gap", "r2", "zpve", "cv")},
    **{f"radonpy_{p.replace('-', '_').lower()}": (_RADONPY, "smiles", p, "polymer")
       for p in ("density", "Rg", "self-diffusion", "Cp", "Cv", "compressibility",
                 "bulk_modulus", "volume_expansion", "static_dielectric_const",
                 "dielectric_const_dc", "refractive_index", "thermal_conductivity")},
    "opp2025_ffv": (_OPP, "SMILES", "FFV", "polymer"),
    "opp2025_density": (_OPP, "SMILES", "Density", "polymer"),
    "opp2025_rg": (_OPP, "SMILES", "Rg", "polymer"),
    "opp2025_tc": (_OPP, "SMILES", "Tc", "polymer"),
    "opp2025_tg": (_OPP, "SMILES", "Tg", "polymer"),
    "polyinfo_tg": (_POLYINFO, "SMILES", "tg", "polymer"),
}


def smiles_task_path(home: Path, name: str) -> Path:
    """File of a SMILES task under the shared data folder ``home``."""
    return Path(home) / SMILES_TASKS[name][0]


def load_smiles_task(home: Path, name: str):
    """``(X, y)`` of a SMILES task: SMILES (name ``"smiles"``) and property values.

    Rows without a value of the property are dropped; the index keeps each
    row's position in the file.

    Parameters
    ----------
    home : path
        The shared data folder (``$SKMDL_DATA``).
    name : str
        A key of :data:`SMILES_TASKS`.

    Returns
    -------
    X : pandas Series of str
    y : pandas Series of float

    Examples
    --------
    >>> import os
    >>> X, y = load_smiles_task(os.environ["SKMDL_DATA"], "qm9_gap")
    >>> X.name, y.name, len(X) == len(y)
    ('smiles', 'qm9_gap', True)
    """
    relpath, smiles_col, prop, _ = SMILES_TASKS[name]
    path = Path(home) / relpath
    df = pd.read_csv(path, usecols=[smiles_col, prop])
    y = pd.to_numeric(df[prop], errors="coerce").astype(np.float64)
    keep = y.notna().to_numpy()
    index = pd.RangeIndex(len(df))[keep]
    X = pd.Series(df[smiles_col].to_numpy(dtype=object)[keep], index=index, name="smiles")
    return X, pd.Series(y.to_numpy()[keep], index=index, name=name)
