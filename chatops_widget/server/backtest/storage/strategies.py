"""Stored strategies: ``strategy_<n>`` = a template with params on a symbol and optional dates.

Strategies live in the ``strategies`` table of ``<data_dir>/chatops.sqlite3`` (the server's
SQLite file, WAL mode), so every server process and notebook sharing a data dir allocates ids
from one sequence (``INTEGER PRIMARY KEY AUTOINCREMENT`` -> ``strategy_<n>``) and reads what the
others stored. :meth:`StrategyStore.seed` adds the ready-made strategies (:func:`seed_specs`) at
fixed ids exactly once; a ``strategies.json`` left by an older version is imported on open.

Example:
    >>> import tempfile
    >>> store = StrategyStore(tempfile.mkdtemp())
    >>> s = store.create("sma_cross", "AAA", params={"fast": 10, "slow": 30})
    >>> s.id, s.name, store.get("strategy_1").params
    ('strategy_1', 'sma_cross AAA 10/30', {'fast': 10, 'slow': 30})
"""

from __future__ import annotations

import json
import logging
import os
import re
import sqlite3
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["STRATEGY_ID_PATTERN", "Strategy", "StrategyStore", "seed_specs"]

STRATEGY_ID_PATTERN = r"^strategy_\d+$"
STRATEGY_RE = re.compile(STRATEGY_ID_PATTERN)
log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS strategies (
    n INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    template TEXT NOT NULL,
    params TEXT NOT NULL,
    symbols TEXT NOT NULL,
    start TEXT,
    "end" TEXT,
    created_by TEXT,
    created REAL NOT NULL
);
"""
_COLUMNS = 'n, name, template, params, symbols, start, "end", created_by, created'


@dataclass
class Strategy:
    """A stored strategy. ``symbols[0]`` is the symbol a backtest runs on by default."""

    id: str
    name: str
    template: str
    params: dict[str, Any]
    symbols: list[str]
    start: str | None = None
    end: str | None = None
    created_by: str | None = None
    created: float = field(default_factory=time.time)

    @property
    def symbol(self) -> str:
        """The (first) symbol the strategy trades."""
        return self.symbols[0]

    def info(self) -> dict[str, Any]:
        """A JSON-able dict (the wire and ``client.strategies`` row)."""
        out = asdict(self)
        out["symbol"] = self.symbol
        return out


def _default_name(template: str, symbol: str, params: dict[str, Any]) -> str:
    nums = [
        str(v)
        for v in params.values()
        if isinstance(v, (int, float)) and v is not True and v is not False
    ]
    return f"{template} {symbol}" + (f" {'/'.join(nums)}" if nums else "")


class StrategyStore:
    """:class:`Strategy` objects in SQLite, shared by every process using the data dir."""

    def __init__(self, data_dir: str | os.PathLike[str]):
        self.path = Path(data_dir) / "chatops.sqlite3"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        with self._lock:
            self._db.executescript(_SCHEMA)
        self._migrate(Path(data_dir) / "strategies.json")
        #: whether strategies were stored before this store was opened
        self.existed = bool(self.ids())

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            self._db.close()

    def all(self) -> list[Strategy]:
        """Every strategy, in id order (read from the database)."""
        with self._lock:
            rows = self._db.execute(f"SELECT {_COLUMNS} FROM strategies ORDER BY n").fetchall()
        return [_to_strategy(r) for r in rows]

    def ids(self) -> list[str]:
        """Every strategy id, in order, e.g. ``['strategy_1', 'strategy_2']``."""
        with self._lock:
            rows = self._db.execute("SELECT n FROM strategies ORDER BY n").fetchall()
        return [f"strategy_{n}" for (n,) in rows]

    def get(self, strategy_id: str) -> Strategy | None:
        """The strategy with this id, or ``None``."""
        if not STRATEGY_RE.match(strategy_id):
            return None
        n = int(strategy_id.split("_")[1])
        with self._lock:
            row = self._db.execute(
                f"SELECT {_COLUMNS} FROM strategies WHERE n = ?", (n,)
            ).fetchone()
        return _to_strategy(row) if row else None

    def create(
        self,
        template: str,
        symbol: str | list[str],
        *,
        params: dict[str, Any] | None = None,
        name: str | None = None,
        start: str | None = None,
        end: str | None = None,
        created_by: str | None = None,
    ) -> Strategy:
        """Store a new strategy (params must already be validated) and return it.

        The id comes from SQLite's AUTOINCREMENT, so two processes never get the same one.
        """
        symbols = [symbol] if isinstance(symbol, str) else list(symbol)
        if not symbols:
            raise ValueError("a strategy needs at least one symbol")
        params = dict(params or {})
        name = name or _default_name(template, symbols[0], params)
        created = time.time()
        with self._lock:
            n = self._db.execute(
                "INSERT INTO strategies (name, template, params, symbols, start, \"end\", "
                "created_by, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING n",
                (name, template, json.dumps(params), json.dumps(symbols), start, end,
                 created_by, created),
            ).fetchone()[0]  # fmt: skip
        return Strategy(
            f"strategy_{n}", name, template, params, symbols, start, end, created_by, created
        )

    def seed(self, specs: list[dict[str, Any]]) -> None:
        """Store ``specs`` (see :func:`seed_specs`) as ``strategy_1..`` if no strategy was ever
        stored here.

        Checked and inserted in one transaction (``INSERT OR IGNORE`` at fixed ids): a restart,
        a second server or a second notebook on the data dir seeds nothing more.
        """
        rows = [
            (i, s.get("name") or _default_name(s["template"], s["symbol"], s["params"]),
             s["template"], json.dumps(s["params"]), json.dumps([s["symbol"]]), None, None,
             "seed", time.time())
            for i, s in enumerate(specs, start=1)
        ]  # fmt: skip
        self._insert_many(rows, only_if_new=True)

    def _insert_many(self, rows: list[tuple[Any, ...]], only_if_new: bool = False) -> None:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                used = self._db.execute(
                    "SELECT 1 FROM sqlite_sequence WHERE name = 'strategies'"
                ).fetchone()
                if only_if_new and used is not None:
                    rows = []
                self._db.executemany(
                    f"INSERT OR IGNORE INTO strategies ({_COLUMNS}) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    rows,
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def _migrate(self, legacy: Path) -> None:
        """Import ``strategies.json`` (older versions) at its ids, then rename it ``.migrated``."""
        try:
            raw = json.loads(legacy.read_text())
        except FileNotFoundError:
            return
        except (OSError, ValueError) as exc:
            log.error("cannot import %s: %s", legacy, exc)
            return
        rows = []
        for item in raw.get("strategies", []):
            if not STRATEGY_RE.match(str(item.get("id", ""))):
                continue
            rows.append(
                (int(item["id"].split("_")[1]), item["name"], item["template"],
                 json.dumps(item.get("params") or {}), json.dumps(item["symbols"]),
                 item.get("start"), item.get("end"), item.get("created_by"),
                 float(item.get("created") or time.time()))
            )  # fmt: skip
        self._insert_many(rows)
        try:  # another process may have renamed it first
            legacy.replace(legacy.with_suffix(".json.migrated"))
        except FileNotFoundError:
            pass


def _to_strategy(row: tuple[Any, ...]) -> Strategy:
    n, name, template, params, symbols, start, end, created_by, created = row
    return Strategy(
        f"strategy_{n}",
        name,
        template,
        json.loads(params),
        json.loads(symbols),
        start,
        end,
        created_by,
        created,
    )


def seed_specs(symbols: list[str]) -> list[dict[str, Any]]:
    """The strategies a fresh server starts with, on the first (and second) sample symbol."""
    a = symbols[0]
    b = symbols[1] if len(symbols) > 1 else a
    return [
        {"template": "sma_cross", "symbol": a, "params": {"fast": 10, "slow": 30},
         "name": f"SMA cross 10/30 on {a}"},
        {"template": "ema_cross", "symbol": a, "params": {"fast": 12, "slow": 26},
         "name": f"EMA cross 12/26 on {a}"},
        {"template": "rsi_reversion", "symbol": b, "params": {},
         "name": f"RSI reversion on {b}"},
        {"template": "bollinger", "symbol": b, "params": {},
         "name": f"Bollinger mean reversion on {b}"},
        {"template": "buy_and_hold", "symbol": a, "params": {},
         "name": f"Buy and hold {a}"},
    ]  # fmt: skip
