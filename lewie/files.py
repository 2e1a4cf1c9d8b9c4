"""File input and output inside lewie's error net.

Every file lewie reads or writes for a user goes through these helpers, so that an operating-system
error (missing file, folder given as a file, no permission, full disk, a file that is not text)
becomes one `FileError` naming the path and what went wrong, never a traceback:

- `read_text` / `read_bytes`: a file's content; a folder, a missing file or a non-UTF-8 text file
  is named as such.
- `check_writable` / `check_writable_folder`: called before any work is done, so that a run whose
  results could not be saved fails at once, not after the solve.
- `atomic_write` (and `write_text_atomic`, `write_bytes_atomic`): the content goes to a temporary
  file in the same folder, which is renamed into place only when it is complete, so a failure (full
  disk, an exception, Ctrl-C) never leaves a half-written ``.nc``/``.xlsx``/``.html`` behind, and an
  older file of that name is kept until the new one is whole.
- `sniff_format` / `load_lewie_results`: recognise what a file is (netCDF-4/HDF5, netCDF-3, CSV,
  Excel, a truncated file) and refuse files that are not lewie results with a message saying what
  the file is instead.
"""
from __future__ import annotations

import errno
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from lewie.errors import InputError

__all__ = ["FileError", "os_error", "read_text", "read_bytes", "check_readable", "check_writable",
           "check_writable_folder", "atomic_write", "write_text_atomic", "write_bytes_atomic", "sniff_format",
           "load_lewie_results", "RESULTS_REQUIRED"]


class FileError(InputError):
    """A file or folder lewie cannot read or write (the message names the path and the reason)."""


_REASONS = {
    errno.ENOENT: "no such file or folder",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.EROFS: "the file system is read-only",
    errno.ENOSPC: "no space left on the device (the disk is full)",
    errno.EDQUOT: "disk quota exceeded",
    errno.EISDIR: "is a folder, not a file",
    errno.ENOTDIR: "a part of the path is a file, not a folder",
    errno.ENAMETOOLONG: "the file name is too long",
    errno.EEXIST: "already exists",
    errno.EIO: "input/output error (a damaged disk or a lost network drive)",
}


def os_error(exc: OSError, path, doing: str) -> FileError:
    """A `FileError` for an operating-system error: '<path>: cannot <doing>: <reason>'."""
    reason = _REASONS.get(exc.errno or -1) or exc.strerror or type(exc).__name__
    return FileError(f"cannot {doing}: {reason}", file=path)


def check_readable(path, *, what: str = "file") -> Path:
    """``path`` as a Path when it is an existing regular file; else a `FileError` naming it."""
    path = Path(path)
    if not path.exists():
        raise FileError(f"{what} not found", file=path)
    if path.is_dir():
        raise FileError(f"is a folder, not a {what}", file=path)
    return path


def read_bytes(path, *, what: str = "file") -> bytes:
    """A file's bytes; missing files, folders and OS errors become a `FileError` naming the path."""
    path = check_readable(path, what=what)
    try:
        return path.read_bytes()
    except OSError as exc:
        raise os_error(exc, path, f"read the {what}") from None


def read_text(path, *, what: str = "file") -> str:
    """A UTF-8 text file's content (a UTF-8 byte-order mark is dropped). A file in another encoding
    (e.g. latin-1 from a spreadsheet) is a `FileError` giving the line and column of the first byte
    that is not UTF-8."""
    data = read_bytes(path, what=what)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = data[:exc.start]
        line = before.count(b"\n") + 1
        col = exc.start - (before.rfind(b"\n") + 1) + 1
        raise FileError(f"is not UTF-8 text: byte 0x{data[exc.start]:02x} at line {line}, column {col} "
                        f"(the file was probably saved as latin-1 or Windows-1252); save it as UTF-8",
                        file=path) from None


def _nearest_existing(path: Path) -> Path:
    p = path
    while not p.exists() and p != p.parent:
        p = p.parent
    return p


def _probe_folder(folder: Path, path: Path) -> None:
    """Create and remove a file in ``folder`` (the only reliable check: permissions, read-only mounts,
    quotas and the root user all count)."""
    probe = folder / f".lewie-write-test-{uuid.uuid4().hex}"
    try:
        with open(probe, "wb"):
            pass
    except OSError as exc:
        raise os_error(exc, path, f"write into folder {folder}") from None
    finally:
        try:
            probe.unlink()
        except OSError:
            pass


def check_writable(path, *, what: str = "output file") -> Path:
    """Check, before any work, that ``path`` can be written as a file: not a folder, its folder
    exists or can be made, and a file can be created there. Makes missing parent folders."""
    path = Path(path)
    if path.is_dir():
        raise FileError(f"is a folder; give a file name for the {what}", file=path)
    if path.exists() and not os.access(path, os.W_OK):
        raise FileError(f"cannot write the {what}: permission denied", file=path)
    folder = path.parent
    anc = _nearest_existing(folder)
    if not anc.is_dir():
        raise FileError(f"cannot write the {what}: {anc} is a file, not a folder", file=path)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise os_error(exc, path, f"make the folder for the {what}") from None
    _probe_folder(folder, path)
    return path


