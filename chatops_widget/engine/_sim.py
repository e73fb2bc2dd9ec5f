"""The execution model, vectorized over bars and over parameter combinations (columns).

Model (the same for :func:`backtest` and :func:`sweep`):

- ``pos[t]`` (+1/0/-1) is decided on bar ``t``'s close and filled at bar ``t + 1``'s open, so
  the position *held* during bar ``t`` is ``held[t] = pos[t - 1]`` (``held[0] = 0``).
- Fractional units: on every change of ``held`` the old position is closed and the new one
  opened at that bar's open. A new position gets notional ``N = w E / (1 + c)`` where ``E`` is
  the equity after closing the old one and ``w`` the sized fraction (``size``, default 1), so
  that notional plus its commission is ``w E`` (backtesting.py sizes ``buy(size=w)`` the same,
  in whole units). With ``w = 1`` (all-in) that is the whole equity.
- ``commission`` ``c`` is a fraction of traded notional paid on every fill: ``c * N`` on entry
  and ``c * |units| * exit_price`` on exit (for a short that is not ``c`` times its equity).
- Units are held between fills (a short does not re-balance daily): within a segment entered
  at price ``P`` with post-fee equity ``a`` and direction ``d``,
  ``equity[t] = a * (1 + d * q * (close[t] / P - 1))`` with ``q = N / a`` (1 when all-in).
- A position still open after the last bar is closed at the last close (its commission is
  charged in the last equity value), so ``sum(trades.pnl) == equity[-1] - cash``.
- ``spread`` ``s`` (the bid-ask spread, a fraction of price) is paid once per trade, on entry,
  as backtesting.py does: a long enters at ``open * (1 + s)``, a short at ``open * (1 - s)``;
  exits fill at the unadjusted price. Commission is charged on the adjusted entry notional.

Everything is numpy over ``(n_combos, n_bars)`` matrices (each combination's bars contiguous);
sparse work happens only at fills. All-in long/flat-only chunks take a faster path computed
per trade (:mod:`._simulate`, which also holds the dispatcher ``simulate``). Stops and whole-unit
sizing are path dependent and run in :mod:`._events` instead; both produce the same
:class:`Sim` (an equity matrix plus a flat :class:`Trades` table of all combinations).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .._lazy import lazy_module
from ._types import BoolArray, FloatArray, Int8Array, IntArray

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
else:
    np = lazy_module("numpy")
    pd = lazy_module("pandas")

#: ``Trades.reason`` codes and their names (``trades.exit_reason``).
REASONS: tuple[str, ...] = ("signal", "stop_loss", "take_profit", "trailing_stop", "end")
SIGNAL, STOP_LOSS, TAKE_PROFIT, TRAILING_STOP, END = range(5)


@dataclass
class Bars:
    """Validated OHLCV as float64 arrays plus an indicator cache shared across chunks."""

    index: pd.DatetimeIndex
    open: FloatArray
    high: FloatArray
    low: FloatArray
    close: FloatArray
    volume: FloatArray
    cache: dict[Any, Any] = field(default_factory=dict)

    @classmethod
    def from_frame(cls, df: pd.DataFrame) -> Bars:
        """Bars of a frame that passed :func:`validate_ohlcv`."""
        arr = {c: np.ascontiguousarray(df[c].to_numpy(dtype=np.float64)) for c in df.columns}
        index = pd.DatetimeIndex(df.index)
        return cls(index, arr["Open"], arr["High"], arr["Low"], arr["Close"], arr["Volume"])

    @property
    def n(self) -> int:
        """Number of bars."""
        return len(self.close)

    @property
    def years(self) -> float:
        """Calendar span of the index in years of 365.25 days."""
        y = self.cache.get("_years")
        if y is None:
            span = (self.index[-1] - self.index[0]).total_seconds()
            y = self.cache["_years"] = max(span / (365.25 * 86400), 0.0)
        return float(y)

    @property
    def periods_per_year(self) -> float:
        """Bars per year estimated from the index (about 252 for daily stock bars)."""
        y = self.years
        return (self.n - 1) / y if y > 0 else 252.0

    @property
    def days(self) -> FloatArray:
        """Each bar's timestamp in days since the first bar (for durations)."""
        d = self.cache.get("_days")
        if d is None:
            span = (self.index - self.index[0]) / pd.Timedelta(days=1)  # any datetime unit
            d = self.cache["_days"] = np.asarray(span, dtype=np.float64)
        return d

    @property
    def close_returns(self) -> FloatArray:
        """Close-to-close simple returns, 0 on the first bar (buy & hold per bar)."""
        rc = self.cache.get("_rc")
        if rc is None:
            cl = self.close
            rc = self.cache["_rc"] = np.concatenate(([0.0], cl[1:] / cl[:-1] - 1.0))
        return rc


