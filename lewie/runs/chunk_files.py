"""Chunk files of draws (netCDF-3 bytes carrying the chunk's identity: `write_chunk`, `read_chunk`,
`chunk_is_done`), their integrity, and exclusive use of an output folder.

- **Checksums**: each chunk file ``draws-…nc`` is written with a sidecar ``draws-…nc.sha256`` holding
  the SHA-256 of its bytes, written after the chunk. A chunk counts as done only when its bytes
  match its checksum, so a chunk damaged on disk (a bad sector, a copy cut short, bytes zeroed) is
  found on ``--resume`` and computed again instead of being merged as numbers it does not hold. A
  chunk without a checksum (killed between the two renames) is simply computed again.
- **Folder lock**: `lock_folder` holds an exclusive ``flock`` on ``<out>/.lewie.lock`` for as long as
  a run uses the folder; a second run on the same folder is refused at once, with the process
  holding it. The operating system releases the lock when that process ends, however it ends
  (Ctrl-C, SIGKILL, a crash), so a killed run never leaves a stale lock behind. `lewie batch` holds
  it exclusively; `lewie run` (`lock_output`) holds it shared, so several runs writing different
  results files into one folder proceed side by side while a batch there is refused (and waits for
  none of them), plus an exclusive lock of its own results file (``.<stem>.lewie.lock``), so a second
  run writing the same file is refused.
"""
from __future__ import annotations

import errno
import hashlib
import json
import logging
import os
import socket
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import xarray as xr

from lewie.errors import InputError, LewieError
from lewie.files import FileError, os_error, write_text_atomic
from lewie.runs.batch_plan import Chunk

log = logging.getLogger("lewie.runs.chunk_files")

LOCK_NAME = ".lewie.lock"
CHECKSUM_SUFFIX = ".sha256"


class FolderInUse(InputError):
    """The output folder is used by another run (the message names the process)."""


class ChunkCorrupted(LewieError):
    """A chunk file's bytes do not match its checksum."""


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def checksum_path(path: str | Path) -> Path:
    path = Path(path)
    return path.with_name(path.name + CHECKSUM_SUFFIX)


def write_checksum(path: str | Path, data: bytes) -> Path:
    """Write the checksum of a chunk's bytes beside it (atomically)."""
    side = checksum_path(path)
    write_text_atomic(side, f"{sha256_bytes(data)}  {Path(path).name}\n", what="chunk checksum")
    return side


def stored_checksum(path: str | Path) -> str | None:
    try:
        text = checksum_path(path).read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError):
        return None
    digest = text.split()[0] if text.split() else ""
    return digest if len(digest) == 64 else None


def verify_checksum(path: str | Path) -> str | None:
    """None when the file's bytes match its stored checksum, else why not (no checksum, a mismatch,
    unreadable)."""
    return checked_bytes(path)[1]


def checked_bytes(path: str | Path) -> tuple[bytes | None, str | None]:
    """A chunk file's bytes, read once and checked against its stored checksum: ``(bytes, None)``,
    or ``(None, why not)`` (as `verify_checksum`)."""
    want = stored_checksum(path)
    if want is None:
        return None, "it has no checksum (written by an older lewie, or the run stopped while saving it)"
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        return None, f"it cannot be read ({exc.strerror or exc})"
    got = sha256_bytes(data)
    if got != want:
        return None, f"its bytes do not match its checksum (SHA-256 {got[:12]}…, saved {want[:12]}…): it is damaged"
    return data, None


def remove_chunk(path: str | Path) -> None:
    """Remove a chunk file and its checksum (a damaged chunk before it is computed again)."""
    for p in (Path(path), checksum_path(path)):
        try:
            p.unlink(missing_ok=True)
        except OSError:
            pass


