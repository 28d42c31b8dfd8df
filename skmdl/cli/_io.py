"""Input and output of the command line: tables, atomic writes, progress bars, row-numbered errors.

Outputs are written with :mod:`skmdl.utils.atomic`: beside their target under a
temporary name, then renamed into place, so a command that fails (or is
killed) leaves no partial file or folder behind.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np

from ..exceptions import FeaturizationWarning, InvalidInputError
from ..utils.atomic import atomic_dir, atomic_file
from ..utils.optional import import_optional

TABLE_SUFFIXES = (".csv", ".parquet")


class InputError(ValueError):
    """Bad user input; the command prints its message on one line and exits with code 2."""


# ------------------------------------------------------------------ tables

def table_format(path, what="output") -> str:
    """``"csv"`` or ``"parquet"`` from the file name (an output must name one of the two).

    Examples
    --------
    >>> table_format("out.parquet"), table_format("in.txt", "input")
    ('parquet', 'csv')
    """
    name = str(path).lower()
    if name.endswith(".parquet"):
        return "parquet"
    if what == "output" and not name.endswith(".csv"):
        raise InputError(f"{path}: the output must end in .csv or .parquet")
    return "csv"  # inputs: anything else is read as CSV (.csv, .csv.gz, .txt, ...)


def check_output_file(path) -> None:
    """Fail early (before any long work) on an output path that cannot be written."""
    table_format(path)
    folder = Path(path).resolve().parent
    if not folder.is_dir():
        raise InputError(f"{path}: the folder {folder} does not exist")
    if Path(path).is_dir():
        raise InputError(f"{path}: is a folder")


def read_table(path):
    """A CSV (every column as text, nothing turned into NaN) or Parquet file as a DataFrame.

    Reading CSV cells verbatim keeps a formula ``NaN`` (sodium nitride) a
    formula and writes input columns back unchanged.
    """
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    parquet = table_format(path, "input") == "parquet"
    if parquet:
        import_optional("pyarrow", "reading Parquet tables")
    try:
        if parquet:
            df = pd.read_parquet(path)
        else:
            df = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (ValueError, OSError, ImportError) as exc:  # parser, encoding, pyarrow errors
        raise InputError(f"{path}: cannot read it as a table ({one_line(exc)})") from None
    if len(df) == 0:
        raise InputError(f"{path}: no rows")
    return df


def column(df, name, path) -> list:
    """The values of column ``name``, or an error listing the columns there are."""
    if name not in df.columns:
        raise InputError(f"{path}: no column {name!r} (columns: {list(df.columns)})")
    return df[name].tolist()


def write_table(df, path) -> None:
    """Write a DataFrame as CSV or Parquet (by extension), atomically.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import pandas as pd
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "out.csv"
    >>> write_table(pd.DataFrame({"formula": ["NaCl"], "y": [1.5]}), path)
    >>> path.read_text().splitlines()
    ['formula,y', 'NaCl,1.5']
    """
    fmt = table_format(path)
    if fmt == "parquet":
        import_optional("pyarrow", "writing Parquet tables")
    with atomic_file(path) as tmp:
        if fmt == "parquet":
            df.to_parquet(tmp, index=False)
        else:
            df.to_csv(tmp, index=False)


def check_output_folder(path, overwrite=False) -> None:
    """Fail early on an output folder that exists (and is not empty) unless ``overwrite``."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise InputError(f"{path}: exists and is not a folder")
    if path.is_dir() and any(path.iterdir()) and not overwrite:
        raise InputError(f"{path}: the folder exists and is not empty (use --overwrite)")


#: the name ``cli/csp.py`` uses for :func:`skmdl.utils.atomic.atomic_dir`
atomic_folder = atomic_dir


# ------------------------------------------------------------------ messages and progress

def one_line(exc) -> str:
    """An exception's message on one line (a KeyError without its quotes).

    Examples
    --------
    >>> one_line(KeyError("no column 'x'"))
    "no column 'x'"
    >>> one_line(ValueError("bad" + chr(10) + "  input"))  # chr(10): a line break
    'bad input'
    """
    msg = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
    text = " ".join(line.strip() for line in str(msg).splitlines() if line.strip())
    return text or type(exc).__name__


def progress(quiet, **kwargs):
    """A tqdm bar on stderr: off with ``--quiet`` or when stderr is not a terminal, and
    erased when done (so an error message stays the only line)."""
    from tqdm import tqdm

    return tqdm(disable=True if quiet else None, leave=False, file=sys.stderr, **kwargs)


def in_chunks(func, items, chunk, bar):
    """``func`` applied to consecutive chunks of ``items``, results stacked; ``bar`` advanced.

    ``func`` is a featurizer's ``transform`` or a model's predictor. A bad item
    of a chunk (:class:`~skmdl.exceptions.InvalidInputError` with a row) is
    re-raised naming its row in the whole input
    (:meth:`~skmdl.exceptions.InvalidInputError.with_row`); the chunks'
    :class:`~skmdl.exceptions.FeaturizationWarning` become one, with the total
    count and the rows of the whole input. Other errors and warnings pass
    through unchanged: a plain ``ValueError`` is a bug, not bad input.

    Returns
    -------
    ndarray of shape (len(items), ...)
        The chunks' results, concatenated along the rows.

    Examples
    --------
    >>> import warnings
    >>> from skmdl.descriptors import CompositionFeaturizer
    >>> class Bar:
    ...     def update(self, n):
    ...         pass
    >>> f = CompositionFeaturizer().fit()
    >>> try:
    ...     in_chunks(f.transform, ["NaCl", "MgO", "Qq"], 2, Bar())
    ... except InvalidInputError as exc:
    ...     print(exc.row, exc.item)
    2 Qq
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     F = in_chunks(f.set_params(errors="nan").transform, ["Xx", "NaCl", "Qq"], 2, Bar())
    >>> F.shape[0], caught[0].message.rows
    (3, (0, 2))
    """
    blocks, failed, noun = [], [], "items"
    for start in range(0, len(items), chunk):
        part = items[start:start + chunk]
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                blocks.append(func(part))
            except InvalidInputError as exc:
                if exc.row is None:
                    raise
                raise exc.with_row(start + exc.row) from None
        for w in caught:
            if isinstance(w.message, FeaturizationWarning):
                failed += [start + r for r in w.message.rows]
                noun = w.message.noun
            else:
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        bar.update(len(part))
    if failed:
        warnings.warn(FeaturizationWarning(len(failed), len(items), noun, failed), stacklevel=2)
    return np.concatenate(blocks) if blocks else np.empty((0,))
