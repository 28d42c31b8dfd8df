"""Optional dependencies: import them where they are needed, or say which extra installs them."""

from __future__ import annotations

import importlib

#: import name -> (PyPI distribution, skmdl extra that installs it)
EXTRAS = {
    "matminer": ("matminer", "csp"),
    "flaml": ("flaml[automl]", "automl"),
    "optuna": ("optuna", "automl"),
    "optuna_integration": ("optuna-integration", "automl"),
    "dask": ("dask[distributed]", "dask"),
    "distributed": ("dask[distributed]", "dask"),
    "pyarrow": ("pyarrow", "parquet"),
}


def import_optional(name: str, purpose: str):
    """Import module ``name``, or raise an ``ImportError`` naming the extra that installs it.

    Parameters
    ----------
    name : str
        Dotted module name; its top-level package must be in :data:`EXTRAS`.
    purpose : str
        What needs it, in the user's words (goes into the message).

    Returns
    -------
    module

    Examples
    --------
    >>> import_optional("json", "reading cards").__name__
    'json'
    >>> import sys
    >>> saved = sys.modules.get("matminer")
    >>> sys.modules["matminer"] = None  # as if it were not installed
    >>> try:
    ...     import_optional("matminer", "the fingerprint distance")
    ... except ImportError as exc:
    ...     print(exc)
    the fingerprint distance needs the optional package 'matminer': pip install "skmdl[csp]"
    >>> if saved is None:
    ...     del sys.modules["matminer"]
    ... else:
    ...     sys.modules["matminer"] = saved
    """
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        top = name.split(".")[0]
        if top not in EXTRAS:
            raise
        dist, extra = EXTRAS[top]
        raise ImportError(f"{purpose} needs the optional package {dist!r}: "
                          f'pip install "skmdl[{extra}]"', name=top) from exc
