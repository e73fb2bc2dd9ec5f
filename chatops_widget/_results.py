"""Results in the kernel: ``getResult`` acks decoded into the engine's ``BacktestResult``, a
:class:`Comparison` or a sweep DataFrame.

Example:
    >>> ack = client.call("getResult", {"sessionId": sid, "runId": "run_1a2b"})  # doctest: +SKIP
    >>> decode_result(ack).equity.tail()                                        # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ._serialization import from_arrow_bytes

__all__ = ["Comparison", "RunFailed", "decode_result", "runs_frame", "strategies_frame"]

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
        return f"<b>Comparison</b> <code>{self.run_id}</code>" + self.stats._repr_html_()


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
    from .engine import BacktestResult

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


def runs_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """``getRuns`` rows as ``client.runs``: run_id, kind, status, progress, strategy, ..."""
    df = pd.DataFrame(rows, columns=_RUN_COLUMNS)
    for c in ("created", "finished"):
        df[c] = pd.to_datetime(df[c], unit="s", utc=True)
    names = {"runId": "run_id", "strategyId": "strategy", "startedBy": "started_by"}
    return df.rename(columns=names)


def strategies_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """``getStrategies`` rows as ``client.strategies`` (index ``id``)."""
    df = pd.DataFrame(rows, columns=_STRATEGY_COLUMNS)
    df["created"] = pd.to_datetime(df["created"], unit="s", utc=True)
    return df.set_index("id")
