"""``backtest_portfolio``: one strategy trading several symbols from one pool of cash.

Each symbol is a *sleeve* with its share of the equity (``weights``) that follows its own
signals exactly as :func:`~chatops_widget.engine.backtest` would (fills at the next open,
commission and spread per fill, stops, sizing by fraction of the sleeve). The calendar is the
union of the symbols' dates: a sleeve's value is carried over dates where its symbol has no bar,
and before its first bar (or after its last) its share sits in cash. The portfolio's equity is
the sum of the sleeves.

``rebalance="none"``: each sleeve keeps its starting share and its own gains, so the portfolio
is the sum of single backtests with ``cash * weight`` each. ``"monthly"`` / ``"weekly"``: at
the last close of every month / week the equity is split again by the target weights among the
symbols not past their last bar (one not trading yet keeps its share in cash); a sleeve in a
position keeps the
same exposure, so it buys or sells the difference at that close, paying commission on the
traded notional (and the spread on what it adds). Sleeves follow their signals in proportion
to their equity, which makes that exact; fixed ``units=`` and ``whole_units=`` are therefore
refused with rebalancing. With rebalancing a trade's ``size`` and ``pnl`` are at the scale of
its entry (a rebalance during a trade resizes it; that is in ``rebalances``).

Example:
    >>> from chatops_widget.engine import backtest, backtest_portfolio, sample_catalog
    >>> cat = sample_catalog()
    >>> p = backtest_portfolio(cat, "sma_cross", {"fast": 10, "slow": 50},
    ...                        symbols=["ALPHA", "BRAVO"], commission=0.001)
    >>> halves = [backtest(cat.get(s), "sma_cross", {"fast": 10, "slow": 50}, cash=500_000,
    ...                    commission=0.001).equity.equity for s in ("ALPHA", "BRAVO")]
    >>> bool(abs(p.equity.equity - (halves[0] + halves[1])).max() < 1e-6)
    True
    >>> sorted(p.trades.symbol.unique()), p.sleeves.columns.tolist()
    (['ALPHA', 'BRAVO'], ['ALPHA', 'BRAVO'])
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ._backtest import DEFAULT_CASH, run_sim, validate_costs
from ._catalog import DataCatalog
from ._errors import EngineError, ParamError
from ._metrics import STAT_NAMES, STATS
from ._orders import Orders
from ._portfolio_result import PortfolioResult, portfolio_weights, rebalance_points
from ._registry import get_template
from ._sim import Bars, Sim, Trades, trade_table
from ._stats import column_stats, spread_paid
from ._symbols import symbol_frames
from ._templates import StrategyBase
from ._types import FloatArray

__all__ = ["backtest_portfolio"]


@dataclass
class _Sleeve:
    """One symbol's run on its own dates (``at``: their positions in the union calendar)."""

    symbol: str
    bars: Bars
    sim: Sim
    at: np.ndarray[Any, Any]
    cash: float


def _on_union(values: FloatArray, at: np.ndarray[Any, Any], n: int, before: float) -> FloatArray:
    """A per-bar series of one symbol carried over the union calendar (``before`` until its
    first bar, its last value after its last)."""
    out = np.full(n, np.nan)
    out[at] = values
    s = pd.Series(out).ffill().fillna(before)
    return s.to_numpy(dtype=np.float64)


def _units_at_close(sleeve: _Sleeve) -> FloatArray:
    """Units held at each close of the symbol's own bars (entry bar through the bar before
    the exit)."""
    t, n = sleeve.sim.trades, sleeve.bars.n
    delta = np.zeros(n + 1)
    np.add.at(delta, t.entry_bar, t.units)
    np.add.at(delta, t.exit_bar, -t.units)
    return np.cumsum(delta)[:n]


def _rebalanced(
    growth: FloatArray,
    expo: FloatArray,
    active: np.ndarray[Any, Any],
    weights: FloatArray,
    cash: float,
    points: np.ndarray[Any, Any],
    k_up: float,
    k_down: float,
) -> tuple[FloatArray, FloatArray, list[tuple[int, FloatArray, FloatArray, FloatArray]]]:
    """Sleeve values ``(k, n)`` with rebalancing at ``points``; the scale (value per unit of
    growth) in force at each bar; and per rebalance ``(bar, before, after, transfer)``."""
    k, n = growth.shape
    values = np.empty((k, n))
    scale = np.empty((k, n))
    a = weights * cash  # value at the start of the current period
    g0 = np.ones(k)  # growth at the start of the current period
    log: list[tuple[int, FloatArray, FloatArray, FloatArray]] = []
    bounds = [*points.tolist(), n - 1]
    lo = 0
    for r in bounds:
        with np.errstate(divide="ignore", invalid="ignore"):
            f = np.where(g0 > 0, a / g0, 0.0)
        values[:, lo : r + 1] = f[:, None] * growth[:, lo : r + 1]
        scale[:, lo : r + 1] = f[:, None]
        if r == n - 1:
            break
        v = values[:, r]
        live = active[:, r]
        total = v.sum()
        if live.any() and total > 0:
            w = np.where(live, weights, 0.0)
            c = w / w.sum() * total
            x = np.abs(expo[:, r])
            up = c >= v
            ku, kd = k_up * x, k_down * x
            after = np.where(up, (c + ku * v) / (1.0 + ku), (c - kd * v) / (1.0 - kd))
            log.append((r, v.copy(), after, c - v))
            values[:, r] = after
            a = after
        else:
            a = v.copy()
        g0 = growth[:, r].copy()
        lo = r + 1
    return values, scale, log


