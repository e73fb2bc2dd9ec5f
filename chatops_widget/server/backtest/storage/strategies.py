"""Stored strategies: ``strategy_<n>`` = a template (or rules) with params on a symbol, optional
dates and order settings.

A strategy is a template name with its params, or a **rule strategy**: ``template`` is
``"rule"`` and ``rule`` holds the plain dict :meth:`chatops_widget.engine.RuleStrategy.to_dict`
makes (the rule texts and ``$param`` specs -- never code; the engine parses it again on every
use). ``orders`` are stops, targets and sizing stored with it (``{"stop_loss": "5%"}``), which
each run may override. A strategy is addressed by its id or by its name: :meth:`create` keeps
names unique (case-insensitive) and :meth:`named` finds one.

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
    >>> store.create("sma_cross", "AAA", params={"fast": 10, "slow": 30}).name  # unique
    'sma_cross AAA 10/30 (2)'
    >>> store.create("sma_cross", "AAA", params={"fast": 5}, name="quick").id
    'strategy_3'
    >>> store.create("sma_cross", "AAA", params={"fast": 5}, name="Quick").id  # the same again
    'strategy_3'
    >>> [x.id for x in store.named("SMA_CROSS aaa 10/30")]
    ['strategy_1']
"""

from __future__ import annotations

import json
import logging
import os
import re
import sqlite3
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from chatops_widget.server.database import Database
from chatops_widget.server.faults import StorageError

__all__ = ["RULE", "STRATEGY_ID_PATTERN", "NameTaken", "Strategy", "StrategyStore", "seed_specs"]

