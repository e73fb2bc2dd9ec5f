"""The registry of hosted strategies: what the server knows of a strategy whose code stays in
its owner's kernel -- a name, a parameter spec, a description, the owner and a version.

Rows live in the ``hosted_strategies`` table of ``<data_dir>/chatops.sqlite3`` (WAL), so they
survive a restart (the owner's kernel re-registers when it reconnects, keeping its version).
The owner is a display name (shown) and a kernel client id (never shown): only that client may
register the name again while it is connected, or run it when it is private. A strategy is
*available* while a connection of its owner's client is up.

Example:
    >>> import tempfile
    >>> reg = HostedRegistry(tempfile.mkdtemp())
    >>> params = [{"name": "lookback", "type": "int", "default": 60, "min": 0, "max": 100000,
    ...            "doc": ""}]
    >>> h, changed = reg.register("my_mom", "alice", "c" * 16, params=params)
    >>> h.version, changed, reg.get("MY_MOM").owner
    ('v1', True, 'alice')
    >>> h.engine_strategy().validate({"lookback": "90"})
    {'lookback': 90}
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chatops_widget import engine
from chatops_widget.server.database import Database

__all__ = ["HostedRegistry", "HostedStrategy", "SpecStrategy"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS hosted_strategies (
    key TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    owner TEXT NOT NULL,
    owner_client TEXT NOT NULL,
    description TEXT NOT NULL,
    params TEXT NOT NULL,
    private INTEGER NOT NULL,
    timeout REAL NOT NULL,
    revision INTEGER NOT NULL,
    registered REAL NOT NULL,
    session_id TEXT,
    removed INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS published_runs (
    session_id TEXT NOT NULL,
    key TEXT NOT NULL,
    name TEXT NOT NULL,
    run_id TEXT NOT NULL,
    owner TEXT NOT NULL,
    source TEXT NOT NULL,
    published REAL NOT NULL,
    PRIMARY KEY (session_id, key)
);
"""
_COLUMNS = (
    "key, name, owner, owner_client, description, params, private, timeout, revision, "
    "registered, session_id"
)
_TYPES = {"int": int, "float": float, "bool": bool}


class SpecStrategy(engine.StrategyBase):
    """A hosted strategy as the engine sees it on the server: its parameters only (for
    validation and sweep grids); its positions come from the owner's kernel."""

    def __init__(self, name: str, description: str, params: list[dict[str, Any]]) -> None:
        self.name, self.description = name, description
        self.params = tuple(
            engine.Param(
                p["name"],
                _TYPES[p["type"]],
                p["default"],
                p.get("min"),
                p.get("max"),
                p.get("doc") or "",
            )
            for p in params
        )

    def positions(self, bars: Any, combos: list[dict[str, Any]]) -> Any:
        """Not here: the owner's kernel runs the function."""
        raise engine.EngineError(f"{self.name} runs in its owner's kernel, not on the server")


@dataclass
class HostedStrategy:
    """One registered strategy (see the module docstring); ``owner_client`` is never shown."""

    name: str
    owner: str
    owner_client: str
    description: str = ""
    params: list[dict[str, Any]] = field(default_factory=list)
    private: bool = False
    timeout: float = 300.0
    revision: int = 1
    registered: float = field(default_factory=time.time)
    session_id: str | None = None

    @property
    def version(self) -> str:
        """``v<n>``: the n-th registration of this name."""
        return f"v{self.revision}"

    @property
    def hosted_by(self) -> str:
        """How the chat names where it runs: ``alice's notebook``."""
        return f"{self.owner}'s notebook"

    def engine_strategy(self) -> SpecStrategy:
        """Its parameters as an engine strategy (validation, grids)."""
        return SpecStrategy(self.name, self.description, self.params)

    def defaults(self) -> dict[str, Any]:
        """Every parameter's default."""
        return {p["name"]: p["default"] for p in self.params}

    def info(self, online: bool) -> dict[str, Any]:
        """What members see (``/strategies``, join acks, ``hostedStrategies``)."""
        return {
            "name": self.name,
            "kind": "python",
            "owner": self.owner,
            "hostedBy": self.hosted_by,
            "description": self.description,
            "params": self.params,
            "private": self.private,
            "timeout": self.timeout,
            "version": self.version,
            "registered": self.registered,
            "online": online,
        }


