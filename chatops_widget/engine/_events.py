"""Path-dependent execution: stops, targets, trailing stops and whole-unit or fixed sizing.

Same model as :mod:`._sim` (signal on bar t's close, fill at bar t+1's open, commission on
every fill, spread on entry, a position still open at the end closed at the last close), plus:

- **Checked intrabar** on every bar a position is held, the entry bar included, against that
  bar's High (a long's target, a short's stop) and Low (a long's stop, a short's target).
- **Fills**: at the stop or target price; if the bar *opens* beyond it (a gap), at the open.
- **Both in one bar**: if the open is beyond one of them, that one (it was hit first, at the
  open); otherwise the stop -- the pessimistic assumption, since the path inside a bar is
  unknown. ``trades.exit_reason`` says which: ``stop_loss``, ``take_profit``,
  ``trailing_stop`` (when the trailing level is the tighter stop), ``signal`` or ``end``.
- **Trailing stops** move at closes only: the level in force during bar t is the best of the
  level at entry and ``close[i] - dist[i]`` for the bars ``entry <= i < t`` (longs; shorts
  mirror), with ``dist = f * close`` (``trailing_stop=f``) or ``k * ATR(n)`` (``trailing_atr``).
  At entry the level is ``P - f * P`` or ``P - k * ATR(n)[signal bar]`` (``P`` the entry price).
- **After a stop or target** the position stays flat until the strategy signals a new entry:
  a template's target position changing (for crossovers: the next crossover), or a rule's
  entry condition being true on a bar's close after the exit. A signal exit on the same bar's
  open comes first (stops apply to the bars a position is held after its entry fill).
- **Sizing** per entry from the equity ``E`` at that moment: ``size=w`` buys
  ``w * E / (P * (1 + c))`` units; ``risk=r`` buys ``r * E / (P * stop_loss)`` units (so that
  a fill at the stop loses ``r * E`` before costs), at most what ``size`` allows;
  ``units=u`` buys ``u`` (not checked against equity); ``whole_units`` rounds down, and an
  entry that rounds to 0 units is skipped.

Everything is vectorized across trades and combinations: the first trade of every stretch of
constant target position is known from the targets alone, and its exit is found for all of
them at once (:func:`._exits.exits`). Only a re-entry after a stop depends on that stop; those
(rule strategies whose entry is true again) are found trade by trade in growing windows
(:func:`._exits.exit_one`). Sizing with compounding is a cumulative product over each
combination's trades; only ``whole_units`` needs a loop over trades (scalar arithmetic).

Example:
    >>> from chatops_widget.engine import backtest, catalog
    >>> r = backtest(catalog.get("ALPHA"), "sma_cross", stop_loss=0.05, take_profit=0.1)
    >>> sorted(set(r.trades.exit_reason)) <= ["end", "signal", "stop_loss", "take_profit"]
    True
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from . import _indicators as ind
from ._exits import exit_one, exits
from ._orders import Orders
from ._sim import END, SIGNAL, Bars, Sim, Trades
from ._types import BoolArray, FloatArray, Int8Array, IntArray, nonzero_2d

__all__ = ["simulate_orders"]


def _trail_distance(bars: Bars, orders: Orders) -> FloatArray | None:
    """Per-bar distance of the trailing stop from the close (``None`` without one)."""
    if orders.trailing_stop is not None:
        return bars.close * orders.trailing_stop
    if orders.trailing_atr is not None:
        n, k = orders.trailing_atr
        key = ("atr", n)
        if key not in bars.cache:
            bars.cache[key] = ind.atr(bars.high, bars.low, bars.close, n)
        return bars.cache[key] * k  # type: ignore[no-any-return]
    return None


def _next_true(mask: BoolArray) -> IntArray:
    """``out[j, b]`` = the first bar ``>= b`` where ``mask[j]`` is true (``n`` if none);
    one extra column ``b = n``."""
    k, n = mask.shape
    idx = np.full((k, n + 1), n, dtype=np.int64)
    idx[:, :n] = np.where(mask, np.arange(n), n)
    return np.minimum.accumulate(idx[:, ::-1], axis=1)[:, ::-1]


@dataclass
class _Legs:
    """Trades before sizing: column, entry bar, the bar where the target changes (``x``),
    direction, entry price, exit bar, exit price, reason."""

    col: IntArray
    e: IntArray
    x: IntArray
    d: IntArray
    price: FloatArray
    bar: IntArray
    px: FloatArray
    why: Int8Array

    def take(self, sel: IntArray | BoolArray) -> _Legs:
        return _Legs(*(getattr(self, f)[sel] for f in self.__dataclass_fields__))

    @classmethod
    def concat(cls, parts: list[_Legs]) -> _Legs:
        fields = cls.__dataclass_fields__
        return cls(*(np.concatenate([getattr(p, f) for p in parts]) for f in fields))


def simulate_orders(
    bars: Bars,
    pos: Int8Array,
    entries: BoolArray | None,
    cash: float,
    commission: float,
    spread: float,
    orders: Orders,
) -> Sim:
    """Run the path-dependent model for target positions ``pos`` (k, n).

    ``entries[j, t]`` (optional) marks bars on whose close combination ``j`` signals an entry
    in the direction of ``pos[j, t]`` even without a change of the target (a rule's entry
    condition); without it only changes of the target are entries.
    """
    k, n = pos.shape
    dist = _trail_distance(bars, orders)
    h = np.zeros((k, n), dtype=np.int8)
    h[:, 1:] = pos[:, :-1]
    change = np.zeros((k, n), dtype=bool)
    change[:, 1:] = h[:, 1:] != h[:, :-1]
    nxt = _next_true(change)  # nxt[j, b + 1]: where the target changes after bar b
    col, e = nonzero_2d(change & (h != 0))  # each stretch's first entry
    x = nxt[col, e + 1]
    d = h[col, e].astype(np.int64)
    price = bars.open[e] * (1.0 + spread * d)
    legs = _Legs(col, e, x, d, price, *exits(bars, e, x, d, price, orders, dist))
    if entries is not None and orders.has_stops:
        legs = _Legs.concat([legs, _reentries(bars, h, entries, legs, spread, orders, dist)])
    legs = legs.take(np.lexsort((legs.e, legs.col)))
    units, equity_in = _size(orders, legs.col, legs.d, legs.price, legs.px, cash, commission)
    keep = units > 0  # whole units: an entry that rounds to 0 units is skipped
    if not keep.all():
        legs, units, equity_in = legs.take(keep), units[keep], equity_in[keep]
    u = legs.d * units
    fee_in = commission * units * legs.price
    fee_out = commission * units * legs.px
    pnl = u * (legs.px - legs.price) - fee_in - fee_out
    trades = Trades(legs.col, legs.e, legs.bar, legs.d.astype(np.int8), legs.price, legs.px,
                    u, units * legs.price, pnl, fee_in + fee_out, legs.why)  # fmt: skip
    equity, held = _paths(bars, k, cash, trades, legs.x, equity_in, fee_in)
    return Sim(equity, held, trades)


def _reentries(
    bars: Bars,
    h: Int8Array,
    entries: BoolArray,
    first: _Legs,
    spread: float,
    orders: Orders,
    dist: FloatArray | None,
) -> _Legs:
    """Trades entered again, inside a stretch, after a stop or target (trade by trade)."""
    k, n = h.shape
    can = np.zeros((k, n), dtype=bool)
    can[:, 1:] = entries[:, :-1]
    can &= h != 0
    nxt_can = _next_true(can)
    out: list[tuple[int, int, int, int, float, int, float, int]] = []
    for j in np.flatnonzero((first.why != SIGNAL) & (first.why != END)):
        c, end, t = int(first.col[j]), int(first.x[j]), int(first.bar[j])
        while True:
            b = int(nxt_can[c, t + 1]) if t + 1 <= n else n
            if b >= end:
                break
            dd = int(h[c, b])
            p = float(bars.open[b] * (1.0 + spread * dd))
            t, xp, reason = exit_one(bars, b, end, dd, p, orders, dist)
            out.append((c, b, end, dd, p, t, xp, reason))
            if reason in (SIGNAL, END):
                break
    cols = list(zip(*out, strict=True)) if out else [()] * 8
    i64 = [np.array(cols[i], dtype=np.int64) for i in (0, 1, 2, 3, 5)]
    return _Legs(i64[0], i64[1], i64[2], i64[3], np.array(cols[4], dtype=np.float64), i64[4],
                 np.array(cols[6], dtype=np.float64), np.array(cols[7], dtype=np.int8))  # fmt: skip


def _size(
    orders: Orders,
    col: IntArray,
    d: IntArray,
    price: FloatArray,
    px: FloatArray,
    cash: float,
    c: float,
) -> tuple[FloatArray, FloatArray]:
    """Units of every trade and the equity just before its entry (trades sorted by column)."""
    m = len(col)
    if orders.units is not None and not orders.whole_units:
        units = np.full(m, orders.units)
        pnl = d * units * (px - price) - c * units * (price + px)
        return units, cash + _before(col, pnl, np.add)
    q = orders.weight / (1.0 + c)
    if orders.risk is not None and orders.stop_loss is not None:
        q = min(q, orders.risk / orders.stop_loss)
    if orders.whole_units:
        return _whole(orders, col, d, price, px, cash, c, q)
    growth = 1.0 + q * (d * (px / price - 1.0) - c * (1.0 + px / price))
    equity_in = cash * _before(col, growth, np.multiply)
    return q * equity_in / price, equity_in


def _before(col: IntArray, values: FloatArray, op: np.ufunc) -> FloatArray:
    """Per trade, ``op`` accumulated over the earlier trades of its column (identity first)."""
    m = len(col)
    if m == 0:
        return np.zeros(0)
    first = np.flatnonzero(np.r_[True, col[1:] != col[:-1]])
    rank = np.arange(m) - np.repeat(first, np.diff(np.r_[first, m]))
    width = int(rank.max()) + 1
    identity = 1.0 if op is np.multiply else 0.0
    grid = np.full((len(first), width), identity)
    group = np.repeat(np.arange(len(first)), np.diff(np.r_[first, m]))
    grid[group, rank] = values
    acc = op.accumulate(grid, axis=1)
    out = np.full(m, identity)
    later = rank > 0
    out[later] = acc[group[later], rank[later] - 1]
    return out


def _whole(
    orders: Orders,
    col: IntArray,
    d: IntArray,
    price: FloatArray,
    px: FloatArray,
    cash: float,
    c: float,
    q: float,
) -> tuple[FloatArray, FloatArray]:
    """Whole-unit sizing: each trade's units depend on the rounded ones before (a loop)."""
    m = len(col)
    units = np.zeros(m)
    equity_in = np.zeros(m)
    fixed = orders.units
    cols, ds, ps, xs = col.tolist(), d.tolist(), price.tolist(), px.tolist()
    money, last = cash, -1
    for i in range(m):
        if cols[i] != last:
            money, last = cash, cols[i]
        p = ps[i]
        n_units = fixed if fixed is not None else float(math.floor(q * money / p))
        equity_in[i] = money
        if n_units <= 0:
            continue
        units[i] = n_units
        money += ds[i] * n_units * (xs[i] - p) - c * n_units * (p + xs[i])
    return units, equity_in


