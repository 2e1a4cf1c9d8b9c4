"""Import only what a command needs: lazy package attributes, and SciPy without ``scipy.stats``.

Pyomo registers an import hook (``pyomo.common.dependencies``) that, as soon as anything imports
``scipy``, imports ``scipy.stats``, ``scipy.integrate`` and ``scipy.spatial`` too (its
``_finalize_scipy`` callback): about 0.4 s on an idle machine, 2 s under load, for modules lewie's
run path never uses (it needs ``scipy.sparse`` and ``scipy.linalg``). `defer_scipy_stats` removes
that hook's entry for ``scipy`` before SciPy is imported; Pyomo's own deferred ``scipy`` object is
untouched and still imports what it needs the first time Pyomo uses it.
"""
from __future__ import annotations

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
