"""The execution model, vectorized over bars and over parameter combinations (columns).

Model (the same for :func:`backtest` and :func:`sweep`):

- ``pos[t]`` (+1/0/-1) is decided on bar ``t``'s close and filled at bar ``t + 1``'s open, so
  the position *held* during bar ``t`` is ``held[t] = pos[t - 1]`` (``held[0] = 0``).
- Fully invested, fractional units: on every change of ``held`` the old position is closed and
  the new one opened at that bar's open. A new position of weight ``w`` gets notional
  ``N = |w| E / (1 + c |w|)`` where ``E`` is the equity after closing the old one, so that
  notional plus its commission is the whole equity (backtesting.py sizes ``buy()`` the same).
- ``commission`` ``c`` is a fraction of traded notional paid on every fill: ``c * N`` on entry
  and ``c * |units| * exit_price`` on exit (for a short that is not ``c`` times its equity).
- Units are held between fills (a short does not re-balance daily): within a segment entered
  at price ``P`` with post-fee equity ``N``, ``equity[t] = N * (1 + w * (close[t] / P - 1))``.
- A position still open after the last bar is closed at the last close (its commission is
  charged in the last equity value), so ``sum(trades.pnl) == equity[-1] - cash``.

Everything is numpy over ``(n_bars, n_combos)`` matrices; sparse work happens only at fills.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd


@dataclass
class Bars:
    """Validated OHLC as float64 arrays plus an indicator cache shared across chunks."""

    index: pd.DatetimeIndex
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    cache: dict = field(default_factory=dict)

    @classmethod
    def from_frame(cls, df: pd.DataFrame) -> Bars:
        arr = {c: np.ascontiguousarray(df[c].to_numpy(dtype=np.float64)) for c in df.columns}
        return cls(df.index, arr["Open"], arr["High"], arr["Low"], arr["Close"])

    @property
    def n(self) -> int:
        return len(self.close)

    @property
    def years(self) -> float:
        return max((self.index[-1] - self.index[0]).total_seconds() / (365.25 * 86400), 0.0)

    @property
    def periods_per_year(self) -> float:
        """Bars per year estimated from the index (about 252 for daily stock bars)."""
        y = self.years
        return (self.n - 1) / y if y > 0 else 252.0


@dataclass
class Sim:
    """Simulation output for ``k`` columns (see module docstring)."""

    equity: np.ndarray  # (n, k) equity at each close, last bar net of the closing commission
    held: np.ndarray  # (n, k) int8 position held during each bar
    # one row per fill, sorted by (column, bar): bar, column, new position, pre-entry equity
    fill_bar: np.ndarray
    fill_col: np.ndarray
    fill_pos: np.ndarray
    fill_value: np.ndarray
    fill_notional: np.ndarray  # notional of the position opened at that fill


def simulate(bars: Bars, pos: np.ndarray, cash: float, commission: float) -> Sim:
    """Run the execution model for target positions ``pos`` (n, k)."""
    n, k = pos.shape
    o, c = bars.open, bars.close
    held = np.zeros((n, k), dtype=np.int8)
    held[1:] = pos[:-1]
    fill = np.zeros((n, k), dtype=bool)
    np.not_equal(held[1:], held[:-1], out=fill[1:])
    ft, fc = np.nonzero(fill)  # sorted by bar, then column
    new_h = held[ft, fc].astype(np.float64)
    old_h = held[ft - 1, fc].astype(np.float64)
    # entry bar of the segment each (bar, column) belongs to
    seg = np.where(fill, np.arange(n, dtype=np.int64)[:, None], 0)
    np.maximum.accumulate(seg, axis=0, out=seg)
    entry_px = o[seg]
    old_px = entry_px[ft - 1, fc]
    ratio = o[ft] / old_px
    # mark-to-market of the old segment, minus the exit fee on its exit notional |u| * open
    growth = 1.0 + old_h * (ratio - 1.0) - commission * np.abs(old_h) * ratio
    fee_in = 1.0 + commission * np.abs(new_h)
    g = np.ones((n, k))
    g[ft, fc] = growth / fee_in
    a = np.cumprod(g, axis=0)
    a *= cash  # post-entry-fee equity of the current segment (= its notional when |w| = 1)
    equity = np.multiply(c[:, None], 1.0 / entry_px)
    equity -= 1.0
    equity *= held
    equity += 1.0
    equity *= a
    last = held[-1] != 0
    if commission and last.any():
        equity[-1, last] -= (
            commission * np.abs(held[-1, last]) * a[-1, last] * c[-1] / entry_px[-1, last]
        )
    order = np.lexsort((ft, fc))
    ft, fc, new_h = ft[order], fc[order], new_h[order]
    notional = a[ft, fc] * np.abs(new_h)
    value = a[ft, fc] * fee_in[order]
    return Sim(equity, held, ft, fc, new_h.astype(np.int8), value, notional)


def trade_table(bars: Bars, sim: Sim, col: int, commission: float) -> pd.DataFrame:
    """Round trips of column ``col``: one row per segment with a non-zero position."""
    sel = sim.fill_col == col
    fb, fp, fv, fnot = (
        sim.fill_bar[sel],
        sim.fill_pos[sel],
        sim.fill_value[sel],
        sim.fill_notional[sel],
    )
    n = bars.n
    exit_bar = np.append(fb[1:], n - 1)
    exit_val = np.append(fv[1:], sim.equity[-1, col])
    is_open_end = np.zeros(len(fb), dtype=bool)
    if len(fb):
        is_open_end[-1] = True
    keep = fp != 0
    fb, fp, fv, fnot = fb[keep], fp[keep], fv[keep], fnot[keep]
    exit_bar, exit_val, is_open_end = exit_bar[keep], exit_val[keep], is_open_end[keep]
    entry_px = bars.open[fb]
    exit_px = np.where(is_open_end, bars.close[-1], bars.open[exit_bar])
    size = fp * fnot / entry_px
    pnl = exit_val - fv
    fees = commission * (fnot + np.abs(size) * exit_px)
    return pd.DataFrame(
        {
            "entry_time": bars.index[fb],
            "exit_time": bars.index[exit_bar],
            "entry_bar": fb,
            "exit_bar": exit_bar,
            "direction": np.where(fp > 0, "long", "short"),
            "entry_price": entry_px,
            "exit_price": exit_px,
            "size": size,
            "pnl": pnl,
            "return": pnl / fnot,
            "commission": fees,
            "bars_held": exit_bar - fb,
            "closed_at_end": is_open_end,
        }
    )


STAT_NAMES = (
    "total_return",
    "cagr",
    "volatility",
    "sharpe",
    "sortino",
    "max_drawdown",
    "win_rate",
    "num_trades",
    "exposure",
    "profit_factor",
    "avg_trade_return",
    "final_equity",
)


def column_stats(bars: Bars, sim: Sim, cash: float) -> dict[str, np.ndarray]:
    """Every stat in :data:`STAT_NAMES` for every column (arrays of length k)."""
    eq = sim.equity
    n, k = eq.shape
    ppy = bars.periods_per_year
    ret = np.empty_like(eq)
    np.divide(eq[1:], eq[:-1], out=ret[1:])
    ret[0] = eq[0] / cash
    ret -= 1.0
    mean = ret.mean(axis=0)
    std = ret.std(axis=0, ddof=1) if n > 1 else np.full(k, np.nan)
    neg = np.minimum(ret, 0.0)
    down = np.sqrt(np.einsum("ij,ij->j", neg, neg) / n)
    peak = np.maximum.accumulate(eq, axis=0)
    np.maximum(peak, cash, out=peak)
    np.divide(eq, peak, out=peak)
    mdd = peak.min(axis=0) - 1.0
    final = eq[-1]
    total = final / cash - 1.0
    years = bars.years
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        cagr = np.where(
            (final > 0) & (years > 0), (final / cash) ** (1.0 / max(years, 1e-12)) - 1.0, np.nan
        )
        sharpe = np.where(std > 0, mean / std * np.sqrt(ppy), np.nan)
        sortino = np.where(down > 0, mean / down * np.sqrt(ppy), np.nan)
    exposure = np.count_nonzero(sim.held, axis=0) / n
    tstats = _trade_stats(sim, k)
    return {
        "total_return": total,
        "cagr": cagr,
        "volatility": std * np.sqrt(ppy),
        "sharpe": sharpe,
        "sortino": sortino,
        "max_drawdown": mdd,
        "exposure": exposure,
        "final_equity": final,
        **tstats,
    }


def _trade_stats(sim: Sim, k: int) -> dict[str, np.ndarray]:
    fc, fp, fv, fnot = sim.fill_col, sim.fill_pos, sim.fill_value, sim.fill_notional
    if len(fc):
        nxt_same = np.append(fc[1:] == fc[:-1], False)
        exit_val = np.where(nxt_same, np.append(fv[1:], 0.0), sim.equity[-1, fc])
    else:
        exit_val = fv
    keep = fp != 0
    col, pnl = fc[keep], (exit_val - fv)[keep]
    rel = pnl / fnot[keep]
    num = np.bincount(col, minlength=k).astype(np.float64)
    wins = np.bincount(col, weights=(pnl > 0).astype(np.float64), minlength=k)
    gain = np.bincount(col, weights=np.where(pnl > 0, pnl, 0.0), minlength=k)
    loss = np.bincount(col, weights=np.where(pnl < 0, -pnl, 0.0), minlength=k)
    rel_sum = np.bincount(col, weights=rel, minlength=k)
    with np.errstate(divide="ignore", invalid="ignore"):
        win_rate = np.where(num > 0, wins / num, np.nan)
        pf = np.where(loss > 0, gain / loss, np.where(gain > 0, np.inf, np.nan))
        avg = np.where(num > 0, rel_sum / num, np.nan)
    return {
        "win_rate": win_rate,
        "num_trades": num.astype(np.int64),
        "profit_factor": pf,
        "avg_trade_return": avg,
    }