def check_writable_folder(path, *, what: str = "output folder", create: bool = True) -> Path:
    """Check, before any work, that ``path`` is (or can be made) a folder lewie can write into.
    With ``create=False`` a missing folder is not made: its nearest existing parent is checked."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise FileError(f"is a file, not a folder; give a folder for the {what}", file=path)
    anc = _nearest_existing(path)
    if not anc.is_dir():
        raise FileError(f"cannot make the {what}: {anc} is a file, not a folder", file=path)
    if not create and not path.exists():
        _probe_folder(anc, path)
        return path
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise os_error(exc, path, f"make the {what}") from None
    _probe_folder(path, path)
    return path


@contextmanager
def atomic_write(path, *, what: str = "file") -> Iterator[Path]:
    """Yield a temporary path beside ``path``; when the block ends without an error the temporary
    file is flushed to disk and renamed to ``path`` (atomic on one file system), else removed.

    OS errors (a full disk, no permission) become a `FileError` naming ``path``; the file at ``path``
    (if any) is untouched unless the whole new content was written.
    """
    path = Path(path)
    if path.is_dir():
        raise FileError(f"is a folder; give a file name for the {what}", file=path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise os_error(exc, path, f"make the folder for the {what}") from None
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.tmp{path.suffix}")
    try:
        yield tmp
        if not tmp.exists():
            raise FileError(f"the {what} was not written", file=path)
        try:
            fd = os.open(tmp, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, path)
        except OSError as exc:
            raise os_error(exc, path, f"write the {what}") from None
    except OSError as exc:
        raise os_error(exc, path, f"write the {what}") from None
    finally:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass


def write_bytes_atomic(path, data: bytes, *, what: str = "file") -> Path:
    with atomic_write(path, what=what) as tmp:
        with open(tmp, "wb") as f:
            f.write(data)
    return Path(path)


def write_text_atomic(path, text: str, *, what: str = "file") -> Path:
    return write_bytes_atomic(path, text.encode("utf-8"), what=what)


# ------------------------------------------------------------------------------------------------
# recognising files
# ------------------------------------------------------------------------------------------------
_HDF5 = b"\x89HDF\r\n\x1a\n"


def sniff_format(path) -> str:
    """What a file looks like from its first bytes: 'netcdf4' (HDF5), 'netcdf3', 'xlsx' (a zip),
    'xls', 'empty', 'text' (CSV, TOML ...) or 'binary'."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            head = f.read(512)
    except OSError as exc:
        raise os_error(exc, path, "read the file") from None
    if not head:
        return "empty"
    if head.startswith(_HDF5):
        return "netcdf4"
    if head[:3] == b"CDF" and head[3:4] in (b"\x01", b"\x02", b"\x05"):
        return "netcdf3"
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "xls"
    try:
        head.decode("utf-8")
        return "text"
    except UnicodeDecodeError:
        # a multi-byte character cut by the 512-byte window is still text
        try:
            head[:-3].decode("utf-8")
            return "text"
        except UnicodeDecodeError:
            return "binary"


RESULTS_REQUIRED = ("income", "real_income", "production", "cost", "beneficiary")
_RESULTS_DIMS = ("variant", "state", "household")


def load_lewie_results(path, *, required: tuple[str, ...] = RESULTS_REQUIRED,
                       dims: tuple[str, ...] = _RESULTS_DIMS):
    """Read a results file written by lewie (`lewie run`, `lewie batch`), fully loaded and closed.

    A missing file, a folder, a CSV or workbook, an empty or truncated file, or a netCDF file not
    written by lewie is a `FileError` saying what the file is instead.
    """
    import xarray as xr
    path = check_readable(path, what="results file")
    kind = sniff_format(path)
    hint = "give a results file (.nc) written by `lewie run` or `lewie batch`"
    if kind == "empty":
        raise FileError(f"not a lewie results file: it is empty (0 bytes); {hint}", file=path)
    if kind == "text":
        looks = "a CSV table" if path.suffix.lower() == ".csv" else "a text file"
        raise FileError(f"not a lewie results file: it is {looks}, not netCDF; {hint}", file=path)
    if kind in ("xlsx", "xls"):
        raise FileError(f"not a lewie results file: it is an Excel workbook, not netCDF; {hint}", file=path)
    if kind == "binary":
        raise FileError(f"not a lewie results file: it is not netCDF; {hint}", file=path)
    engine = "h5netcdf" if kind == "netcdf4" else "scipy"
    try:
        with xr.open_dataset(path, engine=engine) as f:
            ds = f.load()
    except OSError as exc:
        if exc.errno is not None:
            raise os_error(exc, path, "read the results file") from None
        raise FileError(f"not a lewie results file: the netCDF file is damaged or truncated ({exc}); {hint}",
                        file=path) from None
    except Exception as exc:  # h5py/scipy raise many kinds for a damaged file
        raise FileError(f"not a lewie results file: the netCDF file is damaged or truncated "
                        f"({type(exc).__name__}: {exc}); {hint}", file=path) from None
    if engine == "scipy":  # netCDF3 stores 64-bit integers as 32-bit ones, and strings as characters
        import numpy as np
        cast = {k: np.int64 if v.dtype.kind == "i" else str for k, v in ds.variables.items()
                if (v.dtype.kind == "i" and v.dtype != np.int64) or v.dtype.kind == "O"}
        if cast:
            ds = ds.assign({k: ds[k].astype(t) for k, t in cast.items() if k in ds.data_vars})
            ds = ds.assign_coords({k: ds[k].astype(t) for k, t in cast.items() if k in ds.coords})
    missing = [v for v in required if v not in ds] + [d for d in dims if d not in ds.dims]
    if missing or (required and "lewie_version" not in ds.attrs):
        what = f"no {', '.join(missing)}" if missing else "no lewie_version attribute"
        raise FileError(f"not a lewie results file ({what}): netCDF, but not lewie results; {hint}", file=path)
    return ds
