"""Where the shared data folder is: ``$SKMDL_DATA``, and the error when it or a file is missing.

Its own module so that every loader (composition, SMILES and structure tasks,
the structure pool) can import it without importing the others.
"""

from __future__ import annotations

import os
from pathlib import Path

#: Environment variable naming the shared data folder.
DATA_ENV = "SKMDL_DATA"


class DataNotFoundError(FileNotFoundError):
    """The shared data folder (``$SKMDL_DATA``) or one of its files is missing."""


def data_hint() -> str:
    return (
        f"set the environment variable {DATA_ENV} to the shared data folder "
        f"(the one holding README.md and composition/), e.g. "
        f"`export {DATA_ENV}=/path/to/shared/data`; the bundled samples "
        f"(skmdl.datasets.load_sample) work without it"
    )


def data_home() -> Path:
    """Return the shared data folder named by ``$SKMDL_DATA``.

    Returns
    -------
    pathlib.Path
        The folder (not resolved further; ``~`` is expanded).

    Raises
    ------
    DataNotFoundError
        If ``SKMDL_DATA`` is unset or empty, or names no existing folder.

    See Also
    --------
    list_tasks : the composition tasks of this folder.

    Examples
    --------
    >>> from skmdl.datasets import data_home
    >>> home = data_home()  # needs SKMDL_DATA
    >>> (home / "composition").is_dir()
    True
    """
    value = os.environ.get(DATA_ENV, "").strip()
    if not value:
        raise DataNotFoundError(f"{DATA_ENV} is not set: {data_hint()}")
    path = Path(value).expanduser()
    if not path.is_dir():
        raise DataNotFoundError(f"{DATA_ENV}={value!r} is not an existing folder: {data_hint()}")
    return path
