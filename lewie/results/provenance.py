"""Provenance attributes of results that carry no machine paths, and the currency of the levels.

Results record which files they were made from as the path *as the scenario names it* (relative to
the scenario file's folder, e.g. ``../sam/data/example_village/sam.csv``) or, for a file elsewhere,
its file name, together with its SHA-256: enough to identify the input on any machine without
revealing the folders of the machine that made the results.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

DEFAULT_CURRENCY = "SAM currency"
MAX_UP = 2  # a path climbing more than this many folders from the scenario's folder is shown by name only
_PATH_FIELDS = (("sam",), ("parameters",), ("workbook",), ("montecarlo", "draws_file"), ("dashboard", "file"))


def portable_path(path, base=None) -> str:
    """``path`` relative to the folder ``base`` (the scenario's folder) when it is near it, else its
    file name; '' for None."""
    if path is None or str(path) == "":
        return ""
    path = Path(path)
    if base is not None:
        try:
            rel = Path(os.path.relpath(Path(path).resolve(), Path(base).resolve()))
        except ValueError:  # another drive (Windows)
            return path.name
        if sum(p == ".." for p in rel.parts) <= MAX_UP:
            return rel.as_posix()
    return path.name


def sha256(path) -> str:
    """SHA-256 of a file's bytes ('' when it cannot be read)."""
    if path is None or str(path) == "":
        return ""
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return ""


def scenario_base(sc) -> Path | None:
    """The folder a scenario's relative paths are resolved against (its file's folder)."""
    return Path(sc.source).resolve().parent if getattr(sc, "source", None) else None


def scenario_json(sc) -> str:
    """The scenario as JSON with every file path made portable (`portable_path`)."""
    data = sc.model_dump(mode="json")
    base = scenario_base(sc)
    for keys in _PATH_FIELDS:
        holder = data
        for k in keys[:-1]:
            holder = holder.get(k) if isinstance(holder, dict) else None
        if isinstance(holder, dict) and holder.get(keys[-1]):
            holder[keys[-1]] = portable_path(holder[keys[-1]], base)
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def currency_of(ds) -> str:
    """The currency of the results' levels, with its year when known: ``2016 KES``, else "SAM currency"."""
    attrs = getattr(ds, "attrs", {}) or {}
    cur = str(attrs.get("currency") or DEFAULT_CURRENCY)
    year = attrs.get("year")
    try:
        year = int(year) if year not in (None, "") else 0
    except (TypeError, ValueError):
        year = 0
    return f"{year} {cur}" if year > 0 else cur


def apply_currency(ds):
    """Units of the results' levels in the scenario's currency (attribute ``currency``, ``year``)
    instead of the generic "SAM currency"; returns ``ds`` (changed in place)."""
    cur = currency_of(ds)
    if cur == DEFAULT_CURRENCY:
        return ds
    for name in list(ds.variables):
        units = ds[name].attrs.get("units")
        if isinstance(units, str) and DEFAULT_CURRENCY in units:
            ds[name].attrs["units"] = units.replace(DEFAULT_CURRENCY, cur)
    return ds