def _prepare(
    frames: dict[str, pd.DataFrame], tpl: StrategyBase, params: Mapping[str, Any] | None,
    orders: Orders,
) -> tuple[dict[str, Bars], dict[str, Any]]:  # fmt: skip
    """Bars and validated params per symbol, every one checked before any run."""
    bars, validated = {}, {}
    for sym, frame in frames.items():
        b = Bars.from_frame(frame)
        try:
            validated[sym] = tpl.validate(params, b.n)
            orders.check_bars(b.n)
        except EngineError as exc:
            raise ParamError(f"{sym}: {exc}", getattr(exc, "param", None)) from None
        bars[sym] = b
    return bars, validated


def backtest_portfolio(
    data: Mapping[str, pd.DataFrame] | DataCatalog,
    strategy: str | StrategyBase,
    params: Mapping[str, Any] | None = None,
    *,
    symbols: Iterable[str] | None = None,
    weights: Any = "equal",
    rebalance: str = "none",
    start: Any = None,
    end: Any = None,
    cash: float = DEFAULT_CASH,
    commission: float = 0.0,
    spread: float = 0.0,
    **orders: Any,
) -> PortfolioResult:
    """Backtest ``strategy`` with ``params`` on several symbols from one pool of ``cash``
    (see the module docstring).

    Args:
        data: ``symbol -> OHLCV`` or a :class:`DataCatalog`; ``symbols`` picks from it (default
            all; at most :data:`~._symbols.MAX_SYMBOLS`); ``start``/``end`` trim every symbol.
        weights: ``"equal"``, one positive weight per symbol (summing to 1), or
            ``symbol -> weight``.
        rebalance: ``"none"``, ``"monthly"`` or ``"weekly"``.
        cash, commission, spread, **orders: as for :func:`backtest` (per fill, per sleeve).

    Raises:
        EngineError: unknown symbols, bad weights, schedule, costs, orders or params -- before
            any run.
    """
    cash, commission, spread = validate_costs(cash, commission, spread)
    unknown = sorted(set(orders) - set(Orders.__dataclass_fields__))
    if unknown:
        raise EngineError(f"backtest_portfolio() got unknown argument(s) {', '.join(unknown)}")
    order = Orders.from_kwargs(**orders)
    points_key = str(rebalance).strip().lower()
    rebalance_points(pd.DatetimeIndex([]), points_key)  # checks the name
    if points_key != "none" and (order.units is not None or order.whole_units):
        raise EngineError(
            "rebalancing resizes each symbol's position with its share of equity, so it needs "
            "sizing by fraction: drop units=/whole_units= or use rebalance=none"
        )
    tpl = get_template(strategy)
    frames = symbol_frames(data, symbols, start=start, end=end)
    syms = list(frames)
    w = portfolio_weights(weights, syms)
    bars, validated = _prepare(frames, tpl, params, order)
    union = pd.DatetimeIndex(sorted(set().union(*(b.index for b in bars.values()))))
    n, k = len(union), len(syms)
    real = points_key == "none"  # each sleeve with its real cash (any sizing), else growth
    sleeves = []
    for i, s in enumerate(syms):
        c0 = cash * w[i] if real else 1.0
        sim = run_sim(tpl, bars[s], [validated[s]], c0, commission, spread, order)
        sleeves.append(_Sleeve(s, bars[s], sim, union.get_indexer(bars[s].index), c0))
    growth = np.vstack([_on_union(sl.sim.equity[0] / sl.cash, sl.at, n, 1.0) for sl in sleeves])
    expo = np.zeros((k, n))
    active = np.zeros((k, n), dtype=bool)
    for i, sl in enumerate(sleeves):
        units = _units_at_close(sl)
        own = units * sl.bars.close / np.where(sl.sim.equity[0] != 0, sl.sim.equity[0], 1.0)
        expo[i] = _on_union(own, sl.at, n, 0.0)
        expo[i, sl.at[-1] :] = 0.0
        active[i, : sl.at[-1]] = True  # until its last bar (before its first: cash)
    points = rebalance_points(union, points_key)
    if real:  # the sleeves' own equity, at their real cash
        values = np.vstack([_on_union(sl.sim.equity[0], sl.at, n, sl.cash) for sl in sleeves])
        scale = np.ones((k, n))
        log: list[tuple[int, FloatArray, FloatArray, FloatArray]] = []
    else:
        values, scale, log = _rebalanced(growth, expo, active, w, cash, points,
                                         commission + spread, commission)  # fmt: skip
    prices = np.vstack([_on_union(sl.bars.close / sl.bars.close[0], sl.at, n, 1.0)
                        for sl in sleeves])  # fmt: skip
    bench, _, _ = _rebalanced(prices, np.zeros((k, n)), active, w, cash, points, 0.0, 0.0)
    return _result(tpl, syms, w, sleeves, union, values, scale, log, bench.sum(axis=0), expo,
                   cash, commission, spread, order, validated, points_key)  # fmt: skip


