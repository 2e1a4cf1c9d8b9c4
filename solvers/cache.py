"""Explicit caches of what is derived from an object and expensive to derive again: the compiled
tape of a Pyomo model, the core/explicit split of a tape, the magnitude plan of its residuals.

Each cache is keyed by the object it derives from (held weakly: the entry goes when the object
does) and, where the derivation depends on a part of the object that can change, by a signature of
that part (e.g. which constraints of a model are active): a changed signature rebuilds the entry.
Nothing is stored on the objects themselves.
"""
from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import Any


class DerivedCache:
    """``get(obj)`` returns ``build(obj)``, built once per object (and per ``signature(obj)``)."""

    def __init__(self, name: str, build: Callable[[Any], Any], signature: Callable[[Any], Any] | None = None):
        self.name = name
        self._build = build
        self._signature = signature
        self._store: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._lock = threading.RLock()

    def get(self, obj):
        sig = self._signature(obj) if self._signature is not None else None
        with self._lock:
            hit = self._store.get(obj)
            if hit is not None and hit[0] == sig:
                return hit[1]
            value = self._build(obj)
            self._store[obj] = (sig, value)
            return value

    def peek(self, obj):
        """The cached value for ``obj`` (None if there is none), without building it."""
        hit = self._store.get(obj)
        return None if hit is None else hit[1]

    def put(self, obj, value) -> None:
        sig = self._signature(obj) if self._signature is not None else None
        with self._lock:
            self._store[obj] = (sig, value)

    def clear(self, obj=None) -> None:
        with self._lock:
            if obj is None:
                self._store.clear()
            else:
                self._store.pop(obj, None)

    def __len__(self) -> int:
        return len(self._store)

    def __repr__(self) -> str:
        return f"DerivedCache({self.name!r}, {len(self)} entries)"
