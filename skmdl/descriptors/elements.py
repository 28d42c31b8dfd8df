"""Element feature tables shipped with skmdl.

The tables are those redistributed with CrabNet (MIT licence):

* ``magpie``   -- Ward et al., npj Comput. Mater. 2, 16028 (2016), 22 properties
* ``oliynyk``  -- Oliynyk et al., Chem. Mater. 28, 7324 (2016), 44 properties
* ``jarvis``   -- Choudhary et al., Phys. Rev. Mater. 2, 083801 (2018) (CFID), 438
* ``mat2vec``  -- Tshitoyan et al., Nature 571, 95 (2019), 200-d word embeddings
* ``skipatom`` -- Antunes et al., npj Comput. Mater. 8, 44 (2022), 200-d embeddings

They are small (< 600 kB together) and live in ``skmdl/descriptors/data`` so the
featurizers work without ``SKMDL_DATA``.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from importlib import resources

import numpy as np
import pandas as pd

ELEMENT_TABLES = ("magpie", "oliynyk", "jarvis", "mat2vec", "skipatom")


@lru_cache(maxsize=None)
def _read_table(name: str) -> pd.DataFrame:
    with resources.files("skmdl.descriptors").joinpath(f"data/{name}.csv.gz").open("rb") as fh:
        df = pd.read_csv(fh, compression="gzip", index_col=0)
    df.index = df.index.astype(str)
    df.index.name = "element"
    return df.astype(np.float64)


def load_element_table(name: str = "magpie") -> pd.DataFrame:
    """Load a packaged element feature table.

    Parameters
    ----------
    name : {"magpie", "oliynyk", "jarvis", "mat2vec", "skipatom"}

    Returns
    -------
    pandas.DataFrame
        One row per element (index: symbol), one float column per property.
        Missing values are NaN.

    Examples
    --------
    >>> table = load_element_table("magpie")
    >>> float(table.loc["Fe", "Number"])
    26.0
    """
    if name not in ELEMENT_TABLES:
        raise ValueError(f"unknown element table {name!r}; choose one of {ELEMENT_TABLES}")
    return _read_table(name).copy()


def table_hash(table: pd.DataFrame) -> str:
    """sha256 of a table's symbols, column names and values (identifies a descriptor).

    Parameters
    ----------
    table : pandas.DataFrame
        Element table: symbols as index, numeric property columns.

    Returns
    -------
    str
        Hex digest.
    """
    h = hashlib.sha256()
    h.update("\x1f".join(map(str, table.index)).encode())
    h.update(b"\x1e")
    h.update("\x1f".join(map(str, table.columns)).encode())
    h.update(b"\x1e")
    h.update(np.ascontiguousarray(table.to_numpy(dtype=np.float64)).tobytes())
    return h.hexdigest()
