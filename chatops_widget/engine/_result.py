"""``BacktestResult``: equity curve, trades and stats of one backtest, as pandas objects.

Example:
    >>> from chatops_widget.engine import backtest, catalog
    >>> r = backtest(catalog.get("ALPHA"), "sma_cross", {"fast": 10, "slow": 30})
    >>> r.stats["sharpe"]                                        # doctest: +SKIP
    0.41...
    >>> r.equity.columns.tolist()
    ['equity', 'returns', 'drawdown', 'position']
    >>> r.trades[["entry_time", "exit_time", "pnl"]].head()    # doctest: +SKIP
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field

import pandas as pd

_PCT = {
    "total_return",
    "cagr",
    "volatility",
    "max_drawdown",
    "win_rate",
    "exposure",
    "avg_trade_return",
    "commission",
    "spread",
}


def format_stat(name: str, value) -> str:
    """Human-readable stat value: fractions as percentages, money with separators."""
    if isinstance(value, pd.Timestamp):
        return str(value.date()) if value == value.normalize() else str(value)
    if isinstance(value, (int,)) and not isinstance(value, bool):
        return f"{value:,}"
    if isinstance(value, float):
        if math.isnan(value):
            return "n/a"
        if math.isinf(value):
            return "inf"
        if name in _PCT:
            return f"{value * 100:.2f} %"
        if name in ("final_equity", "cash"):
            return f"{value:,.2f}"
        return f"{value:.3f}"
    return str(value)


@dataclass
class BacktestResult:
    """Result of :func:`chatops_widget.engine.backtest`.

    Attributes:
        equity: DataFrame indexed by bar time with ``equity``, ``returns`` (simple, per bar),
            ``drawdown`` (fraction <= 0 below the running peak) and ``position`` (held during
            the bar: 1 long, 0 flat, -1 short).
        trades: one row per round trip: ``entry_time, exit_time, entry_bar, exit_bar,
            direction, entry_price`` (with the spread), ``exit_price, size, pnl`` (net of both
            commissions),
            ``return`` (pnl / entry notional), ``commission``, ``bars_held``, ``closed_at_end``.
        stats: Series with ``total_return, cagr, volatility, sharpe, sortino, max_drawdown,
            win_rate, num_trades, exposure, profit_factor, avg_trade_return, final_equity`` plus
            ``start, end, bars, cash, commission, spread`` (fractions, not percent).
        params: the full validated parameter dict.
        strategy: template name.
        symbol: data symbol if known (else ``None``).
    """

    strategy: str
    params: dict
    equity: pd.DataFrame = field(repr=False)
    trades: pd.DataFrame = field(repr=False)
    stats: pd.Series = field(repr=False)
    symbol: str | None = None

    def _title(self) -> str:
        args = ", ".join(f"{k}={v}" for k, v in self.params.items())
        on = f" on {self.symbol}" if self.symbol else ""
        return f"{self.strategy}({args}){on}"

    def __repr__(self) -> str:
        width = max(len(k) for k in self.stats.index)
        lines = [f"BacktestResult {self._title()}"]
        for k, v in self.stats.items():
            lines.append(f"  {k:<{width}}  {format_stat(str(k), v)}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><th style='text-align:left'>{html.escape(str(k))}</th>"
            f"<td style='text-align:right'>{html.escape(format_stat(str(k), v))}</td></tr>"
            for k, v in self.stats.items()
        )
        return (
            f"<div><b>BacktestResult</b> <code>{html.escape(self._title())}</code>"
            f"<table>{rows}</table><small>{len(self.trades)} trades; see .equity, .trades"
            "</small></div>"
        )

    def to_dict(self) -> dict:
        """JSON-able summary: strategy, symbol, params, stats (timestamps as ISO strings)."""
        stats = {}
        for k, v in self.stats.items():
            if isinstance(v, pd.Timestamp):
                v = v.isoformat()
            elif isinstance(v, float) and not math.isfinite(v):
                v = None
            elif hasattr(v, "item"):
                v = v.item()
            stats[str(k)] = v
        return {
            "strategy": self.strategy,
            "symbol": self.symbol,
            "params": dict(self.params),
            "stats": stats,
        }
