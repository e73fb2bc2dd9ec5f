"""``backtest``: one strategy with one parameter set (and order settings) on an OHLCV frame.

:func:`backtest` and :func:`~chatops_widget.engine.sweep` run the same code (:func:`run_sim`),
so a sweep row equals the stats of the matching single backtest. The execution model is in
:mod:`._sim` (vectorized) and :mod:`._events` (stops and whole-unit sizing).

Example:
    >>> from chatops_widget.engine import backtest, catalog
    >>> df = catalog.get("ALPHA")
    >>> r = backtest(df, "sma_cross", {"fast": 10, "slow": 50}, commission=0.001)
    >>> r2 = backtest(df, "sma_cross", {"fast": 10, "slow": 50}, stop_loss=0.05, size=0.5)
    >>> r2.info["stop_loss"], r2.info["size"]
    (0.05, 0.5)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ._data import validate_ohlcv
from ._defaults import DEFAULT_CASH
from ._errors import EngineError
from ._events import simulate_orders
from ._fractional import simulate_fractional
from ._metrics import STAT_NAMES, STATS
from ._orders import Orders
from ._registry import get_template
from ._result import BacktestResult
from ._sim import Bars, Sim, trade_table
from ._simulate import simulate, simulate_fills, summarize_long
from ._stats import column_stats, spread_paid
from ._templates import Combo, StrategyBase, no_fills
from ._types import FloatArray

__all__ = [
    "CHUNK_CELLS",
    "DEFAULT_CASH",
    "SUMMARY_BARS",
    "SUMMARY_CELLS",
    "SUMMARY_MIN_COMBOS",
    "backtest",
    "chunk_stats",
    "prepare",
    "run_sim",
    "summarized",
    "validate_costs",
]


def validate_costs(
    cash: float, commission: float, spread: float = 0.0
) -> tuple[float, float, float]:
    """``(cash, commission, spread)`` as floats, or :class:`EngineError` saying what is wrong.

    >>> validate_costs(1e6, 0.001, 0.0002)
    (1000000.0, 0.001, 0.0002)
    """
    try:
        cash, commission, spread = float(cash), float(commission), float(spread)
    except (TypeError, ValueError):
        raise EngineError(
            f"cash, commission and spread must be numbers, got {cash!r}, {commission!r}, {spread!r}"
        ) from None
    if not np.isfinite(cash) or cash <= 0:
        raise EngineError(f"cash must be a positive number, got {cash}")
    if not 0.0 <= commission < 0.1:
        raise EngineError(
            f"commission is a fraction of traded notional in [0, 0.1), got {commission} "
            "(e.g. 0.001 for 0.1 %)"
        )
    if not 0.0 <= spread < 0.1:
        raise EngineError(
            f"spread is the bid-ask spread as a fraction of price in [0, 0.1), got {spread} "
            "(e.g. 0.0002 for 2 basis points)"
        )
    return cash, commission, spread


def prepare(data: pd.DataFrame, strategy: str | StrategyBase) -> tuple[StrategyBase, Bars, Any]:
    """The resolved strategy, the validated bars and the frame's ``attrs["symbol"]``."""
    tpl = get_template(strategy)
    sym = data.attrs.get("symbol") if isinstance(data, pd.DataFrame) else None
    df = validate_ohlcv(data)
    return tpl, Bars.from_frame(df), sym


def run_sim(
    tpl: StrategyBase,
    bars: Bars,
    combos: list[Combo],
    cash: float,
    commission: float,
    spread: float,
    orders: Orders,
    per_trade: bool = False,
) -> Sim:
    """Positions of ``combos`` simulated with ``orders`` (vectorized when no stops need it;
    fractional targets, from a function strategy, by :mod:`._fractional`). ``per_trade``: all-in
    long/flat positions by :func:`._simulate.simulate_long` (what a sweep's chunks use), their
    fills straight from the strategy when it can give them."""
    if per_trade and orders.vectorized and orders.weight == 1.0:
        fills = tpl.fills(bars, combos)  # all-in long/flat fills found without positions
        if fills is not None:
            fc, ft, new = fills
            return simulate_fills(bars, len(combos), fc, ft, new, cash, commission, spread)
    pos, entries = tpl.positions(bars, combos)
    if pos.dtype != np.int8:
        targets = np.asarray(pos, dtype=np.float64)
        return simulate_fractional(bars, targets, entries, cash, commission, spread, orders)
    if orders.vectorized:
        return simulate(bars, pos, cash, commission, spread, orders.weight, per_trade)
    return simulate_orders(bars, pos, entries, cash, commission, spread, orders)


