"""When the data dir cannot be written: a full disk, a read-only (or immutable) dir.

:class:`StorageError` is a :class:`~chatops_widget.protocol.ProtocolError` with code
``storage``, so a request that meets one gets a clear ack ("the server's disk is full") and the
server stays up; :func:`storage_error` turns what SQLite or the OS raised into one, and
:func:`check_writable` refuses to touch a SQLite database whose files cannot be written --
before SQLite writes to its memory-mapped ``-shm`` file, which on a read-only file ends the
whole process with SIGBUS. Nothing needs a restart: once space or write access returns, the
next request works.

Example:
    >>> import errno, sqlite3
    >>> err = storage_error(OSError(errno.ENOSPC, "No space left on device"), "a message", "/d")
    >>> err.code.value, err.message
    ('storage', "the server's disk is full: no room to store a message in /d (what was stored before is kept; free some space and try again)")
    >>> storage_error(ValueError("not storage"), "x", "/d") is None
    True
"""  # noqa: E501

from __future__ import annotations

import errno
import logging
import os
import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path

from ..protocol import ErrorCode, ProtocolError

__all__ = ["StorageError", "check_writable", "storage_error"]

log = logging.getLogger("chatops_widget.server")

_FULL = {errno.ENOSPC, errno.EDQUOT}
_READ_ONLY = {errno.EROFS, errno.EPERM, errno.EACCES}
_last_log: dict[str, float] = {}


class StorageError(ProtocolError):
    """The data dir cannot be written; ``kind`` is ``"full"``, ``"read-only"`` or ``"io"``."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(ErrorCode.STORAGE, message)
        self.kind = kind
        now = time.monotonic()
        if now - _last_log.get(kind, -1e9) > 10.0:  # one line per kind every 10 s at most
            _last_log[kind] = now
            log.warning("storage: %s", message)


def _full(what: str, where: str | Path) -> StorageError:
    return StorageError(
        "full",
        f"the server's disk is full: no room to store {what} in {where} (what was stored "
        "before is kept; free some space and try again)",
    )


def _read_only(what: str, where: str | Path, detail: str) -> StorageError:
    return StorageError(
        "read-only",
        f"the server's data dir {where} is read-only ({detail}): {what} cannot be stored "
        "until it is writable again",
    )


def storage_error(exc: BaseException, what: str, where: str | Path) -> StorageError | None:
    """The :class:`StorageError` ``exc`` stands for (storing ``what`` under ``where``), or
    ``None`` if it is no storage problem (then it is a bug and should propagate)."""
    if isinstance(exc, StorageError):
        return exc
    if isinstance(exc, OSError) and exc.errno is None and "No space left" in str(exc):
        return _full(what, where)  # e.g. pyarrow's IOError, which carries no errno
    if isinstance(exc, OSError) and exc.errno is not None:
        if exc.errno in _FULL:
            return _full(what, where)
        if exc.errno in _READ_ONLY:
            return _read_only(what, where, exc.strerror or str(exc))
        return StorageError("io", f"the server could not store {what} in {where}: {exc}")
    if isinstance(exc, sqlite3.Error):
        name = getattr(exc, "sqlite_errorname", "") or ""
        text = str(exc)
        if name.startswith("SQLITE_FULL") or "disk is full" in text:
            return _full(what, where)
        if name.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_PERM")) or (
            "readonly" in text
        ):
            return _read_only(what, where, text)
        if name.startswith("SQLITE_IOERR") or "disk I/O error" in text:
            return StorageError("io", f"the server could not store {what} in {where}: {text}")
    return None


def check_writable(paths: Iterable[str | Path], what: str, where: str | Path) -> None:
    """Raise :class:`StorageError` unless every existing path of ``paths`` (a SQLite file and
    its ``-wal``/``-shm``, their dir) can be written -- checked before each use of the
    database, since SQLite maps ``-shm`` into memory and a write to a read-only one is a
    SIGBUS, not an error."""
    for path in paths:
        try:
            if not os.access(path, os.W_OK) and Path(path).exists():
                raise _read_only(what, where, f"{Path(path).name} cannot be written")
        except OSError as exc:
            raise storage_error(exc, what, where) or exc from None