@dataclass
class Trades:
    """Round trips of all combinations as flat arrays, sorted by (``col``, ``entry_bar``).

    ``units`` is signed (negative for shorts); ``notional`` is ``|units| * entry_price`` (the
    entry price includes the spread); ``pnl`` is net of both commissions; ``reason`` indexes
    :data:`REASONS`.
    """

    col: IntArray
    entry_bar: IntArray
    exit_bar: IntArray
    direction: Int8Array
    entry_price: FloatArray
    exit_price: FloatArray
    units: FloatArray
    notional: FloatArray
    pnl: FloatArray
    commission: FloatArray
    reason: Int8Array

    def __len__(self) -> int:
        return len(self.col)

    def select(self, mask: BoolArray | IntArray) -> Trades:
        """The trades where ``mask`` is true (or at these positions)."""
        return Trades(*(getattr(self, f)[mask] for f in self.__dataclass_fields__))

    @classmethod
    def concat(cls, parts: list[Trades]) -> Trades:
        """Trades of several parts, in order."""
        fields = cls.__dataclass_fields__
        return cls(*(np.concatenate([getattr(p, f) for p in parts]) for f in fields))


@dataclass
class Sim:
    """Simulation output for ``k`` combinations (rows) over ``n`` bars (columns)."""

    equity: FloatArray  # (k, n) equity at each close, last bar net of the closing commission
    held: Int8Array | FloatArray  # (k, n) held during each bar: +1/0/-1 (a fraction: _fractional)
    trades: Trades
    returns: FloatArray | None = None  # (k, n) per-bar simple returns when already known
    #: per-combination sums over bars when already known (see :func:`._simulate.simulate_long`)
    sums: dict[str, FloatArray] | None = None
    below: BoolArray | None = None  # (k, n) equity below its running peak, when already known


@dataclass
class Summary:
    """What a sweep's stats need of a simulation of ``k`` combinations, without its (k, n)
    matrices: the trades, the per-combination sums over bars (as :attr:`Sim.sums`), the
    drawdown periods (as :func:`._drawdown.drawdown_periods` gives them) and the last equity."""

    trades: Trades
    sums: dict[str, FloatArray]
    periods: dict[str, FloatArray]
    final: FloatArray


def simulate_long_bars(
    bars: Bars,
    held: Int8Array,
    fc: IntArray,
    ft: IntArray,
    old: FloatArray,
    new: FloatArray,
    cash: float,
    c: float,
    s: float = 0.0,
) -> Sim:
    """All-in long/flat only, per bar: returns are ``held * close-to-close`` except at fills,
    then one cumulative product (for a few combinations; many take :mod:`._simulate`)."""
    o, cl = bars.open, bars.close
    ret = held * bars.close_returns  # float64 (k, n)
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
    trades = _fills_to_trades(bars, equity, fc, ft, new.astype(np.int8), value, notional, c, s)
    return Sim(equity, held, trades, ret)