#: Cells (combinations x bars) simulated at once with (k, n) matrices: bounds a chunk's memory
#: (~80 bytes per cell at its peak, so ~20 MB, or one combination of a long series) whatever
#: the grid's size, and keeps the matrices about cache-sized.
CHUNK_CELLS = 1 << 18
#: The same for chunks summarized per trade (:func:`chunk_stats`): only the crossing masks
#: are (k, n), a few bytes per cell.
SUMMARY_CELLS = 1 << 21


#: Grids of fewer combinations stay on matrices: the per-series tables of the summary
#: (:mod:`._highs`, ~0.7 us a bar) cost more than they save below about this many.
SUMMARY_MIN_COMBOS = 64
#: Longer series stay on matrices: the summary's range tables take ~6 x 8 x log2(bars) bytes
#: a bar (~20 MB at this length, ~80 MB at 100k bars), kept for the sweep.
SUMMARY_BARS = 1 << 15


def summarized(tpl: StrategyBase, orders: Orders, bars: int, combos: int) -> bool:
    """Whether :func:`chunk_stats` summarizes the chunks of a sweep of ``combos`` combinations
    per trade: ``tpl``'s fills come straight from the strategy, all-in, no stops, at most
    :data:`SUMMARY_BARS` bars and at least :data:`SUMMARY_MIN_COMBOS` combinations."""
    fills = getattr(tpl.fills, "__func__", tpl.fills)
    return (
        combos >= SUMMARY_MIN_COMBOS
        and orders.vectorized
        and orders.weight == 1.0
        and bars <= SUMMARY_BARS
        and fills is not StrategyBase.fills
        and fills is not no_fills
    )


