"""Results in the kernel: ``getResult`` acks decoded into the engine's ``BacktestResult``, a
:class:`Comparison` or a sweep DataFrame.

Example:
    >>> ack = client.call("getResult", {"sessionId": sid, "runId": "run_1a2b"})  # doctest: +SKIP
    >>> decode_result(ack).equity.tail()                                        # doctest: +SKIP
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import pandas as pd

from .._serialization import from_arrow_bytes

__all__ = [
    "Comparison",
    "ResultCache",
    "RunFailed",
    "decode_result",
    "history_frame",
    "runs_frame",
    "strategies_frame",
]

#: Default size of the kernel's cache of decoded results (see :class:`ResultCache`).
CACHE_BYTES = 1 << 30

_HISTORY_COLUMNS = ["seq", "id", "role", "content", "timestamp", "sender", "metadata", "sessionId"]
_RUN_COLUMNS = [
    "runId",
    "kind",
    "status",
    "progress",
    "strategyId",
    "label",
    "startedBy",
    "command",
    "created",
    "finished",
    "error",
]
_STRATEGY_COLUMNS = [
    "id",
    "name",
    "template",
    "params",
    "symbol",
    "symbols",
    "start",
    "end",
    "created_by",
    "created",
]


class RunFailed(RuntimeError):
    """A run ended ``failed`` or ``cancelled``; ``.status`` and ``.run_id`` say which."""

    def __init__(self, run_id: str, status: str, message: str) -> None:
        super().__init__(message)
        self.run_id, self.status = run_id, status


class Comparison:
    """Strategies side by side: ``.stats`` (metrics x strategies), ``.equity`` (aligned curves)."""

    def __init__(self, run_id: str, stats: pd.DataFrame, equity: pd.DataFrame) -> None:
        self.run_id, self.stats, self.equity = run_id, stats, equity

    @property
    def strategies(self) -> list[str]:
        return [str(c) for c in self.stats.columns]

    def __repr__(self) -> str:
        return f"Comparison {self.run_id} ({', '.join(self.strategies)})\n{self.stats!r}"

    def _repr_html_(self) -> str:
        table: str = self.stats.to_html()
        return f"<b>Comparison</b> <code>{self.run_id}</code>" + table


def decode_result(ack: dict[str, Any]) -> Any:
    """A ``getResult`` ack as a ``BacktestResult``, :class:`Comparison` or sweep DataFrame."""
    kind = ack.get("kind")
    frames = {name: from_arrow_bytes(ack[name]) for name in ack.get("frames", [])}
    if kind == "comparison":
        return Comparison(ack["runId"], frames["table"], frames["equity"])
    if kind == "sweep":
        table = frames["table"]
        table.attrs.update(runId=ack["runId"], **ack.get("stats", {}))
        return table
    from ..engine import BacktestResult

    summary = ack.get("meta", {}).get("summary", {})
    values = {k: float("nan") if v is None else v for k, v in ack.get("stats", {}).items()}
    for key in ("start", "end"):
        if isinstance(values.get(key), str):
            values[key] = pd.Timestamp(values[key])
    stats = pd.Series(values, dtype=object)
    return BacktestResult(
        summary.get("template", ""),
        dict(summary.get("params", {})),
        frames["equity"],
        frames["trades"],
        stats,
        summary.get("symbol"),
    )


def result_nbytes(value: Any) -> int:
    """Memory held by a decoded result's DataFrames (without Python object internals)."""
    frames = [value] if isinstance(value, pd.DataFrame) else [
        getattr(value, name, None) for name in ("equity", "trades", "stats")
    ]  # fmt: skip
    return sum(
        int(f.memory_usage(index=True, deep=False).sum())
        for f in frames
        if isinstance(f, pd.DataFrame)
    )


class ResultCache:
    """Decoded results by run id, bounded by ``limit`` bytes of DataFrames.

    The least recently used results are dropped first (never the newest one); a dropped run
    is fetched from the server again on its next access, where it stays stored.

    >>> cache = ResultCache(limit=100)
    >>> cache.put("run_a", pd.DataFrame({"x": range(10)}))   # 80 B + its index
    >>> "run_a" in cache, cache.get("run_b")
    (True, None)
    """

    def __init__(self, limit: int = CACHE_BYTES) -> None:
        self.limit = limit
        self._items: OrderedDict[str, tuple[Any, int]] = OrderedDict()
        self.nbytes = 0

    def __contains__(self, run_id: object) -> bool:
        return run_id in self._items

    def __len__(self) -> int:
        return len(self._items)

    def get(self, run_id: str) -> Any:
        item = self._items.get(run_id)
        if item is None:
            return None
        self._items.move_to_end(run_id)
        return item[0]

    def put(self, run_id: str, value: Any) -> None:
        if run_id in self._items:
            self.nbytes -= self._items.pop(run_id)[1]
        size = result_nbytes(value)
        self._items[run_id] = (value, size)
        self.nbytes += size
        self.shrink()

    def shrink(self) -> None:
        """Drop the least recently used results until the rest fits in ``limit``."""
        while self.nbytes > self.limit and len(self._items) > 1:
            _, (_, size) = self._items.popitem(last=False)
            self.nbytes -= size


def history_frame(messages: list[dict[str, Any]]) -> pd.DataFrame:
    """Chat messages as ``client.history``: seq, id, role, content, timestamp, sender (who
    typed it; empty for the server's own messages), metadata."""
    rows = [{**m, "sender": (m.get("metadata") or {}).get("sender") or ""} for m in messages]
    df = pd.DataFrame(rows, columns=_HISTORY_COLUMNS)
    df["timestamp"] = pd.to_datetime(df["timestamp"], utc=True)
    return df.astype({"seq": "int64"})


def runs_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """``getRuns`` rows as ``client.runs``: run_id, kind, status, progress, strategy, ..."""
    df = pd.DataFrame(rows, columns=_RUN_COLUMNS)
    for c in ("created", "finished"):
        df[c] = pd.to_datetime(df[c], unit="s", utc=True)
    names = {"runId": "run_id", "strategyId": "strategy", "startedBy": "started_by"}
    df["startedBy"] = df["startedBy"].fillna("unknown")  # runs stored before names were kept
    return df.rename(columns=names)


def strategies_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """``getStrategies`` rows as ``client.strategies`` (index ``id``)."""
    df = pd.DataFrame(rows, columns=_STRATEGY_COLUMNS)
    df["created"] = pd.to_datetime(df["created"], unit="s", utc=True)
    return df.set_index("id")
