"""Import only what a command needs: lazy package attributes, and SciPy without ``scipy.stats``.

Pyomo registers an import hook (``pyomo.common.dependencies``) that, as soon as anything imports
``scipy``, imports ``scipy.stats``, ``scipy.integrate`` and ``scipy.spatial`` too (its
``_finalize_scipy`` callback): about 0.4 s on an idle machine, 2 s under load, for modules lewie's
run path never uses (it needs ``scipy.sparse`` and ``scipy.linalg``). `defer_scipy_stats` removes
that hook's entry for ``scipy`` before SciPy is imported; Pyomo's own deferred ``scipy`` object is
untouched and still imports what it needs the first time Pyomo uses it.
"""
from __future__ import annotations

import gc
import importlib
import sys


def defer_scipy_stats() -> None:
    """Stop Pyomo from importing ``scipy.stats`` whenever SciPy is imported (see the module docstring).

    Harmless when Pyomo is missing, when SciPy is already imported, or when a Pyomo version has no
    such hook (nothing is changed then).
    """
    if "scipy" in sys.modules:
        return
    try:
        from pyomo.common.dependencies import DeferredImportCallbackFinder
    except ImportError:  # pragma: no cover - Pyomo is a dependency; a version without the hook
        return
    callbacks = getattr(DeferredImportCallbackFinder, "_callbacks", None)
    if isinstance(callbacks, dict):
        callbacks.pop("scipy", None)


def lazy_attribute(package: str, table: dict[str, str], name: str, namespace: dict):
    """Module-level ``__getattr__`` helper: import ``table[name]`` (relative to ``package``) on first use
    and cache the attribute in ``namespace``. A module name maps to itself (``"analysis": ".analysis"``)."""
    target = table.get(name)
    if target is None:
        raise AttributeError(f"module {package!r} has no attribute {name!r}")
    module = importlib.import_module(target, package)
    value = module if target.rsplit(".", 1)[-1] == name else getattr(module, name)
    namespace[name] = value
    return value


class _DaskTypeUntilImported:
    """Stands in for xarray's ``DuckArrayModule("dask")`` until ``dask.array`` is imported.

    xarray asks, for every array it wraps, whether it is a Dask array (``array_type("dask")``), and
    the first time it does so it imports ``dask.array`` (~0.5 s) when Dask is installed, even if no
    Dask array will ever exist. Until ``dask.array`` is imported no object can be one of its
    arrays, so the answer is the empty type tuple; once it is imported (a batch, a user's own Dask
    code), this asks xarray for the real entry and replaces itself with it.
    """

    def __init__(self, cache: dict):
        self._cache = cache

    def _real(self):
        from xarray.namedarray.pycompat import DuckArrayModule
        real = DuckArrayModule("dask")
        self._cache["dask"] = real
        return real

    @property
    def type(self):
        return self._real().type if "dask.array" in sys.modules else ()

    def __getattr__(self, name):  # module, version, available: the real answer (imports dask)
        return getattr(self._real(), name)


def defer_xarray_dask_probe() -> None:
    """Keep xarray from importing ``dask.array`` until something else does (see
    `_DaskTypeUntilImported`). Does nothing if xarray has no such cache or already probed Dask."""
    try:
        from xarray.namedarray import pycompat
    except ImportError:  # pragma: no cover - an xarray without this module: nothing to do
        return
    cache = getattr(pycompat, "_cached_duck_array_modules", None)
    if isinstance(cache, dict) and "dask" not in cache and "dask.array" not in sys.modules:
        cache["dask"] = _DaskTypeUntilImported(cache)
    _defer_dask_collection_probe()


def _defer_dask_collection_probe() -> None:
    """xarray asks of every array it wraps whether it is a Dask collection
    (``xarray.namedarray.utils.is_dask_collection``), importing ``dask.base`` (~0.05 s) to ask. Dask's
    own first test is whether the object has a callable ``__dask_graph__``: without one the answer
    is False, with no import; with one, Dask is asked as before."""
    try:
        from xarray.namedarray import utils
    except ImportError:  # pragma: no cover - an xarray without this module: nothing to do
        return
    real = getattr(utils, "is_dask_collection", None)
    if real is None or getattr(real, "_lewie_deferred", False):
        return

    def is_dask_collection(x) -> bool:
        if isinstance(x, type) or not callable(getattr(x, "__dask_graph__", None)):
            return False
        return real(x)

    is_dask_collection._lewie_deferred = True
    is_dask_collection.__doc__ = real.__doc__
    utils.is_dask_collection = is_dask_collection


def import_frozen(*modules: str) -> None:
    """Import ``modules`` with the cyclic garbage collector paused, then move every object alive
    (the modules, their classes, functions and tables: they live as long as the process) out of the
    collector's reach (``gc.freeze``) and resume it. A command that imports NumPy, pandas, xarray,
    Pyomo and SciPy holds over a million such objects; without this every full collection later in
    the run (building the Pyomo model, assembling results) walks all of them again: ~0.3 s of a
    2 s `lewie run`. For a process's entry point only (`lewie.cli.main.main`): the frozen objects are
    never collected, which is right for a command's imports and wrong inside a long-lived session.
    An import that fails is left to the command, which reports it."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        for name in modules:
            try:
                importlib.import_module(name)
            except ImportError:
                break
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()
