"""The stats registry: every stat's name, label, unit, description and formula, in one place.

:data:`STATS` is plain data (a tuple of frozen :class:`Stat`) and the one source the engine's
own reprs, the server's formatter and the front end read; ``[s.as_dict() for s in STATS]`` is
JSON-able. :func:`format_stat` renders a value by its unit. The numbers themselves are computed
in :mod:`._stats`.

Units: ``fraction`` (shown as a percentage: 0.05 is 5 %), ``ratio`` (a plain number),
``currency`` (in the units of ``cash``), ``count``, ``days`` (calendar days as a float, from the
bar timestamps), ``bars``.

Example:
    >>> from chatops_widget.engine import STATS, stat_info
    >>> stat_info("max_drawdown").unit, stat_info("max_drawdown").label
    ('fraction', 'Max drawdown')
    >>> format_stat("max_drawdown", -0.1234), format_stat("avg_trade_duration", 12.25)
    ('-12.34 %', '12.2 days')
    >>> sorted(STATS[0].as_dict())
    ['description', 'formula', 'group', 'higher_is_better', 'in_sweep', 'label', 'name', 'unit']
"""

from __future__ import annotations

import difflib
import math
from dataclasses import asdict, dataclass
from typing import Any, Literal

import pandas as pd

Unit = Literal["fraction", "ratio", "currency", "count", "days", "bars"]
Group = Literal["returns", "risk", "trades", "basis"]
UNITS: tuple[str, ...] = ("fraction", "ratio", "currency", "count", "days", "bars")


@dataclass(frozen=True)
class Stat:
    """One stat: ``name`` (the Series/column key), a human ``label``, its ``unit``, a one-line
    ``description``, the ``formula`` (plain text, with its convention), a ``group``, whether
    higher is better (``None``: neither) and whether sweep tables carry it as a column."""

    name: str
    label: str
    unit: Unit
    description: str
    formula: str
    group: Group
    higher_is_better: bool | None = True
    in_sweep: bool = True

    def as_dict(self) -> dict[str, Any]:
        """JSON-able copy (for ``/help``, the formatter and the front end)."""
        return asdict(self)


_R = "r = per-bar simple returns of equity (r[0] = 0, the first bar is never invested)"
_B = "b = per-bar close-to-close returns of the symbol (b[0] = 0)"

