"""Results in the kernel: ``getResult`` acks decoded into the engine's ``BacktestResult``, a
:class:`Comparison` or a sweep DataFrame.

Example:
    >>> ack = client.call("getResult", {"sessionId": sid, "runId": "run_1a2b"})  # doctest: +SKIP
    >>> decode_result(ack).equity.tail()                                        # doctest: +SKIP
"""

from __future__ import annotations

import html
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from .._lazy import lazy_module
from .._serialization import from_arrow_bytes
from ..protocol import RESEARCH_KINDS
from ._research_decode import decode_research

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")

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
    "rule",
    "orders",
]


class RunFailed(RuntimeError):
    """A run ended ``failed`` or ``cancelled``; ``.status`` and ``.run_id`` say which, ``.code``
    why (an :class:`~chatops_widget.protocol.ErrorCode` value: ``worker_died``, ``storage`` or
    ``internal`` are the server's faults -- try again -- others the request's; ``None`` if the
    server gave none)."""

    def __init__(
        self,
        run_id: str,
        status: str,
        message: str,
        code: str | None = None,
        partial: Any = None,
    ) -> None:
        super().__init__(message)
        self.run_id, self.status, self.code = run_id, status, code
        #: what a cancelled run kept (a walk-forward's finished windows), else None
        self.partial = partial


class Comparison:
    """Strategies side by side: ``.stats`` (metrics x strategies), ``.equity`` (aligned curves),
    ``.info`` (strategy x symbol, start, end, bars, frequency), ``.warnings`` (when the periods
    or bar frequencies differ), ``.common`` (the period all cover, or None), ``.benchmark``
    (buy & hold per symbol) and :meth:`rebased` (every curve over the common period, from 100).
    """

    def __init__(
        self,
        run_id: str,
        stats: pd.DataFrame,
        equity: pd.DataFrame,
        summary: dict[str, Any] | None = None,
        benchmark: pd.DataFrame | None = None,
    ) -> None:
        self.run_id, self.stats, self.equity = run_id, stats, equity
        summary = summary or {}
        info = pd.DataFrame.from_dict(summary.get("info") or {}, orient="index")
        for col in ("start", "end"):
            if col in info.columns:
                info[col] = pd.to_datetime(info[col])
        info.index.name = "strategy"
        self.info = info
        self.warnings: list[str] = list(summary.get("warnings") or [])
        common = summary.get("common")
        self.common = tuple(pd.Timestamp(t) for t in common) if common else None
        self.benchmark = benchmark if benchmark is not None else pd.DataFrame(index=equity.index)

    @property
    def strategies(self) -> list[str]:
        return [str(c) for c in self.stats.columns]

    def rebased(self, benchmark: bool = True) -> pd.DataFrame:
        """Equity curves (and buy & hold, with ``benchmark``) over the common period, each
        divided by its first value there and times 100; empty when the periods do not overlap.

        >>> cmp.rebased().iloc[0]                                       # doctest: +SKIP
        strategy_1    100.0
        ...
        """
        frame = self.equity
        if benchmark and len(self.benchmark.columns):
            frame = frame.join(self.benchmark.add_prefix("buy & hold "), how="outer")
        if self.common is None:
            return frame.iloc[:0]
        start, end = self.common
        filled = frame.ffill()  # each curve is inside its own range over the common period
        window = filled.loc[(filled.index >= start) & (filled.index <= end)]
        return window / window.bfill().iloc[0] * 100.0

    def __repr__(self) -> str:
        warn = "".join(f"\nwarning: {w}" for w in self.warnings)
        return f"Comparison {self.run_id} ({', '.join(self.strategies)}){warn}\n{self.stats!r}"

    def _repr_html_(self) -> str:
        warn = "".join(f"<p><b>warning:</b> {html.escape(w)}</p>" for w in self.warnings)
        table: str = self.stats.to_html()
        return f"<b>Comparison</b> <code>{self.run_id}</code>{warn}" + table


def decode_result(ack: dict[str, Any]) -> Any:
    """A ``getResult`` ack as a ``BacktestResult``, :class:`Comparison` or sweep DataFrame."""
    kind = ack.get("kind")
    if kind in RESEARCH_KINDS:  # walk-forward, universe, portfolio
        return decode_research(ack)
    frames = {name: from_arrow_bytes(ack[name]) for name in ack.get("frames", [])}
    if kind == "comparison":
        summary = ack.get("meta", {}).get("summary") or {}
        return Comparison(
            ack["runId"], frames["table"], frames["equity"], summary, frames.get("benchmark")
        )
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
        getattr(value, name, None)
        for name in ("equity", "trades", "stats", "windows", "table", "sleeves", "contributions")
    ]  # fmt: skip
    return sum(
        int(f.memory_usage(index=True, deep=False).sum())
        for f in frames
        if isinstance(f, pd.DataFrame)
    )


def ack_nbytes(ack: dict[str, Any]) -> int:
    """The Arrow IPC bytes of a ``getResult`` ack: about the memory its DataFrames hold decoded
    (Arrow's buffers are pandas' columns).

    >>> ack_nbytes({"runId": "run_1", "frames": ["equity"], "equity": b"0123456789"})
    10
    """
    return sum(len(v) for v in ack.values() if isinstance(v, (bytes, bytearray, memoryview)))


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

    def put(self, run_id: str, value: Any, size: int | None = None) -> None:
        """Keep ``value``; ``size`` (bytes) if known, e.g. :func:`ack_nbytes` of the ``getResult``
        ack it came from (measuring the DataFrames again costs ~1 ms a backtest)."""
        if run_id in self._items:
            self.nbytes -= self._items.pop(run_id)[1]
        size = result_nbytes(value) if size is None else size
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
    """``getStrategies`` rows as ``client.strategies`` (index ``id``); a rule strategy has its
    rules in ``rule`` (``{"entry", "exit", ...}``), every strategy its stored ``orders``."""
    df = pd.DataFrame(rows, columns=_STRATEGY_COLUMNS)
    df["created"] = pd.to_datetime(df["created"], unit="s", utc=True)
    return df.set_index("id")