STRATEGY_ID_PATTERN = r"^strategy_\d+$"
STRATEGY_RE = re.compile(STRATEGY_ID_PATTERN)
#: The ``template`` of a rule strategy.
RULE = "rule"
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
    created REAL NOT NULL,
    rule TEXT,
    orders TEXT
);
"""
_BASE = 'n, name, template, params, symbols, start, "end", created_by, created'
_COLUMNS = f"{_BASE}, rule, orders"
_ADDED = ("rule", "orders")  # columns newer than the first schema (added on open)


class NameTaken(ValueError):
    """A strategy with this name exists already; ``.strategy_id`` is its id."""

    def __init__(self, name: str, strategy_id: str) -> None:
        super().__init__(f"the name {name!r} is taken by {strategy_id}")
        self.name, self.strategy_id = name, strategy_id


@dataclass
class Strategy:
    """A stored strategy. ``symbols[0]`` is the symbol a backtest runs on by default (a rule
    strategy may have none: each run names one, as for a template)."""

    id: str
    name: str
    template: str
    params: dict[str, Any]
    symbols: list[str]
    start: str | None = None
    end: str | None = None
    created_by: str | None = None
    created: float = field(default_factory=time.time)
    rule: dict[str, Any] | None = None
    orders: dict[str, Any] = field(default_factory=dict)

    @property
    def symbol(self) -> str | None:
        """The (first) symbol the strategy trades (``None``: chosen per run)."""
        return self.symbols[0] if self.symbols else None

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
        self._db = Database(self.path, _SCHEMA, "the strategies")
        try:
            with self._db.use() as db:
                _add_columns(db)
            self._migrate(Path(data_dir) / "strategies.json")
            #: whether strategies were stored before this store was opened
            self.existed = bool(self.ids())
        except StorageError as exc:  # a read-only or full data dir: served as far as it can be
            log.error("strategies: %s", exc.message)
            self.existed = True

    def close(self) -> None:
        """Close the database connection."""
        self._db.close()

    def all(self) -> list[Strategy]:
        """Every strategy, in id order (read from the database)."""
        with self._db.use() as db:
            rows = db.execute(f"SELECT {_COLUMNS} FROM strategies ORDER BY n").fetchall()
        return [_to_strategy(r) for r in rows]

    def ids(self) -> list[str]:
        """Every strategy id, in order, e.g. ``['strategy_1', 'strategy_2']``."""
        with self._db.use() as db:
            rows = db.execute("SELECT n FROM strategies ORDER BY n").fetchall()
        return [f"strategy_{n}" for (n,) in rows]

    def get(self, strategy_id: str) -> Strategy | None:
        """The strategy with this id, or ``None``."""
        if not STRATEGY_RE.fullmatch(strategy_id):
            return None
        n = int(strategy_id.split("_")[1]) if len(strategy_id) <= 40 else -1
        if not 0 < n <= 2**63 - 1:  # beyond SQLite's integers: no such strategy
            return None
        with self._db.use() as db:
            row = db.execute(f"SELECT {_COLUMNS} FROM strategies WHERE n = ?", (n,)).fetchone()
        return _to_strategy(row) if row else None

    def named(self, name: str) -> list[Strategy]:
        """The strategies called ``name`` (case-insensitive; more than one only in data stored
        before names were unique)."""
        key = name.strip().casefold()
        if not key:
            return []
        with self._db.use() as db:
            rows = db.execute(f"SELECT {_COLUMNS} FROM strategies ORDER BY n").fetchall()
        return [_to_strategy(r) for r in rows if str(r[1]).casefold() == key]

    def names(self) -> list[str]:
        """Every strategy's name, in id order."""
        with self._db.use() as db:
            return [r[0] for r in db.execute("SELECT name FROM strategies ORDER BY n")]

    def create(
        self,
        template: str,
        symbol: str | list[str] | None,
        *,
        params: dict[str, Any] | None = None,
        name: str | None = None,
        start: str | None = None,
        end: str | None = None,
        created_by: str | None = None,
        rule: dict[str, Any] | None = None,
        orders: dict[str, Any] | None = None,
    ) -> Strategy:
        """Store a new strategy (params, rule and orders must already be validated) and
        return it.

        The id comes from SQLite's AUTOINCREMENT, so two processes never get the same one. A
        ``name`` another strategy has (any case) raises :class:`NameTaken` -- unless that one is
        exactly this definition, which is returned as it is (re-running a notebook cell creates
        nothing new; compare ``created``); without a name
        one is made (``sma_cross ALPHA 10/30``, ``rule_<n>`` for rules), unique by a suffix
        `` (2)`` if needed. The check and the insert are one transaction.
        """
        symbols = [] if symbol is None else [symbol] if isinstance(symbol, str) else list(symbol)
        if not symbols and rule is None:
            raise ValueError("a strategy needs at least one symbol")
        params, orders = dict(params or {}), dict(orders or {})
        wanted = name
        if name is None and rule is None:
            name = _default_name(template, symbols[0], params)
        created = time.time()
        with self._db.transaction("the strategy") as db:
            taken = {str(r[1]).casefold(): r[0] for r in db.execute(
                "SELECT n, name FROM strategies")}  # fmt: skip
            if wanted is not None and wanted.casefold() in taken:
                same = _same(db, taken[wanted.casefold()], wanted, template, params, symbols,
                             start, end, rule, orders)  # fmt: skip
                if same is not None:  # the same definition again (a notebook re-run)
                    return same
                raise NameTaken(wanted, f"strategy_{taken[wanted.casefold()]}")
            if name is not None:
                name = _unique(name, taken)
            n = db.execute(
                "INSERT INTO strategies (name, template, params, symbols, start, \"end\", "
                "created_by, created, rule, orders) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "RETURNING n",
                (name or "", template, json.dumps(params), json.dumps(symbols), start, end,
                 created_by, created, None if rule is None else json.dumps(rule),
                 json.dumps(orders) if orders else None),
            ).fetchone()[0]  # fmt: skip
            if name is None:  # a rule strategy without a name: rule_<n>
                name = _unique(f"rule_{n}", taken)
                db.execute("UPDATE strategies SET name = ? WHERE n = ?", (name, n))
        return Strategy(f"strategy_{n}", name, template, params, symbols, start, end,
                        created_by, created, rule, orders)  # fmt: skip

    def ever_stored(self) -> bool:
        """Whether a strategy was ever stored here (then :meth:`seed` stores nothing)."""
        with self._db.use() as db:
            used = db.execute("SELECT 1 FROM sqlite_sequence WHERE name = 'strategies'")
            return used.fetchone() is not None

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
        with self._db.transaction("the strategies") as db:
            used = db.execute("SELECT 1 FROM sqlite_sequence WHERE name = 'strategies'").fetchone()
            if only_if_new and used is not None:
                rows = []
            db.executemany(
                f"INSERT OR IGNORE INTO strategies ({_BASE}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )

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
            if not STRATEGY_RE.fullmatch(str(item.get("id", ""))):
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


def _add_columns(db: sqlite3.Connection) -> None:
    """Add the columns a database made by an older version lacks (another process may be
    adding them at the same moment)."""
    have = {row[1] for row in db.execute("PRAGMA table_info(strategies)")}
    for column in _ADDED:
        if column not in have:
            try:
                db.execute(f"ALTER TABLE strategies ADD COLUMN {column} TEXT")
            except sqlite3.OperationalError as exc:
                if "duplicate column" not in str(exc):
                    raise


def _same(db: sqlite3.Connection, n: int, name: str, template: str, params: dict[str, Any],
          symbols: list[str], start: str | None, end: str | None,
          rule: dict[str, Any] | None, orders: dict[str, Any]) -> Strategy | None:  # fmt: skip
    """Strategy ``n`` if it is exactly this definition (inside the creating transaction)."""
    row = db.execute(f"SELECT {_COLUMNS} FROM strategies WHERE n = ?", (n,)).fetchone()
    s = _to_strategy(row)

    def bare(r: dict[str, Any] | None) -> Any:  # a rule's own name follows the strategy's
        return None if r is None else {k: v for k, v in r.items() if k != "name"}

    mine = (name.casefold(), template, params, symbols, start, end, bare(rule), orders)
    theirs = (s.name.casefold(), s.template, s.params, s.symbols, s.start, s.end,
              bare(s.rule), s.orders)  # fmt: skip
    return s if mine == theirs else None


def _unique(name: str, taken: dict[str, Any]) -> str:
    """``name``, or ``name (2)``, ``name (3)``, ... -- the first no strategy has."""
    out, i = name, 1
    while out.casefold() in taken:
        i += 1
        out = f"{name} ({i})"
    return out


def _to_strategy(row: tuple[Any, ...]) -> Strategy:
    n, name, template, params, symbols, start, end, created_by, created, rule, orders = row
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
        json.loads(rule) if rule else None,
        json.loads(orders) if orders else {},
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
