"""One SQLite file in WAL mode, as the stores use it: opened on first use, never touched while
its files cannot be written, every failure a clear :class:`~.faults.StorageError`.

SQLite maps the ``-shm`` file of a WAL database into memory; writing to it once the file is
read-only (``chattr +i``) is a SIGBUS that ends the process without a word. So every use first
checks that the database's files (and their dir) can be written; a read-only or full data dir
then costs one ``storage`` answer per request, and the next request after it is fixed works.
Several :class:`Database` objects (and processes) may share one file.

Example:
    >>> import tempfile, pathlib
    >>> db = Database(pathlib.Path(tempfile.mkdtemp()) / "x.sqlite3",
    ...               "CREATE TABLE IF NOT EXISTS t (x INTEGER)", "notes")
    >>> with db.transaction() as conn:
    ...     _ = conn.execute("INSERT INTO t VALUES (1)")
    >>> with db.use() as conn:
    ...     conn.execute("SELECT count(*) FROM t").fetchone()
    (1,)
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

from .faults import check_writable, storage_error

__all__ = ["Database"]


class Database:
    """``path`` with ``schema`` (run once per connection); ``what`` names its contents in
    errors (e.g. ``"the chat"``)."""

    def __init__(self, path: str | Path, schema: str, what: str) -> None:
        self.path, self.schema, self.what = Path(path), schema, what
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._db: sqlite3.Connection | None = None
        self._files = [self.path, Path(f"{self.path}-wal"), Path(f"{self.path}-shm")]
        self._files.append(self.path.parent)

    @contextlib.contextmanager
    def use(self, what: str | None = None) -> Iterator[sqlite3.Connection]:
        """The connection, locked; a SQLite or OS storage failure becomes ``StorageError``
        (an open transaction is rolled back)."""
        what = what or self.what
        with self._lock:
            check_writable(self._files, what, self.path.parent)
            try:
                yield self._open()
            except BaseException as exc:
                if self._db is not None and self._db.in_transaction:
                    with contextlib.suppress(sqlite3.Error):
                        self._db.execute("ROLLBACK")
                if isinstance(exc, (sqlite3.Error, OSError)):
                    raise storage_error(exc, what, self.path.parent) or exc from None
                raise

    @contextlib.contextmanager
    def transaction(self, what: str | None = None) -> Iterator[sqlite3.Connection]:
        """:meth:`use` inside ``BEGIN IMMEDIATE`` ... ``COMMIT``."""
        with self.use(what) as db:
            db.execute("BEGIN IMMEDIATE")
            yield db
            db.execute("COMMIT")

    def _open(self) -> sqlite3.Connection:
        if self._db is None:
            db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            try:
                db.execute("PRAGMA busy_timeout=5000")
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=NORMAL")
                db.executescript(self.schema)
            except BaseException:
                db.close()
                raise
            self._db = db
        return self._db

    def close(self) -> None:
        """Close the connection (the next use opens it again)."""
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None
