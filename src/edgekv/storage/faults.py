"""Storage and filesystem faults explained in one line: which file, what is wrong, what to do.

The CLI and the servers print ``explain(error)`` instead of a traceback (the traceback is
for ``--debug``). ``explain`` returns ``None`` for errors that are not storage or
filesystem faults, so the caller can let a real bug surface.

The line is built from the error's own facts: ``StorageError.path`` (set by the SQLite
backend), the chained ``sqlite3`` error code, or ``OSError.errno`` and ``filename``.
"""

from __future__ import annotations

import errno
import sqlite3

from edgekv.errors import StorageError

__all__ = ["explain", "is_fault", "storage_error"]

_MOVE_AWAY = "move it away to start with an empty store, or restore it from a backup"


def storage_error(message: str, path: str, cause: BaseException | None = None) -> StorageError:
    """A ``StorageError`` that remembers the file it concerns (``error.path``)."""
    error = StorageError(message)
    error.path = path  # type: ignore[attr-defined]
    if cause is not None:
        error.__cause__ = cause
    return error


def _sqlite_code(exc: BaseException) -> int | None:
    code = getattr(exc, "sqlite_errorcode", None)
    return None if code is None else int(code) & 0xFF


def _explain_sqlite(path: str, exc: BaseException, text: str) -> str:
    code = _sqlite_code(exc)
    lowered = text.lower()
    if "newer than this edgekv" in lowered:
        return f"{path}: {text.split(': ', 1)[-1]}. Upgrade edgekv to open it."
    if code == sqlite3.SQLITE_READONLY or "readonly" in lowered or "read-only" in lowered:
        return (f"{path}: the database is read-only (file or folder not writable, or a read-only "
                "disk). Make it writable, or use --persist-to DIR for another folder.")
    if code == sqlite3.SQLITE_FULL or "disk is full" in lowered or "file too large" in lowered:
        return f"{path}: the disk is full (or a file-size limit was reached). Free some space and retry."
    if code in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB) or "malformed" in lowered \
            or "not a database" in lowered:
        return f"{path}: the file is not a valid SQLite database (corrupted); edgekv left it as it is. To go on, {_MOVE_AWAY}."
    if code == sqlite3.SQLITE_CANTOPEN or "unable to open" in lowered:
        return (f"{path}: cannot open the database (missing folder, no permission, or a file in "
                "the way). Check the state folder's permissions, or use --persist-to DIR.")
    if code == sqlite3.SQLITE_PERM or code == sqlite3.SQLITE_AUTH:
        return f"{path}: permission denied. Check the file's permissions, or use --persist-to DIR."
    if code == sqlite3.SQLITE_IOERR or "disk i/o" in lowered:
        return (f"{path}: writing failed (the disk may be full, a file-size limit reached, or the "
                "disk failing). Free some space and retry; nothing of the failed write was kept.")
    if code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) or "locked" in lowered:
        return (f"{path}: the database stayed locked by another process. Retry once that "
                "process has finished its write.")
    return f"{path}: {text}"


def _explain_os(exc: OSError) -> str:
    name = exc.filename if exc.filename is not None else "a state file"
    reason = exc.strerror or str(exc)
    if exc.errno in (errno.EACCES, errno.EPERM):
        hint = "Check its permissions (and its folder's), or use --persist-to DIR."
    elif exc.errno == errno.EROFS:
        hint = "The disk is mounted read-only; use --persist-to DIR on a writable disk."
    elif exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        hint = "Free some space and retry."
    elif exc.errno in (errno.ENOTDIR, errno.EEXIST, errno.EISDIR):
        hint = "A file is in the way of a folder (or the reverse); move it, or use --persist-to DIR."
    elif exc.errno == errno.ENOENT:
        hint = "Check the path."
    else:
        hint = "Check the file and its folder."
    return f"{name}: {reason}. {hint}"


def is_fault(exc: BaseException) -> bool:
    """Whether ``exc`` is a fault of the disk or a file (not a refusal such as "title exists")."""
    if isinstance(exc, StorageError):
        return getattr(exc, "path", None) is not None or isinstance(exc.__cause__, OSError)
    return isinstance(exc, (sqlite3.Error, OSError))


def explain(exc: BaseException) -> str | None:
    """One line for a storage or filesystem fault, or ``None`` for any other error."""
    if isinstance(exc, StorageError):
        path = getattr(exc, "path", None)
        cause = exc.__cause__
        if isinstance(cause, OSError) and path is None:
            return _explain_os(cause)
        if path is None:
            return str(exc)
        return _explain_sqlite(path, cause if cause is not None else exc, str(exc))
    if isinstance(exc, sqlite3.Error):
        return _explain_sqlite("the database", exc, str(exc))
    if isinstance(exc, OSError):
        return _explain_os(exc)
    return None