class HostedRegistry:
    """:class:`HostedStrategy` rows in SQLite (thread-safe), keyed by lower-cased name."""

    def __init__(self, data_dir: str | os.PathLike[str]) -> None:
        # opened on first use and never touched while its files cannot be written (a read-only
        # data dir would fault SQLite's memory-mapped WAL index: SIGBUS), see ..database
        self._db = Database(Path(data_dir) / "chatops.sqlite3", _SCHEMA, "the hosted strategies")

    def close(self) -> None:
        """Close the database connection."""
        self._db.close()

    def get(self, name: str) -> HostedStrategy | None:
        """The strategy called ``name`` (any case), or ``None``."""
        with self._db.use() as db:
            row = db.execute(
                f"SELECT {_COLUMNS} FROM hosted_strategies WHERE key = ? AND removed = 0",
                (name.lower(),),
            ).fetchone()
        return _to_hosted(row) if row else None

    def all(self) -> list[HostedStrategy]:
        """Every registered strategy, by name."""
        with self._db.use() as db:
            rows = db.execute(
                f"SELECT {_COLUMNS} FROM hosted_strategies WHERE removed = 0 ORDER BY key"
            )
            return [_to_hosted(r) for r in rows.fetchall()]

    def owned_by(self, client_id: str) -> list[HostedStrategy]:
        """The strategies of kernel client ``client_id``."""
        return [h for h in self.all() if h.owner_client == client_id]

    def register(
        self,
        name: str,
        owner: str,
        client_id: str,
        *,
        description: str = "",
        params: list[dict[str, Any]] | None = None,
        private: bool = False,
        timeout: float = 300.0,
        version: str | None = None,
        session_id: str | None = None,
    ) -> tuple[HostedStrategy, bool]:
        """Store (or replace) ``name``; returns it and whether it changed. The same client
        sending the same spec with its current ``version`` changes nothing (a reconnect).
        Whether the caller may take the name is the caller's check (:meth:`get` first)."""
        params = list(params or [])
        with self._db.transaction() as db:
            row = db.execute(
                f"SELECT {_COLUMNS}, removed FROM hosted_strategies WHERE key = ?",
                (name.lower(),),
            ).fetchone()
            old = _to_hosted(row[:-1]) if row else None
            new = HostedStrategy(
                name,
                owner,
                client_id,
                description,
                params,
                private,
                float(timeout),
                1 if old is None else old.revision + 1,
                time.time(),
                session_id,
            )
            mine = old is not None and not row[-1] and old.owner_client == client_id
            if old is not None and mine and version == old.version:
                same = (
                    old.name,
                    old.owner,
                    old.description,
                    old.params,
                    old.private,
                    old.timeout,
                ) == (name, owner, description, params, private, float(timeout))
                if same:
                    return old, False
            db.execute(
                f"INSERT OR REPLACE INTO hosted_strategies ({_COLUMNS}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",  # removed: 0 again
                (
                    name.lower(),
                    new.name,
                    new.owner,
                    new.owner_client,
                    new.description,
                    json.dumps(new.params),
                    int(new.private),
                    new.timeout,
                    new.revision,
                    new.registered,
                    new.session_id,
                ),
            )
        return new, True

    def remove(self, name: str) -> bool:
        """Withdraw ``name`` (its revision is kept, so a new registration is a new version);
        whether it was there."""
        with self._db.use() as db:
            cur = db.execute(
                "UPDATE hosted_strategies SET removed = 1 WHERE key = ? AND removed = 0",
                (name.lower(),),
            )
        return cur.rowcount > 0

    # ------------------------------------------------------------------ published results
    def publish(
        self, session_id: str, name: str, run_id: str, owner: str, source: str
    ) -> str | None:
        """Name the published run ``run_id`` ``name`` in the session; the run the name
        stood for before (``None`` if it is new)."""
        with self._db.transaction() as db:
            old = db.execute(
                "SELECT run_id FROM published_runs WHERE session_id = ? AND key = ?",
                (session_id, name.lower()),
            ).fetchone()
            db.execute(
                "INSERT OR REPLACE INTO published_runs VALUES (?, ?, ?, ?, ?, ?, ?)",
                (session_id, name.lower(), name, run_id, owner, source, time.time()),
            )
        return old[0] if old else None

    def published(self, session_id: str, name: str) -> dict[str, Any] | None:
        """``{name, runId, owner, source}`` of the result published as ``name`` (any case)."""
        with self._db.use() as db:
            row = db.execute(
                "SELECT name, run_id, owner, source FROM published_runs "
                "WHERE session_id = ? AND key = ?",
                (session_id, name.lower()),
            ).fetchone()
        return dict(zip(("name", "runId", "owner", "source"), row, strict=True)) if row else None


def _to_hosted(row: tuple[Any, ...]) -> HostedStrategy:
    (
        _,
        name,
        owner,
        client,
        description,
        params,
        private,
        timeout,
        revision,
        registered,
        session_id,
    ) = row
    return HostedStrategy(
        name,
        owner,
        client,
        description,
        json.loads(params),
        bool(private),
        float(timeout),
        int(revision),
        float(registered),
        session_id,
    )
