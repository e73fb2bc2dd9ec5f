"""Stored strategies: ``strategy_<n>`` = a template with params on a symbol and optional dates.

Strategies live in ``<data_dir>/strategies.json`` (rewritten atomically on every change). On first
start the server seeds a handful of ready ones on the bundled sample data (:func:`seed_specs`), so
a fresh notebook can run ``/run_backtest strategy_1`` at once.

Example:
    >>> import tempfile
    >>> store = StrategyStore(tempfile.mkdtemp())
    >>> s = store.create("sma_cross", "AAA", params={"fast": 10, "slow": 30})
    >>> s.id, s.name, store.get("strategy_1").params
    ('strategy_1', 'sma_cross AAA 10/30', {'fast': 10, 'slow': 30})
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Strategy", "StrategyStore", "seed_specs", "STRATEGY_ID_PATTERN"]

STRATEGY_ID_PATTERN = r"^strategy_\d+$"
STRATEGY_RE = re.compile(STRATEGY_ID_PATTERN)


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
    """Thread-safe JSON-backed store of :class:`Strategy` objects."""

    def __init__(self, data_dir: str | os.PathLike[str]):
        self.path = Path(data_dir) / "strategies.json"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._items: dict[str, Strategy] = {}
        self._next = 1
        self.existed = self.path.exists()
        if self.existed:
            raw = json.loads(self.path.read_text())
            for item in raw.get("strategies", []):
                item.pop("symbol", None)
                s = Strategy(**item)
                self._items[s.id] = s
            self._next = int(raw.get("next", len(self._items) + 1))

    def all(self) -> list[Strategy]:
        """Every strategy, in id order."""
        return sorted(self._items.values(), key=lambda s: int(s.id.split("_")[1]))

    def ids(self) -> list[str]:
        return [s.id for s in self.all()]

    def get(self, strategy_id: str) -> Strategy | None:
        return self._items.get(strategy_id)

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
        """Store a new strategy (params must already be validated) and return it."""
        symbols = [symbol] if isinstance(symbol, str) else list(symbol)
        if not symbols:
            raise ValueError("a strategy needs at least one symbol")
        params = dict(params or {})
        with self._lock:
            sid = f"strategy_{self._next}"
            self._next += 1
            s = Strategy(
                id=sid,
                name=name or _default_name(template, symbols[0], params),
                template=template,
                params=params,
                symbols=symbols,
                start=start,
                end=end,
                created_by=created_by,
            )
            self._items[sid] = s
            self._save()
        return s

    def _save(self) -> None:
        data = {"next": self._next, "strategies": [s.info() for s in self.all()]}
        tmp = self.path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(data, indent=1))
        os.replace(tmp, self.path)


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
