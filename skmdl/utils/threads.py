"""Run BLAS, OpenMP and torch on one thread (what each worker gets under ``pytest -n 2``,
and what keeps small models fast on a busy machine)."""

from __future__ import annotations

import contextlib


@contextlib.contextmanager
def one_thread():
    """Context manager: BLAS/OpenMP (threadpoolctl) and torch limited to one thread.

    Examples
    --------
    >>> import torch
    >>> with one_thread():
    ...     torch.get_num_threads()
    1
    """
    import torch
    from threadpoolctl import threadpool_limits

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with threadpool_limits(1):
            yield
    finally:
        torch.set_num_threads(n)
