"""SQLite (WAL) persistence: sessions and their messages, with a per-session monotonic ``seq``.

A message is committed before it is broadcast, so a server killed at any moment loses nothing
that a client has seen. ``clientMessageId`` makes retried sends idempotent: the second append
with the same id returns the stored message instead of a new one.

Example:
    >>> import tempfile, pathlib
    >>> store = Store(pathlib.Path(tempfile.mkdtemp()) / "chatops.sqlite3")
    >>> msg, created = store.append("session_1", "user", "hello")
    >>> (msg.seq, created, store.last_seq("session_1"))
    (1, True, 1)
    >>> [m.content for m in store.messages_after("session_1", 0)]
    ['hello']
"""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path
from typing import Any

from ..protocol import ChatMessage, new_message_id, utc_now

__all__ = ["Store"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    name TEXT,
    created_at TEXT NOT NULL,
    last_seq INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS messages (
    session_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    id TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    content TEXT NOT NULL,
    timestamp TEXT NOT NULL,
    metadata TEXT NOT NULL DEFAULT '{}',
    client_message_id TEXT,
    PRIMARY KEY (session_id, seq)
);
CREATE UNIQUE INDEX IF NOT EXISTS messages_client_id
    ON messages (session_id, client_message_id) WHERE client_message_id IS NOT NULL;
"""


class Store:
    """Sessions and messages in one SQLite file (WAL mode, safe across processes)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            self._db.close()

    # ------------------------------------------------------------------ sessions

    def ensure_session(self, session_id: str, name: str | None = None) -> dict[str, Any]:
        """Create the session if it does not exist; return its row as a dict."""
        with self._lock:
            self._db.execute(
                "INSERT OR IGNORE INTO sessions (id, name, created_at) VALUES (?, ?, ?)",
                (session_id, name, utc_now().isoformat()),
            )
            if name:
                self._db.execute(
                    "UPDATE sessions SET name = ? WHERE id = ? AND name IS NULL", (name, session_id)
                )
            return self.session(session_id) or {}

    def session(self, session_id: str) -> dict[str, Any] | None:
        """The session's row (``id, name, createdAt, lastSeq``), or None."""
        with self._lock:
            row = self._db.execute(
                "SELECT id, name, created_at, last_seq FROM sessions WHERE id = ?", (session_id,)
            ).fetchone()
        if row is None:
            return None
        return {"id": row[0], "name": row[1], "createdAt": row[2], "lastSeq": row[3]}

    def sessions(self) -> list[dict[str, Any]]:
        """Every session's row, oldest first."""
        with self._lock:
            ids = [r[0] for r in self._db.execute("SELECT id FROM sessions ORDER BY created_at")]
        return [s for s in (self.session(i) for i in ids) if s]

    def last_seq(self, session_id: str) -> int:
        """The highest ``seq`` stored in the session (0 if none)."""
        with self._lock:
            row = self._db.execute(
                "SELECT last_seq FROM sessions WHERE id = ?", (session_id,)
            ).fetchone()
        return int(row[0]) if row else 0

    # ------------------------------------------------------------------ messages

    def append(
        self,
        session_id: str,
        role: str,
        content: str,
        metadata: dict[str, Any] | None = None,
        client_message_id: str | None = None,
    ) -> tuple[ChatMessage, bool]:
        """Persist a message with the session's next ``seq``.

        Returns ``(message, created)``; ``created`` is False when ``client_message_id`` was
        already stored for this session (the stored message is returned unchanged).
        """
        meta = json.dumps(metadata or {}, default=str)
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                if client_message_id is not None:
                    row = self._db.execute(
                        "SELECT * FROM messages WHERE session_id = ? AND client_message_id = ?",
                        (session_id, client_message_id),
                    ).fetchone()
                    if row is not None:
                        self._db.execute("COMMIT")
                        return _to_message(row), False
                self._db.execute(
                    "INSERT OR IGNORE INTO sessions (id, created_at) VALUES (?, ?)",
                    (session_id, utc_now().isoformat()),
                )
                seq = self._db.execute(
                    "UPDATE sessions SET last_seq = last_seq + 1 WHERE id = ? RETURNING last_seq",
                    (session_id,),
                ).fetchone()[0]
                msg = ChatMessage(
                    id=new_message_id(),
                    sessionId=session_id,
                    role=role,  # type: ignore[arg-type]
                    content=content,
                    timestamp=utc_now(),
                    metadata=metadata or {},
                    seq=seq,
                )
                self._db.execute(
                    "INSERT INTO messages VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        session_id,
                        seq,
                        msg.id,
                        role,
                        content,
                        msg.timestamp.isoformat(),
                        meta,
                        client_message_id,
                    ),
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return msg, True

    def message(self, session_id: str, message_id: str) -> ChatMessage:
        """One stored message by id; ``KeyError`` if the session has none with that id."""
        with self._lock:
            row = self._db.execute(
                "SELECT * FROM messages WHERE session_id = ? AND id = ?", (session_id, message_id)
            ).fetchone()
        if row is None:
            raise KeyError(f"no message {message_id!r} in session {session_id!r}")
        return _to_message(row)

    def update(
        self, session_id: str, message_id: str, content: str, metadata: dict[str, Any]
    ) -> ChatMessage:
        """Replace a stored message's content and metadata (same id and ``seq``).

        Raises ``KeyError`` if the session holds no message with that id.
        """
        with self._lock:
            cur = self._db.execute(
                "UPDATE messages SET content = ?, metadata = ? WHERE session_id = ? AND id = ?",
                (content, json.dumps(metadata, default=str), session_id, message_id),
            )
        if cur.rowcount != 1:
            raise KeyError(f"no message {message_id!r} in session {session_id!r}")
        return self.message(session_id, message_id)

    def messages_after(
        self, session_id: str, last_seq: int = 0, limit: int | None = None
    ) -> list[ChatMessage]:
        """Messages of a session with ``seq > last_seq``, oldest first."""
        sql = "SELECT * FROM messages WHERE session_id = ? AND seq > ? ORDER BY seq"
        args: tuple[Any, ...] = (session_id, last_seq)
        if limit is not None:
            sql += " LIMIT ?"
            args += (int(limit),)
        with self._lock:
            rows = self._db.execute(sql, args).fetchall()
        return [_to_message(r) for r in rows]


def _to_message(row: tuple[Any, ...]) -> ChatMessage:
    session_id, seq, mid, role, content, ts, meta, _ = row
    return ChatMessage(
        id=mid,
        sessionId=session_id,
        role=role,
        content=content,
        timestamp=ts,
        metadata=json.loads(meta),
        seq=seq,
    )