STATS: tuple[Stat, ...] = (
    Stat("total_return", "Total return", "fraction", "equity growth over the whole run",
         "final_equity / cash - 1", "returns"),
    Stat("cagr", "CAGR", "fraction", "compound annual growth rate over the calendar span",
         "(final_equity / cash) ** (1 / years) - 1, years = (last - first timestamp) / 365.25 "
         "days; NaN if final_equity <= 0", "returns"),
    Stat("volatility", "Volatility (ann.)", "fraction", "annualized standard deviation of "
         "per-bar returns", f"std(r, ddof=1) * sqrt(bars_per_year); {_R}", "risk", False),
    Stat("sharpe", "Sharpe ratio", "ratio", "annualized mean over standard deviation of "
         "per-bar returns (risk-free rate 0)",
         f"mean(r) / std(r, ddof=1) * sqrt(bars_per_year); {_R}", "risk"),
    Stat("sortino", "Sortino ratio", "ratio", "like Sharpe, with the downside deviation",
         f"mean(r) / sqrt(mean(min(r, 0) ** 2)) * sqrt(bars_per_year); {_R}", "risk"),
    Stat("max_drawdown", "Max drawdown", "fraction", "deepest fall of equity below its "
         "running peak (<= 0)", "min over bars of equity / running max(equity) - 1", "risk"),
    Stat("win_rate", "Win rate", "fraction", "share of round trips with a positive pnl",
         "count(pnl > 0) / num_trades", "trades"),
    Stat("num_trades", "Trades", "count", "round trips, including one still open at the end",
         "number of entries", "trades", None),
    Stat("exposure", "Exposure", "fraction", "share of bars with a position held",
         "count(bars with a position) / bars", "trades", None),
    Stat("profit_factor", "Profit factor", "ratio", "gross profit over gross loss of round "
         "trips (inf with wins and no losses)", "sum(pnl > 0) / -sum(pnl < 0)", "trades"),
    Stat("avg_trade_return", "Avg. trade return", "fraction", "arithmetic mean of trade "
         "returns", "mean(pnl / entry notional)", "trades"),
    Stat("final_equity", "Final equity", "currency", "equity after the last bar, net of the "
         "closing commission", "equity[-1]", "returns"),
    Stat("buy_hold_return", "Buy & hold return", "fraction", "price return of the symbol "
         "over the same bars, without costs", "close[-1] / close[0] - 1", "returns", None),
    Stat("calmar", "Calmar ratio", "ratio", "CAGR per unit of max drawdown",
         "cagr / |max_drawdown|; NaN without a drawdown", "risk"),
    Stat("avg_drawdown", "Avg. drawdown", "fraction", "mean depth of the drawdown periods "
         "(<= 0)", "mean over drawdown periods of min(equity / running peak - 1); 0 without a "
         "drawdown", "risk"),
    Stat("max_drawdown_duration", "Max drawdown duration", "days", "longest time below a "
         "previous equity peak", "max over drawdown periods of (recovery or last timestamp - "
         "peak timestamp), in days", "risk", False),
    Stat("avg_drawdown_duration", "Avg. drawdown duration", "days", "mean time below a "
         "previous equity peak", "mean over drawdown periods of (recovery or last timestamp - "
         "peak timestamp), in days", "risk", False),
    Stat("alpha", "Alpha (ann.)", "fraction", "annualized return not explained by exposure "
         "to buy & hold of the same symbol (CAPM, risk-free 0)",
         f"(1 + mean(r - beta * b)) ** bars_per_year - 1; {_R}; {_B}", "risk"),
    Stat("beta", "Beta", "ratio", "sensitivity of per-bar returns to buy & hold of the same "
         "symbol", f"cov(r, b) / var(b); {_R}; {_B}", "risk", None),
    Stat("best_trade", "Best trade", "fraction", "highest trade return",
         "max(pnl / entry notional)", "trades"),
    Stat("worst_trade", "Worst trade", "fraction", "lowest trade return",
         "min(pnl / entry notional)", "trades"),
    Stat("expectancy", "Expectancy", "currency", "mean pnl per round trip (net of costs)",
         "mean(pnl)", "trades"),
    Stat("sqn", "SQN", "ratio", "Van Tharp's system quality number",
         "sqrt(num_trades) * mean(pnl) / std(pnl, ddof=1)", "trades"),
    Stat("kelly", "Kelly criterion", "fraction", "Kelly fraction from the win rate and the "
         "win/loss ratio", "win_rate - (1 - win_rate) / (avg_win / avg_loss), avg_win = mean "
         "pnl of winning trades, avg_loss = mean -pnl of losing trades",
         "trades", None),
    Stat("avg_trade_duration", "Avg. trade duration", "days", "mean time from entry to exit",
         "mean(exit_time - entry_time), in days", "trades", None),
    Stat("max_trade_duration", "Max trade duration", "days", "longest time from entry to "
         "exit", "max(exit_time - entry_time), in days", "trades", None),
    Stat("commissions_paid", "Commissions", "currency", "commission paid on all fills",
         "sum(trades.commission)", "trades", False),
    Stat("turnover", "Turnover (ann.)", "ratio", "traded notional per year, as a multiple of "
         "mean equity", "sum(entry + exit notional) / mean(equity) / years", "trades", None),
    Stat("bars_per_year", "Bars per year", "bars", "the annualization basis, estimated from "
         "the index", "(bars - 1) / years; 252 if all bars share one timestamp", "basis", None),
    Stat("bars", "Bars", "bars", "bars in the data", "len(data)", "basis", None, False),
    Stat("cash", "Starting cash", "currency", "starting equity", "cash", "basis", None, False),
    Stat("commission", "Commission", "fraction", "commission per fill, a fraction of traded "
         "notional", "commission", "basis", None, False),
    Stat("spread", "Spread", "fraction", "bid-ask spread paid once per trade on entry, a "
         "fraction of price", "spread", "basis", None, False),
)  # fmt: skip
"""Every stat, in the order of ``BacktestResult.stats`` and of the sweep columns."""

STAT_NAMES: tuple[str, ...] = tuple(s.name for s in STATS if s.in_sweep)
"""The stats a sweep table carries (one column each, after the parameter columns)."""

_BY_NAME = {s.name: s for s in STATS}


def stat_info(name: str) -> Stat:
    """The :class:`Stat` called ``name`` (an ``oos_`` prefix is ignored); ``KeyError`` with a
    suggestion if there is none."""
    s = _BY_NAME.get(name.removeprefix("oos_"))
    if s is None:
        close = difflib.get_close_matches(name, list(_BY_NAME), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise KeyError(f"unknown stat {name!r}{hint}")
    return s


def format_stat(name: str, value: Any) -> str:
    """``value`` of stat ``name`` as text by its unit (non-stats, e.g. dates, as ``str``).

    >>> format_stat("sharpe", 1.23456), format_stat("num_trades", 12.0)
    ('1.235', '12')
    >>> format_stat("final_equity", 1234567.891), format_stat("cagr", float("nan"))
    ('1,234,567.89', 'n/a')
    """
    if isinstance(value, pd.Timestamp):
        return str(value.date()) if value == value.normalize() else str(value)
    s = _BY_NAME.get(name.removeprefix("oos_"))
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    v = float(value)
    if math.isnan(v):
        return "n/a"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    unit = s.unit if s else ("count" if isinstance(value, int) else "ratio")
    if unit == "fraction":
        return f"{v * 100:.2f} %"
    if unit in ("count", "bars") and v.is_integer():
        return f"{int(v):,}"
    if unit == "currency":
        return f"{v:,.2f}"
    if unit == "days":
        return f"{v:.1f} days"
    if unit == "bars":
        return f"{v:.1f}"
    return f"{v:.3f}"