def _paths(
    bars: Bars,
    k: int,
    cash: float,
    t: Trades,
    x: IntArray,
    equity_in: FloatArray,
    fee_in: FloatArray,
) -> tuple[FloatArray, Int8Array]:
    """Equity at every close and the direction held during every bar, from the trades.

    Markers at the bars where a position starts or is gone, forward filled: equity is
    ``level + units * close``; the entry marker wins over an exit at the same open, and a
    position closed at the end is gone only at the last close.
    """
    n = bars.n
    at_end = t.reason == END
    at_open = t.reason == SIGNAL
    gone = np.where(at_open, x, t.exit_bar)  # first close without the position
    level = np.zeros((k, n))  # cash part of equity from each marker on
    units = np.zeros((k, n))  # units held at each close from each marker on
    mark = np.zeros((k, n), dtype=bool)
    mark[:, 0] = True
    level[:, 0] = cash
    after = equity_in + t.pnl

    def put(sel: BoolArray, bar: IntArray, value: FloatArray, held_units: FloatArray) -> None:
        rows, cols = t.col[sel], bar[sel]
        level[rows, cols], units[rows, cols], mark[rows, cols] = value[sel], held_units[sel], True

    # order matters where two markers share a bar: a signal exit at an open and the next
    # trade's entry there (the entry wins); a stop on the entry bar, or an entry on the last
    # bar of a position closed at the end (the exit wins)
    flat = np.zeros(len(t))
    put(at_open, gone, after, flat)
    put(np.ones(len(t), dtype=bool), t.entry_bar, equity_in - fee_in - t.units * t.entry_price,
        t.units)  # fmt: skip
    put(~at_open & ~at_end, gone, after, flat)
    put(at_end, np.full(len(t), n - 1), after, flat)
    idx = np.where(mark, np.arange(n), 0)
    np.maximum.accumulate(idx, axis=1, out=idx)
    equity = np.take_along_axis(level, idx, axis=1)
    equity += np.take_along_axis(units, idx, axis=1) * bars.close
    held = np.zeros((k, n), dtype=np.int8)
    hmark = np.zeros((k, n), dtype=bool)
    hmark[:, 0] = True
    stop_end = np.where(at_open, x, t.exit_bar + 1)
    ok = ~at_end & (stop_end < n)
    held[t.col[ok], stop_end[ok]] = 0
    hmark[t.col[ok], stop_end[ok]] = True
    held[t.col, t.entry_bar] = t.direction
    hmark[t.col, t.entry_bar] = True
    hidx = np.where(hmark, np.arange(n), 0)
    np.maximum.accumulate(hidx, axis=1, out=hidx)
    return equity, np.take_along_axis(held, hidx, axis=1)
