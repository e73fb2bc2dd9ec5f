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

from ._drawdown import drawdown_periods
from ._metrics import STAT_NAMES
from ._sim import Bars, Sim, Summary, Trades
from ._types import FloatArray, IntArray, new_group

__all__ = ["column_stats"]


def column_stats(bars: Bars, sim: Sim | Summary, cash: float) -> dict[str, FloatArray]:
    """Every stat in :data:`STAT_NAMES` for every combination (arrays of length k)."""
    n = bars.n
    ppy = bars.periods_per_year
    if isinstance(sim, Summary):  # a sweep's all-in long chunk: no (k, n) matrix
        k, sums, final = len(sim.final), sim.sums, sim.final
        periods = dict(sim.periods)
        ratio_min = periods.pop("_ratio_min")
    else:
        eq = sim.equity
        k = len(eq)
        sums = sim.sums if sim.sums is not None else _sums(bars, sim, cash)
        periods = drawdown_periods(bars.days, eq, sim.below)
        # drawdown against max(cash, running peak) = min(eq / peak, eq / cash); the second
        # never is the smaller when every row starts at cash (the peak is >= cash then)
        ratio_min = periods.pop("_ratio_min")
        if sim.sums is None or (eq[:, 0] != cash).any():
            ratio_min = np.minimum(ratio_min, eq.min(axis=1) / cash)
        final = eq[:, -1]
    mean = sums["r"] / n
    var = (sums["r2"] - n * mean * mean) / (n - 1) if n > 1 else np.full(k, np.nan)
    std = np.sqrt(np.maximum(var, 0.0))
    down = np.sqrt(sums["down2"] / n)
    mdd = np.minimum(ratio_min - 1.0, 0.0)
    total = final / cash - 1.0
    years = bars.years
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        cagr = np.where(
            (final > 0) & (years > 0), (final / cash) ** (1.0 / max(years, 1e-12)) - 1.0, np.nan
        )
        sharpe = np.where(std > 1e-15, mean / std * np.sqrt(ppy), np.nan)
        sortino = np.where(down > 1e-15, mean / down * np.sqrt(ppy), np.nan)
        calmar = np.where(mdd < 0, cagr / -mdd, np.nan)
    exposure = sums["held"] / n
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
        **periods,
        **_alpha_beta(bars, sums["rb"], mean, ppy),
        **_trade_stats(bars, sim.trades, k),
    }
    mean_eq = sums["equity"] / n
    with np.errstate(divide="ignore", invalid="ignore"):
        out["turnover"] = np.where(
            (mean_eq > 0) & (years > 0), out.pop("_traded") / mean_eq / max(years, 1e-12), np.nan
        )
    # copies: a view (e.g. the last equity column) would keep the whole (k, n) matrix alive
    return {name: np.array(out[name]) for name in STAT_NAMES}


def _sums(bars: Bars, sim: Sim, cash: float) -> dict[str, FloatArray]:
    """The per-combination sums of :attr:`Sim.sums` from the (k, n) matrices: ``r``, ``r2``,
    ``down2``, ``rb`` over the per-bar returns ``r``, ``equity`` and ``held`` (bars held)."""
    eq = sim.equity
    ret = sim.returns
    if ret is None:
        ret = np.empty_like(eq)
        np.divide(eq[:, 1:], eq[:, :-1], out=ret[:, 1:])
        ret[:, 0] = eq[:, 0] / cash
        ret -= 1.0
    neg = np.minimum(ret, 0.0)
    b = bars.close_returns
    return {
        "r": ret.sum(axis=1),
        "r2": np.einsum("ij,ij->i", ret, ret),
        "down2": np.einsum("ij,ij->i", neg, neg),
        "rb": np.einsum("ij,j->i", ret, b - b.mean()),  # not BLAS: see _bench
        "equity": eq.sum(axis=1),
        "held": np.count_nonzero(sim.held, axis=1).astype(np.float64),
    }


def _bench(bars: Bars) -> tuple[float, float]:
    """Mean and centred sum of squares of buy & hold's per-bar returns (cached on ``bars``).
    No BLAS here: a BLAS call wakes its thread pool, whose threads then spin for a while on
    the cores the backtest itself needs (one 1M-bar backtest took ~1.5x as long)."""
    hit = bars.cache.get("_bench")
    if hit is None:
        b = bars.close_returns
        mb = b.mean()
        bc = b - mb
        hit = bars.cache["_bench"] = (float(mb), float(np.einsum("i,i", bc, bc)))
    return hit


def _alpha_beta(bars: Bars, rb: FloatArray, mean: FloatArray, ppy: float) -> dict[str, FloatArray]:
    """CAPM beta and annualized alpha against buy & hold of the same bars (risk-free 0);
    ``rb`` is ``sum(r * (b - mean(b)))`` per combination."""
    mb, var_b = _bench(bars)
    k = len(mean)
    if var_b <= 0:
        return {"alpha": np.full(k, np.nan), "beta": np.full(k, np.nan)}
    beta = rb / var_b  # sum(bc) = 0, so r need not be centred
    with np.errstate(invalid="ignore", over="ignore"):
        alpha = (1.0 + mean - beta * mb) ** ppy - 1.0
    return {"alpha": alpha, "beta": beta}


def _group_extreme(values: FloatArray, col: IntArray, k: int, fn: np.ufunc) -> FloatArray:
    """``fn.reduceat`` of ``values`` per combination (sorted by ``col``); NaN without trades."""
    out = np.full(k, np.nan)
    if len(col):
        starts = np.flatnonzero(new_group(col))
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
