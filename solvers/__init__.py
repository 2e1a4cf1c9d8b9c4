"""Solver backends for the square LEWIE system, and the registry of what is installed.

``newton`` (native, batched, derived from the Pyomo model) is the default; ``ipopt`` (through
Pyomo's ``ipopt`` or ``cyipopt`` interfaces) is an independent cross-check when installed.
"""
from __future__ import annotations

import importlib

from lewie.errors import InputError, unknown_label

from lewie.solvers.base import Backend, BackendInfo, BatchResult, SolveResult, SolverStatus
from lewie.solvers.newton import NewtonBackend

DEFAULT = "newton"
_BACKENDS = {"newton": ("lewie.solvers.newton", "NewtonBackend"),
             "ipopt": ("lewie.solvers.ipopt", "IpoptBackend")}


def _backend_class(name: str):
    if name not in _BACKENDS:
        raise InputError(unknown_label("solver", name, _BACKENDS))
    module, cls = _BACKENDS[name]
    try:
        return getattr(importlib.import_module(module), cls)
    except ImportError as exc:  # the optional backend's module cannot load here
        return exc


def registry() -> list[BackendInfo]:
    """Every known backend with its availability, version, capabilities and what is missing."""
    rows = []
    for name in _BACKENDS:
        cls = _backend_class(name)
        if isinstance(cls, Exception):
            rows.append(BackendInfo(name, False, "", (), f"cannot import: {cls}"))
        else:
            rows.append(cls.info())
    return rows


def get_backend(name: str = DEFAULT) -> Backend:
    """An instance of an installed backend; a clear error says why one is unavailable."""
    cls = _backend_class(name)
    if isinstance(cls, Exception):
        raise InputError(f"solver '{name}' is not available: {cls}")
    info = cls.info()
    if not info.available:
        raise InputError(f"solver '{name}' is not available: {info.reason}")
    return cls()


__all__ = ["Backend", "BackendInfo", "BatchResult", "SolveResult", "SolverStatus", "NewtonBackend", "registry",
           "get_backend", "DEFAULT"]
