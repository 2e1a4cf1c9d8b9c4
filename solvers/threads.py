"""One BLAS thread inside the batched solve: parallelism comes from processes (Dask workers), not threads.

The batched kernel's linear algebra is many small products and inverses (one per draw); OpenBLAS
threads add synchronisation to each and, on a shared machine, made a 40-group solve take anything
between 1.6 and 15 s. `one_blas_thread` limits BLAS/LAPACK to one thread for the duration of a
block (threadpoolctl), and restores the previous limits afterwards. Without threadpoolctl installed
it does nothing (the numbers do not depend on it: the products are computed the same way).
"""
from __future__ import annotations

from contextlib import contextmanager

_CONTROLLER = None  # threadpoolctl.ThreadpoolController, found once (scanning the loaded libraries costs ms)


def _controller():
    global _CONTROLLER
    if _CONTROLLER is None:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:
            _CONTROLLER = False
        else:
            _CONTROLLER = ThreadpoolController()
    return _CONTROLLER


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
