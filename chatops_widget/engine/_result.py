"""``BacktestResult``: equity curve, trades and stats of one backtest, as pandas objects.

``stats`` is a float Series of every stat in :data:`._metrics.STATS` (so results stack into a
table: ``pd.DataFrame({name: r.stats for name, r in runs.items()}).T.sort_values("sharpe")``);
the non-numeric facts about the run (strategy, symbol, first and last bar, orders) are in
``info``.

Example:
    >>> from chatops_widget.engine import backtest, catalog
    >>> r = backtest(catalog.get("ALPHA"), "sma_cross", {"fast": 10, "slow": 30})
    >>> r.stats["sharpe"]                                        # doctest: +SKIP
    0.41...
    >>> r.stats.dtype, str(r.info["start"].date())
    (dtype('float64'), '2015-01-02')
    >>> r.equity.columns.tolist()
    ['equity', 'returns', 'drawdown', 'position']
    >>> r.trades[["entry_time", "exit_time", "pnl", "exit_reason"]].head()  # doctest: +SKIP
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ._metrics import format_stat

__all__ = ["BacktestResult", "format_stat"]


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)


@dataclass
class BacktestResult:
    """Result of :func:`chatops_widget.engine.backtest`.

    Attributes:
        equity: DataFrame indexed by bar time with ``equity``, ``returns`` (simple, per bar),
            ``drawdown`` (fraction <= 0 below the running peak) and ``position`` (held during
            the bar: 1 long, 0 flat, -1 short).
        trades: one row per round trip: ``entry_time, exit_time, entry_bar, exit_bar,
            direction, entry_price`` (with the spread), ``exit_price, size`` (units, negative
            for shorts), ``pnl`` (net of both commissions), ``return`` (pnl / entry notional),
            ``commission, bars_held, duration_days, exit_reason`` (``signal``, ``stop_loss``,
            ``take_profit``, ``trailing_stop`` or ``end``) and ``closed_at_end``.
        stats: float Series, one value per stat of :data:`STATS` (fractions, not percent;
            units and formulas in :func:`stat_info` and docs/strategies.md).
        params: the full validated parameter dict.
        strategy: strategy name.
        symbol: data symbol if known (else ``None``).
        info: object Series: ``strategy, symbol, start, end`` and the order settings.
            Non-numeric entries passed in ``stats`` (e.g. ``start``/``end`` of a decoded
            summary) are moved here.
    """

    strategy: str
    params: dict[str, Any]
    equity: pd.DataFrame = field(repr=False)
    trades: pd.DataFrame = field(repr=False)
    stats: pd.Series = field(repr=False)
    symbol: str | None = None
    info: pd.Series = field(repr=False, default_factory=lambda: pd.Series(dtype=object))

    def __post_init__(self) -> None:
        base = {"strategy": self.strategy, "symbol": self.symbol}
        if isinstance(self.stats, pd.Series) and self.stats.dtype == np.float64:
            moved: dict[Any, Any] = {}  # the engine's own results: nothing to sort out
        else:
            stats = pd.Series(self.stats, dtype=object)
            numeric = [bool(_is_number(v) or v is None) for v in stats.to_numpy()]
            moved = stats[[not x for x in numeric]].to_dict()
            self.stats = pd.Series(
                pd.to_numeric(stats[numeric], errors="coerce"), dtype="float64", name="stats"
            )
        info = dict(self.info) if len(self.info) else {}
        for key, value in moved.items():
            if key in ("start", "end") and isinstance(value, str):
                value = pd.Timestamp(value)
            info[key] = value
        self.info = pd.Series({**{k: v for k, v in base.items() if k not in info}, **info},
                              dtype=object, name="info")  # fmt: skip

    def _title(self) -> str:
        args = ", ".join(f"{k}={v}" for k, v in self.params.items())
        on = f" on {self.symbol}" if self.symbol else ""
        return f"{self.strategy}({args}){on}"

    def _rows(self) -> list[tuple[str, str]]:
        rows = [(str(k), format_stat(str(k), v)) for k, v in self.stats.items()]
        for key in ("start", "end"):
            if key in self.info.index:
                rows.append((key, format_stat(key, self.info[key])))
        return rows

    def __repr__(self) -> str:
        rows = self._rows()
        width = max((len(k) for k, _ in rows), default=0)
        lines = [f"BacktestResult {self._title()}"]
        lines += [f"  {k:<{width}}  {v}" for k, v in rows]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><th style='text-align:left'>{html.escape(k)}</th>"
            f"<td style='text-align:right'>{html.escape(v)}</td></tr>"
            for k, v in self._rows()
        )
        return (
            f"<div><b>BacktestResult</b> <code>{html.escape(self._title())}</code>"
            f"<table>{rows}</table><small>{len(self.trades)} trades; see .equity, .trades, "
            ".info</small></div>"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-able summary: strategy, symbol, params, stats (non-finite as ``None``) and info
        (timestamps as ISO strings)."""
        stats = {str(k): (float(v) if math.isfinite(v) else None) for k, v in self.stats.items()}
        info: dict[str, Any] = {}
        for k, v in self.info.items():
            if isinstance(v, pd.Timestamp):
                v = v.isoformat()
            elif isinstance(v, (np.generic,)):
                v = v.item()
            info[str(k)] = v
        return {
            "strategy": self.strategy,
            "symbol": self.symbol,
            "params": dict(self.params),
            "stats": stats,
            "info": info,
        }
