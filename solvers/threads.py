"""One BLAS thread inside the batched solve: parallelism comes from processes (Dask workers), not threads.

The batched kernel's linear algebra is many small products and inverses (one per draw); OpenBLAS
threads add synchronisation to each and, on a shared machine, made a 40-group solve take anything
between 1.6 and 15 s. `one_blas_thread` limits BLAS/LAPACK to one thread for the duration of a
block (threadpoolctl), and restores the previous limits afterwards. Without threadpoolctl installed
it does nothing (the numbers do not depend on it: the products are computed the same way).
"""
from __future__ import annotations

import sys
from contextlib import contextmanager

_CONTROLLER: tuple = (-1, None)  # (len(sys.modules) when scanned, threadpoolctl.ThreadpoolController or False)


def _controller():
    """The BLAS libraries loaded in this process (threadpoolctl), scanned again only when modules were imported
    since the last scan (scanning costs ms; an import, e.g. SciPy's, can load another BLAS that must be limited too)."""
    global _CONTROLLER
    loaded, ctl = _CONTROLLER
    if ctl is None or (ctl is not False and loaded != len(sys.modules)):
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:
            ctl = False
        else:
            ctl = ThreadpoolController()
        _CONTROLLER = (len(sys.modules), ctl)
    return ctl


@contextmanager
def one_blas_thread():
    """Limit BLAS to one thread inside the ``with`` block (nested use is fine)."""
    ctl = _controller()
    if not ctl:
        yield
        return
    with ctl.limit(limits=1, user_api="blas"):
        yield


def pin_blas_threads() -> None:
    """Limit BLAS to one thread for the rest of the process (for Dask worker processes)."""
    ctl = _controller()
    if ctl:
        ctl.limit(limits=1, user_api="blas")