def simulate_general(
    bars: Bars,
    held: Int8Array,
    fc: IntArray,
    ft: IntArray,
    old: FloatArray,
    new: FloatArray,
    cash: float,
    c: float,
    s: float = 0.0,
    w: float = 1.0,
) -> Sim:
    """Any position in {-1, 0, 1} sized ``w``: units held per segment, re-based at fills."""
    k, n = held.shape
    o, cl = bars.open, bars.close
    fill = np.zeros((k, n), dtype=bool)
    fill[fc, ft] = True
    seg = np.where(fill, np.arange(n, dtype=np.int64)[None, :], 0)
    np.maximum.accumulate(seg, axis=1, out=seg)
    entry_px = o[seg]
    if s:  # a long segment entered at open * (1 + s), a short one at open * (1 - s)
        entry_px = entry_px * (1.0 + s * held)
    # q = notional / post-fee equity of a segment; both factors are exactly 1 and 1 + c all-in
    q = w / (1.0 + c * (1.0 - w))
    ratio = o[ft] / entry_px[fc, ft - 1]
    # mark-to-market of the old segment minus the exit fee on its exit notional |u| * open
    growth = 1.0 + old * q * (ratio - 1.0) - c * np.abs(old) * q * ratio
    fee_in = np.where(new != 0, (1.0 + c) / (1.0 + c * (1.0 - w)), 1.0)
    a = np.ones((k, n))
    a[fc, ft] = growth / fee_in
    np.cumprod(a, axis=1, out=a)
    a *= cash  # post-entry-fee equity of the current segment (= its notional when all-in)
    equity = cl[None, :] / entry_px
    equity -= 1.0
    equity *= held
    if q != 1.0:
        equity *= q
    equity += 1.0
    equity *= a
    last = held[:, -1] != 0
    if c and last.any():
        equity[last, -1] -= c * q * a[last, -1] * cl[-1] / entry_px[last, -1]
    notional = a[fc, ft] * q * np.abs(new)
    value = a[fc, ft] * fee_in
    trades = _fills_to_trades(bars, equity, fc, ft, new.astype(np.int8), value, notional, c, s)
    return Sim(equity, held, trades)


def _fills_to_trades(
    bars: Bars,
    equity: FloatArray,
    fc: IntArray,
    ft: IntArray,
    fp: Int8Array,
    fv: FloatArray,
    fnot: FloatArray,
    c: float,
    s: float,
) -> Trades:
    """Round trips from fills: a trade runs from a fill with a position to the next fill of
    its combination (or the end); ``fv`` is the equity just before each fill."""
    n = bars.n
    same = np.append(fc[1:] == fc[:-1], False) if len(fc) else np.zeros(0, dtype=bool)
    exit_val = np.where(same, np.append(fv[1:], 0.0), equity[fc, -1])
    exit_bar = np.where(same, np.append(ft[1:], 0), n - 1)
    keep = fp != 0
    col, fb, fp, fv, fnot = fc[keep], ft[keep], fp[keep], fv[keep], fnot[keep]
    exit_bar, exit_val, at_end = exit_bar[keep], exit_val[keep], ~same[keep]
    entry_px = bars.open[fb] * (1.0 + s * fp)  # fp: +1 long, -1 short
    exit_px = np.where(at_end, bars.close[-1], bars.open[exit_bar])
    units = fp * fnot / entry_px
    return Trades(
        col.astype(np.int64),
        fb.astype(np.int64),
        exit_bar.astype(np.int64),
        fp,
        entry_px,
        exit_px,
        units,
        fnot,
        exit_val - fv,
        c * (fnot + np.abs(units) * exit_px),
        np.where(at_end, END, SIGNAL).astype(np.int8),
    )


def trade_table(bars: Bars, sim: Sim, col: int) -> pd.DataFrame:
    """Round trips of combination ``col`` as the ``BacktestResult.trades`` DataFrame."""
    t = sim.trades.select(sim.trades.col == col)
    days = bars.days
    return pd.DataFrame(
        {
            "entry_time": bars.index[t.entry_bar],
            "exit_time": bars.index[t.exit_bar],
            "entry_bar": t.entry_bar,
            "exit_bar": t.exit_bar,
            "direction": np.where(t.direction > 0, "long", "short"),
            "entry_price": t.entry_price,
            "exit_price": t.exit_price,
            "size": t.units,
            "pnl": t.pnl,
            "return": t.pnl / t.notional,
            "commission": t.commission,
            "bars_held": t.exit_bar - t.entry_bar,
            "duration_days": days[t.exit_bar] - days[t.entry_bar],
            "exit_reason": np.asarray(REASONS, dtype=object)[t.reason],
            "closed_at_end": t.reason == END,
        }
    )
