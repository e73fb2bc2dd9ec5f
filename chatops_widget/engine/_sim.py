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
- ``spread`` ``s`` (the bid-ask spread, a fraction of price) is paid once per trade, on entry,
  as backtesting.py does: a long enters at ``open * (1 + s)``, a short at ``open * (1 - s)``;
  exits fill at the unadjusted price. Commission is charged on the adjusted entry notional.

Everything is numpy over ``(n_combos, n_bars)`` matrices (each combination's bars contiguous);
sparse work happens only at fills. Long/flat-only chunks take a faster path (per-bar returns
``held * close-to-close`` corrected at fills, then one cumulative product).
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
    """Simulation output for ``k`` combinations (rows) over ``n`` bars (columns)."""

    equity: np.ndarray  # (k, n) equity at each close, last bar net of the closing commission
    held: np.ndarray  # (k, n) int8 position held during each bar
    # one entry per fill, sorted by (combination, bar): new position, pre-entry equity, notional
    fill_col: np.ndarray
    fill_bar: np.ndarray
    fill_pos: np.ndarray
    fill_value: np.ndarray
    fill_notional: np.ndarray
    returns: np.ndarray | None = None  # (k, n) per-bar simple returns when already known


def simulate(
    bars: Bars, pos: np.ndarray, cash: float, commission: float, spread: float = 0.0
) -> Sim:
    """Run the execution model for target positions ``pos`` of shape (k combos, n bars)."""
    k, n = pos.shape
    held = np.zeros((k, n), dtype=np.int8)
    held[:, 1:] = pos[:, :-1]
    fc, ft = np.nonzero(held[:, 1:] != held[:, :-1])  # sorted by combination, then bar
    ft += 1
    old = held[fc, ft - 1].astype(np.float64)
    new = held[fc, ft].astype(np.float64)
    if len(fc) and (old.min() < 0 or new.min() < 0):
        return _simulate_general(bars, held, fc, ft, old, new, cash, commission, spread)
    return _simulate_long(bars, held, fc, ft, old, new, cash, commission, spread)


def _simulate_long(bars, held, fc, ft, old, new, cash, c, s=0.0) -> Sim:
    """Long/flat only: per-bar returns are ``held * close-to-close`` except at fills."""
    o, cl = bars.open, bars.close
    rc = bars.cache.get("_rc")
    if rc is None:
        rc = bars.cache["_rc"] = np.concatenate(([0.0], cl[1:] / cl[:-1] - 1.0))
    ret = held * rc  # float64 (k, n)
    ent = new != 0
    te, tx = ft[ent], ft[~ent]
    ret[fc[ent], te] = cl[te] / (o[te] * (1.0 + s) * (1.0 + c)) - 1.0  # buy at open, mark
    ret[fc[~ent], tx] = o[tx] / cl[tx - 1] * (1.0 - c) - 1.0  # sell at open
    last = held[:, -1] != 0
    if c and last.any():
        ret[last, -1] = (1.0 + ret[last, -1]) * (1.0 - c) - 1.0  # close at the last close
    equity = ret + 1.0
    np.cumprod(equity, axis=1, out=equity)
    equity *= cash
    prev = equity[fc, ft - 1]
    value = np.where(ent, prev, prev * o[ft] / cl[ft - 1] * (1.0 - c))
    notional = np.where(ent, value / (1.0 + c), 0.0)
    return Sim(equity, held, fc, ft, new.astype(np.int8), value, notional, ret)


def _simulate_general(bars, held, fc, ft, old, new, cash, c, s=0.0) -> Sim:
    """Any position in {-1, 0, 1}: units held per segment, re-based at every fill."""
    k, n = held.shape
    o, cl = bars.open, bars.close
    fill = np.zeros((k, n), dtype=bool)
    fill[fc, ft] = True
    seg = np.where(fill, np.arange(n, dtype=np.int64)[None, :], 0)
    np.maximum.accumulate(seg, axis=1, out=seg)
    entry_px = o[seg]
    if s:  # a long segment entered at open * (1 + s), a short one at open * (1 - s)
        entry_px = entry_px * (1.0 + s * held)
    ratio = o[ft] / entry_px[fc, ft - 1]
    # mark-to-market of the old segment minus the exit fee on its exit notional |u| * open
    growth = 1.0 + old * (ratio - 1.0) - c * np.abs(old) * ratio
    fee_in = 1.0 + c * np.abs(new)
    a = np.ones((k, n))
    a[fc, ft] = growth / fee_in
    np.cumprod(a, axis=1, out=a)
    a *= cash  # post-entry-fee equity of the current segment (= its notional when |w| = 1)
    equity = cl[None, :] / entry_px
    equity -= 1.0
    equity *= held
    equity += 1.0
    equity *= a
    last = held[:, -1] != 0
    if c and last.any():
        equity[last, -1] -= c * a[last, -1] * cl[-1] / entry_px[last, -1]
    notional = a[fc, ft] * np.abs(new)
    value = a[fc, ft] * fee_in
    return Sim(equity, held, fc, ft, new.astype(np.int8), value, notional)


def trade_table(
    bars: Bars, sim: Sim, col: int, commission: float, spread: float = 0.0
) -> pd.DataFrame:
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
    exit_val = np.append(fv[1:], sim.equity[col, -1])
    is_open_end = np.zeros(len(fb), dtype=bool)
    if len(fb):
        is_open_end[-1] = True
    keep = fp != 0
    fb, fp, fv, fnot = fb[keep], fp[keep], fv[keep], fnot[keep]
    exit_bar, exit_val, is_open_end = exit_bar[keep], exit_val[keep], is_open_end[keep]
    entry_px = bars.open[fb] * (1.0 + spread * fp)  # fp: +1 long, -1 short
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
    peak = np.maximum.accumulate(eq, axis=1)
    np.divide(eq, peak, out=peak)
    # drawdown against max(cash, running peak) = min(eq / peak, eq / cash)
    mdd = np.minimum(peak.min(axis=1), eq.min(axis=1) / cash) - 1.0
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
    exposure = np.count_nonzero(sim.held, axis=1) / n
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
        exit_val = np.where(nxt_same, np.append(fv[1:], 0.0), sim.equity[fc, -1])
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