def _result(
    tpl: StrategyBase, syms: list[str], w: FloatArray, sleeves: list[_Sleeve],
    union: pd.DatetimeIndex, values: FloatArray, scale: FloatArray, log: list[Any],
    bench: FloatArray, expo: FloatArray, cash: float, commission: float, spread: float,
    order: Orders, validated: dict[str, Any], rebalance: str,
) -> PortfolioResult:  # fmt: skip
    n = len(union)
    total = values.sum(axis=0)
    transfer = np.zeros_like(values)
    for r, _before, _after, moved in log:
        transfer[:, r] = moved
    contributions = values - (w * cash)[:, None] - np.cumsum(transfer, axis=1)
    held = np.zeros((len(syms), n), dtype=np.int8)
    parts, tables = [], []
    for i, sl in enumerate(sleeves):
        held[i, sl.at] = sl.sim.held[0]
        t = sl.sim.trades
        f = scale[i, sl.at[t.entry_bar]] if len(t) else np.zeros(0)
        zeros = np.zeros(len(t), dtype=np.int64)
        parts.append(Trades(zeros, sl.at[t.entry_bar], sl.at[t.exit_bar], t.direction,
                            t.entry_price, t.exit_price, t.units * f, t.notional * f, t.pnl * f,
                            t.commission * f, t.reason))  # fmt: skip
        table = trade_table(sl.bars, sl.sim, 0)
        for col in ("size", "pnl", "commission"):
            table[col] = table[col] * f
        table.insert(0, "symbol", sl.symbol)
        tables.append(table)
    trades = Trades.concat(parts)
    trades = trades.select(np.argsort(trades.entry_bar, kind="stable"))
    bench_bars = Bars(union, bench, bench, bench, bench, np.zeros(n))
    any_held = (held != 0).any(axis=0).astype(np.int8)[None, :]
    sim = Sim(total[None, :], any_held, trades)
    st = column_stats(bench_bars, sim, cash)
    vals = {name: float(st[name][0]) for name in STAT_NAMES}
    vals.update(bars=n, cash=cash, commission=commission, spread=spread,
                spread_paid=spread_paid(sim, spread))  # fmt: skip
    stats = pd.Series({s.name: vals[s.name] for s in STATS}, dtype="float64", name="stats")
    prev = np.concatenate(([cash], total[:-1]))
    peak = np.maximum(np.maximum.accumulate(total), cash)
    with np.errstate(divide="ignore", invalid="ignore"):
        gross = np.where(total > 0, (np.abs(expo) * values).sum(axis=0) / total, np.nan)
    equity = pd.DataFrame({"equity": total, "returns": total / prev - 1.0,
                           "drawdown": total / peak - 1.0, "exposure": gross,
                           "buy_hold": bench}, index=union)  # fmt: skip
    rows = [
        {"time": union[r], "symbol": s, "before": b[i], "after": a[i],
         "traded": abs(expo[i, r]) * abs(a[i] - b[i]), "cost": b[i] + m[i] - a[i]}
        for r, b, a, m in log for i, s in enumerate(syms)
    ]  # fmt: skip
    rebal = pd.DataFrame(rows, columns=["time", "symbol", "before", "after", "traded", "cost"])
    all_trades = pd.concat(tables, ignore_index=True).sort_values("entry_time", kind="stable")
    info = {"strategy": tpl.name, "params": validated, "symbols": syms, "weights": w.tolist(),
            "rebalance": rebalance, "start": union[0], "end": union[-1], "cash": cash,
            "commission": commission, "spread": spread, **order.as_dict()}  # fmt: skip

    def wide(matrix: np.ndarray[Any, Any]) -> pd.DataFrame:
        return pd.DataFrame(matrix.T, index=union, columns=pd.Index(syms))

    return PortfolioResult(
        equity,
        wide(values),
        wide(contributions),
        wide(held),
        all_trades.reset_index(drop=True),
        rebal,
        stats,
        pd.Series(w, index=syms, name="weight"),
        pd.Series(info, dtype=object, name="info"),
    )