def chunk_stats(
    tpl: StrategyBase,
    bars: Bars,
    combos: list[Combo],
    cash: float,
    commission: float,
    spread: float,
    orders: Orders,
    summary: bool = True,
) -> dict[str, FloatArray]:
    """Every stat of ``combos`` (a sweep's chunk), as :func:`run_sim` with ``per_trade`` and
    :func:`._stats.column_stats` give them; with ``summary`` (see :func:`summarized`), all-in
    long/flat fills straight from the strategy are summarized per trade, without (k, n)
    matrices (:func:`._simulate.summarize_long`). Where the strategy gives no fills (e.g.
    touching averages), the chunk runs on matrices in parts of at most :data:`CHUNK_CELLS`."""
    if summary and orders.vectorized and orders.weight == 1.0:
        fills = tpl.fills(bars, combos)
        if fills is not None:
            fc, ft, new = fills
            sim = summarize_long(bars, len(combos), fc, ft, new, cash, commission, spread)
            return column_stats(bars, sim, cash)
    step = max(1, CHUNK_CELLS // max(bars.n, 1))
    parts = []
    for i in range(0, len(combos), step):
        part = combos[i : i + step]
        sim_ = run_sim(tpl, bars, part, cash, commission, spread, orders, per_trade=True)
        parts.append(column_stats(bars, sim_, cash))
    if len(parts) == 1:
        return parts[0]
    return {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}


def backtest(
    data: pd.DataFrame,
    strategy: str | StrategyBase,
    params: Mapping[str, Any] | None = None,
    *,
    cash: float = DEFAULT_CASH,
    commission: float = 0.0,
    spread: float = 0.0,
    symbol: str | None = None,
    stop_loss: float | str | None = None,
    take_profit: float | str | None = None,
    trailing_stop: float | str | None = None,
    trailing_atr: tuple[int, float] | str | None = None,
    size: float | str | None = None,
    risk: float | str | None = None,
    units: float | str | None = None,
    whole_units: bool | str = False,
) -> BacktestResult:
    """Backtest one strategy with one parameter set on an OHLCV frame.

    Args:
        data: OHLCV DataFrame on a sorted DatetimeIndex (column names case-insensitive).
        strategy: a template name, e.g. ``"sma_cross"`` (see :func:`templates`), a
            :class:`Template`, a :class:`~chatops_widget.engine.rules.RuleStrategy` or a
            :class:`~chatops_widget.engine.FunctionStrategy` (a Python function).
        params: parameter overrides; missing ones take their defaults.
        cash: starting equity.
        commission: fraction of traded notional paid on every fill, e.g. ``0.001``.
        spread: bid-ask spread as a fraction of price, paid once per trade on entry (a long
            enters at ``open * (1 + spread)``, a short at ``open * (1 - spread)``), as in
            backtesting.py; e.g. ``0.0002``.
        symbol: label for the result (defaults to ``data.attrs.get("symbol")``).
        stop_loss, take_profit: fractions of the entry price (``0.05`` or ``"5%"``).
        trailing_stop: a fraction below the highest close since entry, or ``"atr(14)*3"``.
        trailing_atr: ``(window, multiple)``: a trailing stop that many Wilder ATRs away.
        size: fraction of equity per entry (default 1: all-in); risk: fraction of equity lost
            if the stop is hit (needs ``stop_loss``); units: fixed units per entry;
            whole_units: round units down to whole numbers (backtesting.py's behaviour).
            Fill rules: :mod:`chatops_widget.engine._events` and docs/strategies.md.

    Raises:
        ParamError: bad parameters (naming the parameter); DataError: bad data;
        EngineError: bad costs or order settings.

    Example:
        >>> from chatops_widget.engine import catalog
        >>> df = catalog.get("ALPHA")
        >>> r = backtest(df, "sma_cross", {"fast": 10, "slow": 30, "short": True})
        >>> bool(abs(r.trades.pnl.sum() - (r.equity.equity.iloc[-1] - 1_000_000)) < 1e-6)
        True
        >>> r.stats[["total_return", "sharpe", "max_drawdown"]]      # doctest: +SKIP
    """
    cash, commission, spread = validate_costs(cash, commission, spread)
    orders = Orders.from_kwargs(stop_loss, take_profit, trailing_stop, trailing_atr, size,
                                risk, units, whole_units)  # fmt: skip
    tpl, bars, sym = prepare(data, strategy)
    orders.check_bars(bars.n)
    p = tpl.validate(params, bars.n)
    sim = run_sim(tpl, bars, [p], cash, commission, spread, orders)
    st = column_stats(bars, sim, cash)
    values: dict[str, float] = {name: float(st[name][0]) for name in STAT_NAMES}
    values.update(bars=bars.n, cash=cash, commission=commission, spread=spread,
                  spread_paid=spread_paid(sim, spread))  # fmt: skip
    stats = pd.Series({s.name: values[s.name] for s in STATS}, dtype="float64", name="stats")
    equity = _equity_frame(bars, sim.equity[0], sim.held[0], cash)
    symbol = symbol or sym
    info = pd.Series(
        {
            "strategy": tpl.name,
            "symbol": symbol,
            "start": bars.index[0],
            "end": bars.index[-1],
            **orders.as_dict(),
        },
        dtype=object,
        name="info",
    )
    trades = trade_table(bars, sim, 0)
    return BacktestResult(tpl.name, p, equity, trades, stats, symbol, info)


def _equity_frame(bars: Bars, eq: FloatArray, held: Any, cash: float) -> pd.DataFrame:
    prev = np.concatenate(([cash], eq[:-1]))
    peak = np.maximum(np.maximum.accumulate(eq), cash)
    return pd.DataFrame(
        {
            "equity": eq,
            "returns": eq / prev - 1.0,
            "drawdown": eq / peak - 1.0,
            "position": held,
            # buy & hold of the same bars with the same cash, no costs (buy_hold_return's curve)
            "benchmark": cash * bars.close / bars.close[0],
        },
        index=bars.index,
    )
