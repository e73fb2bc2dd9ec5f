"""The run log: every run from the moment it is created to its end, in the server's SQLite file,
so a run that was going on when the server died is known at the next start -- and marked
failed, with a note in its session -- instead of vanishing from ``/status``.

A run is owned by the run log of the server that started it (``host:pid:token``); at start a
server settles only the runs of owners that are gone (several servers, in several processes or
in one, may share a data dir).

Example:
    >>> import tempfile
    >>> log = RunLog(tempfile.mkdtemp())
    >>> log.started("run_1", "session_1", "backtest", "/run_backtest strategy_1")
    >>> log.interrupted(alive=lambda owner: False)[0]["runId"]
    'run_1'
    >>> log.rows("session_1")[0]["status"], log.interrupted(alive=lambda owner: False)
    ('failed', [])
"""

from __future__ import annotations

import os
import secrets
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from chatops_widget.server.database import Database

__all__ = ["RunLog", "owner_alive"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    session_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    command TEXT,
    status TEXT NOT NULL,
    error TEXT,
    owner TEXT NOT NULL,
    created REAL NOT NULL,
    finished REAL
);
CREATE INDEX IF NOT EXISTS runs_by_session ON runs (session_id);
"""
_COLUMNS = "run_id, session_id, kind, command, status, error, created, finished"

_HOST = socket.gethostname()
_LIVE: set[str] = set()  # the owners (run logs) open in this process


def owner_alive(owner: str) -> bool:
    """Whether the run log ``host:pid:token`` may still be in use (another host: assume so)."""
    host, pid, _ = [*owner.split(":"), "", ""][:3]
    if host != _HOST or not pid.isdigit():
        return True
    if int(pid) == os.getpid():
        return owner in _LIVE
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class RunLog:
    """Runs of every session sharing the data dir (see the module docstring)."""

    def __init__(self, data_dir: str | os.PathLike[str]) -> None:
        self._db = Database(Path(data_dir) / "chatops.sqlite3", _SCHEMA, "the run log")
        self.owner = f"{_HOST}:{os.getpid()}:{secrets.token_hex(4)}"
        _LIVE.add(self.owner)

    def started(self, run_id: str, session_id: str, kind: str, command: str | None) -> None:
        """Record a new run (``queued``) before any work starts."""
        with self._db.use("the run") as db:
            db.execute(
                "INSERT OR REPLACE INTO runs (run_id, session_id, kind, command, status, owner, "
                "created) VALUES (?, ?, ?, ?, 'queued', ?, ?)",
                (run_id, session_id, kind, command, self.owner, time.time()),
            )

    def ended(self, run_id: str, status: str, error: str | None = None) -> None:
        """Record how a run ended (``completed``, ``failed`` or ``cancelled``)."""
        with self._db.use("the run") as db:
            db.execute(
                "UPDATE runs SET status = ?, error = ?, finished = ? WHERE run_id = ?",
                (status, error, time.time(), run_id),
            )

    def interrupted(self, alive: Callable[[str], bool] = owner_alive) -> list[dict[str, Any]]:
        """Mark failed the unfinished runs whose server is gone; return them (oldest first)."""
        reason = "interrupted: the server restarted while it ran (it had stopped or crashed)"
        with self._db.transaction("the run log") as db:
            rows = db.execute(
                f"SELECT {_COLUMNS}, owner FROM runs WHERE status IN ('queued', 'running') "
                "ORDER BY created"
            ).fetchall()
            lost = [r for r in rows if not alive(r[-1])]
            db.executemany(
                "UPDATE runs SET status = 'failed', error = ?, finished = ? WHERE run_id = ?",
                [(reason, time.time(), r[0]) for r in lost],
            )
        return [{**_row(r[:-1]), "status": "failed", "error": reason} for r in lost]

    def rows(self, session_id: str) -> list[dict[str, Any]]:
        """The session's logged runs, oldest first (for ``/status``)."""
        with self._db.use() as db:
            found = db.execute(
                f"SELECT {_COLUMNS} FROM runs WHERE session_id = ? ORDER BY created",
                (session_id,),
            ).fetchall()
        return [_row(r) for r in found]

    def close(self) -> None:
        """Close the database connection (this log's runs count as ended from now)."""
        _LIVE.discard(self.owner)
        self._db.close()


def _row(r: tuple[Any, ...]) -> dict[str, Any]:
    run_id, session_id, kind, command, status, error, created, finished = r
    return {
        "runId": run_id,
        "sessionId": session_id,
        "kind": kind,
        "command": command,
        "status": status,
        "error": error,
        "created": created,
        "finished": finished,
        "progress": 100.0 if status == "completed" else 0.0,
    }