@contextmanager
def lock_folder(out: str | Path, *, what: str = "run", shared: bool = False, name: str = LOCK_NAME) -> Iterator[Path]:
    """Hold an exclusive (``shared``: a shared) lock on the output folder ``out`` for the block (see
    the module docstring); ``name``: the lock file in it.

    Raises `FolderInUse` naming the process that holds it."""
    out = Path(out)
    created = not out.exists()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise os_error(exc, out, "make the output folder") from None
    path = out / name
    fd = _acquire(path, out, shared=shared)
    try:
        info = {"pid": os.getpid(), "host": socket.gethostname(), "what": what,
                "since": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime())}
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(info) + "\n").encode("utf-8"), 0)
        yield out
    finally:
        if not shared or _last_holder(fd):  # a shared holder leaves the file to those sharing it
            try:
                path.unlink(missing_ok=True)  # while still holding the lock (see `_acquire`)
            except OSError:
                pass
        os.close(fd)  # releases the lock
        if created:
            try:
                out.rmdir()  # a folder made for a run that wrote nothing is not left behind
            except OSError:
                pass


def _acquire(path: Path, out: Path, *, shared: bool = False) -> int:
    """Open and lock the lock file; retried when the file was removed (by its last holder) between
    opening and locking it, so two runs can never both hold a lock on the same path."""
    import fcntl
    for _ in range(100):
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise os_error(exc, path, "lock the output folder") from None
        try:
            fcntl.flock(fd, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
        except OSError as exc:
            holder = _holder(fd)
            os.close(fd)
            if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                raise os_error(exc, path, "lock the output folder") from None
            raise FolderInUse(f"the folder is in use by another lewie {holder}; wait for it to finish, or give "
                              "another --out", file=out) from None
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return fd
        os.close(fd)  # locked a file its holder had just removed: try the new one
    raise FolderInUse("the folder's lock file keeps changing; is another lewie starting and stopping there?",
                      file=out)


def _last_holder(fd: int) -> bool:
    """Whether a shared lock can become exclusive (no one else holds it): then its file may go."""
    import fcntl
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError:
        return False


def _holder(fd: int) -> str:
    try:
        info = json.loads(os.pread(fd, 4096, 0).decode("utf-8") or "{}")
        return f"{info.get('what', 'run')} (process {info.get('pid', '?')} on {info.get('host', '?')}, " \
               f"since {info.get('since', '?')})"
    except (OSError, ValueError):
        return "run"


@contextmanager
def lock_output(results: str | Path) -> Iterator[Path]:
    """The locks of a `lewie run` writing the results file ``results`` (and its chunks beside it): the
    folder's lock, shared (a batch there is refused), and the file's own lock, exclusive (a second run
    writing the same file is refused). Yields the folder."""
    results = Path(results)
    with lock_folder(results.parent, what="run", shared=True) as folder:
        with lock_folder(folder, what="run", name=f".{results.stem}.lewie.lock"):
            yield folder


__all__ = ["lock_folder", "lock_output", "FolderInUse", "ChunkCorrupted", "write_checksum", "verify_checksum",
           "checked_bytes", "remove_chunk",
           "checksum_path", "sha256_bytes", "LOCK_NAME", "FileError"]


# ------------------------------------------------------------------------------------------------
# chunk files of draws: netCDF-3 bytes with the chunk's identity, written atomically with a checksum
# ------------------------------------------------------------------------------------------------
CHUNK_ATTR = "lewie_batch_chunk"  # attribute of a chunk file: "<key>:<first>-<last>"
_DTYPES_ATTR = "lewie_batch_dtypes"  # a chunk file's record of its variables' non-float dtypes
_ORDER_ATTR = "lewie_batch_order"  # a chunk file's record of its variables' order (the file sorts them by shape)


def write_chunk(ds: xr.Dataset, chunk: Chunk, out: str | Path) -> Path:
    """Write a chunk file atomically: to a temporary name, then renamed into place.

    Chunk files are an internal, short-lived format: netCDF-3 (scipy engine, ~30 times faster to
    write and read than netCDF-4 for these many small variables), with the dtypes netCDF-3 lacks
    (int64, bool) recorded in an attribute and restored by `read_chunk`, so a chunk reads back
    identical to what the solver returned.
    """
    path = chunk.path(Path(out))
    data = _chunk_bytes(ds, chunk)
    write_checked_bytes(data, path)
    write_checksum(path, data)  # after the chunk: a chunk without its checksum is computed again
    return path


def _chunk_bytes(ds: xr.Dataset, chunk: Chunk) -> bytes:
    """The bytes of a chunk's file (see `write_chunk`)."""
    from lewie.results.dataset import netcdf3_bytes
    dtypes = {str(k): v.dtype.str for k, v in ds.variables.items() if v.dtype.kind in "iub"}
    ds = ds.assign_attrs({CHUNK_ATTR: chunk.ident, _DTYPES_ATTR: json.dumps(dtypes, sort_keys=True),
                          _ORDER_ATTR: json.dumps([str(k) for k in ds.variables])})
    return netcdf3_bytes(ds)  # = bytes(ds.to_netcdf(engine="scipy")), without importing Dask


def write_checked_bytes(data, path: Path) -> None:
    """Write a file atomically: a temporary file in the same folder, flushed, then renamed into place.

    Chunks are encoded in memory first (``to_netcdf()`` without a path, for which xarray's scipy
    backend takes no lock): given a path inside a Dask worker, xarray would lock the file through
    the scheduler (a distributed lock, ~0.5 s per file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def read_chunk(path: str | Path) -> xr.Dataset:
    """A chunk file, loaded, with its variables' dtypes restored (see `write_chunk`); its bytes must
    match its checksum (`lewie.runs.chunk_files`), else `ChunkCorrupted`.

    The file is read once: its bytes are checked against the checksum and then decoded from memory
    by xarray's own netCDF-3 store and CF decoding (what ``xr.open_dataset(engine="scipy")`` does),
    without the file handles, caching wrappers and lazy indexing that a Dataset left open needs."""
    data, problem = checked_bytes(path)
    if problem is not None:
        raise ChunkCorrupted(f"{path}: chunk file cannot be used: {problem}; run the batch again with --resume "
                             "to compute it again")
    return _decode_chunk(data)


def _decode_chunk(data: bytes) -> xr.Dataset:
    """The Dataset of a chunk file's bytes (see `read_chunk`): its variables in the order the solver
    gave them (recorded by `write_chunk`; a chunk file without the record: data variables first,
    then coordinates, in the file's order, as ``xr.open_dataset`` gives them)."""
    import io
    from xarray.backends import ScipyDataStore
    from xarray.conventions import decode_cf_variables
    store = ScipyDataStore(io.BytesIO(data), mode="r")
    try:
        variables, attrs = store.load()
        variables, attrs, coord_names = decode_cf_variables(variables, attrs)
        attrs = dict(attrs)
        dtypes = json.loads(attrs.pop(_DTYPES_ATTR, "{}"))
        order = json.loads(attrs.pop(_ORDER_ATTR, "[]"))
        loaded = {}
        for name, var in variables.items():
            var = var.load()
            dt = dtypes.get(name)
            if dt is not None and var.dtype.str != dt:
                var = var.astype(np.dtype(dt))
            loaded[name] = var
    finally:
        store.close()
    coords = {n: v for n, v in loaded.items() if n in coord_names or n in v.dims}
    ds = xr.Dataset({n: v for n, v in loaded.items() if n not in coords}, coords=coords, attrs=attrs)
    if order and sorted(order) == sorted(ds.variables) and order != list(ds.variables):
        ds = ds[order]  # the solver's order (a results file written from it has the same bytes: `write_final`)
    return ds


def _chunk_header(data: bytes) -> tuple[str | None, list[int] | None]:
    """A chunk file's ident attribute and its draws (None when absent), from its bytes."""
    import io
    import scipy.io
    with scipy.io.netcdf_file(io.BytesIO(data), mode="r", mmap=False) as f:
        ident = f._attributes.get(CHUNK_ATTR)
        ident = ident.decode("utf-8") if isinstance(ident, bytes) else ident
        draws = [int(d) for d in f.variables["draw"].data] if "draw" in f.variables else None
    return ident, draws


def chunk_is_done(chunk: Chunk, out: str | Path) -> bool:
    """A chunk file exists, matches its checksum, opens, and was written for this chunk (content key and
    draw range). A damaged chunk is removed (with a warning) so that it is computed again."""
    path = chunk.path(Path(out))
    if not path.exists():
        return False
    data, problem = checked_bytes(path)
    if problem is not None:
        log.warning("chunk file %s will be computed again: %s", path, problem)
        remove_chunk(path)
        return False
    try:
        ident, draws = _chunk_header(data)
    except Exception:  # a damaged file is recomputed
        log.warning("chunk file %s cannot be read; it will be recomputed", path)
        return False
    return ident == chunk.ident and draws == list(range(chunk.first, chunk.last + 1))
