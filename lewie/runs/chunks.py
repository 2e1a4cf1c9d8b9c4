"""Chunks of draws: the one merge of results solved a chunk of draws at a time.

`lewie run` (in memory, or through chunk files), `lewie batch` (chunk files written by Dask
workers) and `solve_draws` callers all merge chunks with `merge_draws`; chunk files are written and
read by `lewie.runs.dask_batch` (`write_chunk`, `read_chunk`, `merge_chunks`).
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import xarray as xr

from lewie.errors import LewieError

SUMMED_ATTRS = ("solver_iterations",)  # counts: summed over the chunks
MAX_ATTRS = ("max_relative_residual",)  # the worst: maximised over the chunks


def same(a, b) -> bool:
    """Two attribute values are the same (NaN equals NaN; arrays elementwise)."""
    if isinstance(a, float) and isinstance(b, float) and a != a and b != b:
        return True
    try:
        return bool(a == b) if not hasattr(a, "shape") else bool((a == b).all())
    except Exception:  # noqa: BLE001 - incomparable values differ
        return False


def merge_draws(parts: Sequence[xr.Dataset], *, ignore: Iterable[str] = ()) -> xr.Dataset:
    """Chunks of draws into one Dataset, sorted by draw.

    Attributes: those every chunk shares; counts (`SUMMED_ATTRS`) summed, the worst residual
    (`MAX_ATTRS`) maximised; any other attribute that differs between chunks is an error (a chunk's
    metadata must not depend on its draw range); ``ignore``: attributes dropped (a chunk file's own).
    """
    if not parts:
        raise LewieError("no chunks of draws to merge")
    ignore = set(ignore)
    parts = sorted(parts, key=lambda d: int(d["draw"].values[0]))
    attrs = {}
    for name in parts[0].attrs:
        if name in ignore:
            continue
        values = [d.attrs.get(name) for d in parts]
        if name in SUMMED_ATTRS:
            attrs[name] = int(sum(int(v) for v in values))
        elif name in MAX_ATTRS:
            attrs[name] = float(np.nanmax(np.asarray(values, dtype=float)))
        elif all(same(v, values[0]) for v in values):
            attrs[name] = values[0]
        else:
            other = next(v for v in values if not same(v, values[0]))
            raise LewieError(f"attribute {name!r} differs between chunks of draws ({values[0]!r} vs {other!r})")
    if len(parts) == 1:
        merged = parts[0].copy()
    else:
        merged = _concat_draws(parts)
        if merged is None:  # chunks that differ in layout: xarray's own concat (its checks, its errors)
            merged = xr.concat([p.drop_attrs(deep=False) for p in parts], dim="draw", data_vars="minimal",
                               coords="minimal", compat="equals", join="exact", combine_attrs="override")
    merged.attrs = attrs
    return merged.drop_encoding()


def _concat_draws(parts: Sequence[xr.Dataset]) -> xr.Dataset | None:
    """`xr.concat` along ``draw`` of chunks with the same layout, as one `numpy.concatenate` per
    variable: the same Dataset (variables in the same order, attributes of the first chunk's
    variables), without xarray's per-variable alignment and merging, which cost more than the
    copying itself for the ~50 variables of a chunk. Variables without ``draw`` must be equal in every
    chunk (`LewieError` otherwise, as ``compat="equals"``). None when the chunks differ in their
    variables, dims or dtypes (other than the lengths of strings; the caller then uses `xr.concat`)."""
    first = parts[0]
    names = list(first.variables)  # the order of the first chunk's (as xr.concat)
    for p in parts[1:]:
        if p.variables.keys() != first.variables.keys() or p.coords.keys() != first.coords.keys():
            return None
        for name in names:
            a, b = first.variables[name], p.variables[name]
            if a.dims != b.dims or (a.dtype != b.dtype and not a.dtype.kind == b.dtype.kind == "U"):
                return None  # (strings of different lengths: numpy takes the longest, as xarray does)
    variables = {}
    for name in names:
        v = first.variables[name]
        if "draw" in v.dims:
            data = np.concatenate([p.variables[name].values for p in parts], axis=v.dims.index("draw"))
            variables[name] = xr.Variable(v.dims, data, v.attrs)
        else:
            for p in parts[1:]:
                if not p.variables[name].equals(v):
                    raise LewieError(f"variable {name!r} (without draws) differs between chunks of draws")
            variables[name] = xr.Variable(v.dims, v.values, v.attrs)
    coords = {n: variables[n] for n in names if n in first.coords}
    data_vars = {n: variables[n] for n in names if n not in first.coords}
    return xr.Dataset(data_vars, coords=coords)


__all__ = ["merge_draws", "same", "SUMMED_ATTRS", "MAX_ATTRS"]
