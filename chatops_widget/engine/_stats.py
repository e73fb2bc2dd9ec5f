"""Every stat of :data:`._metrics.STATS`, vectorized over combinations (rows of the equity matrix).

All of them are numpy reductions over the ``(k, n)`` equity matrix or grouped reductions over
the flat :class:`._sim.Trades` table (``bincount`` / ``reduceat`` by combination), so a sweep
gets every stat for every combination at about the cost of a few passes over the matrix.
Names, units and formulas are documented in :mod:`._metrics` (and docs/strategies.md).

Example:
    >>> from chatops_widget.engine import backtest, catalog
    >>> s = backtest(catalog.get("ALPHA"), "sma_cross", {"fast": 10, "slow": 30}).stats
    >>> s.dtype, bool(s["max_drawdown"] <= s["avg_drawdown"] <= 0)
    (dtype('float64'), True)
"""

from __future__ import annotations

import numpy as np

from ._metrics import STAT_NAMES
from ._sim import Bars, Sim, Trades
from ._types import FloatArray, IntArray, nonzero_2d

__all__ = ["column_stats"]


def column_stats(bars: Bars, sim: Sim, cash: float) -> dict[str, FloatArray]:
    """Every stat in :data:`STAT_NAMES` for every combination (arrays of length k)."""
    eq = sim.equity
    k, n = eq.shape
    ppy = bars.periods_per_year
    ret = sim.returns
    if ret is None:
        ret = np.empty_like(eq)
        np.divide(eq[:, 1:], eq[:, :-1], out=ret[:, 1:])
        ret[:, 0] = eq[:, 0] / cash
        ret -= 1.0
    mean = ret.sum(axis=1) / n
    sumsq = np.einsum("ij,ij->i", ret, ret)
    var = (sumsq - n * mean * mean) / (n - 1) if n > 1 else np.full(k, np.nan)
    std = np.sqrt(np.maximum(var, 0.0))
    neg = np.minimum(ret, 0.0)
    down = np.sqrt(np.einsum("ij,ij->i", neg, neg) / n)
    dd = np.maximum.accumulate(eq, axis=1)
    np.divide(eq, dd, out=dd)
    # drawdown against max(cash, running peak) = min(eq / peak, eq / cash)
    mdd = np.minimum(dd.min(axis=1), eq.min(axis=1) / cash) - 1.0
    mdd = np.minimum(mdd, 0.0)
    final = eq[:, -1]
    total = final / cash - 1.0
    years = bars.years
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        cagr = np.where(
            (final > 0) & (years > 0), (final / cash) ** (1.0 / max(years, 1e-12)) - 1.0, np.nan
        )
        sharpe = np.where(std > 1e-15, mean / std * np.sqrt(ppy), np.nan)
        sortino = np.where(down > 1e-15, mean / down * np.sqrt(ppy), np.nan)
        calmar = np.where(mdd < 0, cagr / -mdd, np.nan)
    exposure = np.count_nonzero(sim.held, axis=1) / n
    close = bars.close
    out: dict[str, FloatArray] = {
        "total_return": total,
        "cagr": cagr,
        "volatility": std * np.sqrt(ppy),
        "sharpe": sharpe,
        "sortino": sortino,
        "max_drawdown": mdd,
        "exposure": exposure,
        "final_equity": final,
        "buy_hold_return": np.full(k, close[-1] / close[0] - 1.0),
        "calmar": calmar,
        "bars_per_year": np.full(k, ppy),
        **_drawdown_periods(bars, dd, k, n),
        **_alpha_beta(bars, ret, mean, ppy),
        **_trade_stats(bars, sim.trades, k),
    }
    mean_eq = eq.mean(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["turnover"] = np.where(
            (mean_eq > 0) & (years > 0), out.pop("_traded") / mean_eq / max(years, 1e-12), np.nan
        )
    # copies: a view (e.g. the last equity column) would keep the whole (k, n) matrix alive
    return {name: np.array(out[name]) for name in STAT_NAMES}


def _drawdown_periods(bars: Bars, ratio: FloatArray, k: int, n: int) -> dict[str, FloatArray]:
    """Mean depth and max/mean duration (days) of the runs of bars below the running peak.

    ``ratio`` is ``equity / running peak``. A period starts at the peak bar before the first
    bar below it and ends at the first bar back at a new peak (or at the last bar).
    """
    below = ratio < 1.0
    first = below.copy()
    first[:, 1:] &= ~below[:, :-1]
    last = below  # reused in place: no longer needed as is
    last[:, :-1] &= ~below[:, 1:].copy()
    sc, sb = nonzero_2d(first)  # first bar below the peak (never bar 0: equity[0] = cash)
    _, eb = nonzero_2d(last)  # the last bar below it ...
    eb += 1  # ... and one past it
    avg_dd, max_dur, avg_dur = np.zeros(k), np.zeros(k), np.zeros(k)
    if len(sc):
        flat = ratio.ravel()
        bounds = np.empty(2 * len(sc), dtype=np.int64)
        bounds[0::2] = sc * n + sb
        bounds[1::2] = sc * n + eb
        if bounds[-1] == flat.size:  # reduceat needs in-range indices: pad with a 1.0
            flat = np.append(flat, 1.0)
        depth = np.minimum.reduceat(flat, bounds)[0::2] - 1.0
        days = bars.days
        dur = days[np.minimum(eb, n - 1)] - days[sb - 1]
        count = np.bincount(sc, minlength=k)
        has = count > 0
        avg_dd[has] = (np.bincount(sc, weights=depth, minlength=k) / np.maximum(count, 1))[has]
        avg_dur[has] = (np.bincount(sc, weights=dur, minlength=k) / np.maximum(count, 1))[has]
        np.maximum.at(max_dur, sc, dur)
    return {
        "avg_drawdown": avg_dd,
        "max_drawdown_duration": max_dur,
        "avg_drawdown_duration": avg_dur,
    }


def _alpha_beta(bars: Bars, ret: FloatArray, mean: FloatArray, ppy: float) -> dict[str, FloatArray]:
    """CAPM beta and annualized alpha against buy & hold of the same bars (risk-free 0)."""
    b = bars.close_returns
    mb = b.mean()
    bc = b - mb
    # einsum, not ``@``: a matrix product goes to BLAS, whose threads then spin on the other
    # cores for a while (OpenBLAS) -- taking the core a second sweep thread or worker needs
    var_b = float(np.einsum("i,i->", bc, bc))
    k = len(mean)
    if var_b <= 0:
        return {"alpha": np.full(k, np.nan), "beta": np.full(k, np.nan)}
    beta = np.einsum("ij,j->i", ret, bc) / var_b  # sum(bc) = 0, so r need not be centred
    with np.errstate(invalid="ignore", over="ignore"):
        alpha = (1.0 + mean - beta * mb) ** ppy - 1.0
    return {"alpha": alpha, "beta": beta}


def _group_extreme(values: FloatArray, col: IntArray, k: int, fn: np.ufunc) -> FloatArray:
    """``fn.reduceat`` of ``values`` per combination (sorted by ``col``); NaN without trades."""
    out = np.full(k, np.nan)
    if len(col):
        starts = np.flatnonzero(np.r_[True, col[1:] != col[:-1]])
        out[col[starts]] = fn.reduceat(values, starts)
    return out


def _trade_stats(bars: Bars, t: Trades, k: int) -> dict[str, FloatArray]:
    col, pnl = t.col, t.pnl
    rel = pnl / t.notional
    num = np.bincount(col, minlength=k).astype(np.float64)
    win = pnl > 0
    wins = np.bincount(col, weights=win.astype(np.float64), minlength=k)
    nloss = np.bincount(col, weights=(pnl < 0).astype(np.float64), minlength=k)
    gain = np.bincount(col, weights=np.where(win, pnl, 0.0), minlength=k)
    loss = np.bincount(col, weights=np.where(pnl < 0, -pnl, 0.0), minlength=k)
    rel_sum = np.bincount(col, weights=rel, minlength=k)
    pnl_sum = np.bincount(col, weights=pnl, minlength=k)
    days = bars.days
    dur = days[t.exit_bar] - days[t.entry_bar]
    traded = t.notional + np.abs(t.units) * t.exit_price
    with np.errstate(divide="ignore", invalid="ignore"):
        win_rate = np.where(num > 0, wins / num, np.nan)
        pf = np.where(loss > 0, gain / loss, np.where(gain > 0, np.inf, np.nan))
        avg = np.where(num > 0, rel_sum / num, np.nan)
        expectancy = np.where(num > 0, pnl_sum / num, np.nan)
        dev = pnl - expectancy[col]
        sd = np.sqrt(np.bincount(col, weights=dev * dev, minlength=k) / (num - 1))
        sqn = np.where((num > 1) & (sd > 0), np.sqrt(num) * expectancy / sd, np.nan)
        ratio = (gain / wins) / (loss / nloss)
        kelly = np.where((wins > 0) & (nloss > 0), win_rate - (1.0 - win_rate) / ratio, np.nan)
        avg_dur = np.where(num > 0, np.bincount(col, weights=dur, minlength=k) / num, np.nan)
    return {
        "win_rate": win_rate,
        "num_trades": num.astype(np.int64),
        "profit_factor": pf,
        "avg_trade_return": avg,
        "best_trade": _group_extreme(rel, col, k, np.maximum),
        "worst_trade": _group_extreme(rel, col, k, np.minimum),
        "expectancy": expectancy,
        "sqn": sqn,
        "kelly": kelly,
        "avg_trade_duration": avg_dur,
        "max_trade_duration": _group_extreme(dur, col, k, np.maximum),
        "commissions_paid": np.bincount(col, weights=t.commission, minlength=k),
        "_traded": np.bincount(col, weights=traded, minlength=k),
    }


def spread_paid(sim: Sim, spread: float) -> float:
    """What the spread cost on entry: ``|units| * open * spread`` per trade, where the fill
    price was ``open * (1 + direction * spread)``."""
    t = sim.trades
    return float(np.sum(t.notional * spread / (1.0 + t.direction * spread)))
