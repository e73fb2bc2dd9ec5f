"""Fractional target positions (a function strategy's values in [-1, 1]), with every order
setting: costs, stops, targets, trailing stops and sizing.

The model is the engine's (:mod:`._sim`, :mod:`._events`) with one addition, re-sizing:

- The target ``w[t]`` is decided on bar t's close and in force from bar t + 1's open.
- A **trade** is a stretch of one sign: it is entered when the target's sign changes to long
  or short (or, after a stop, when the strategy signals an entry again: a sign change), and
  ends when the sign changes (at that open), at a stop or target (intrabar, by the fill rules
  of :mod:`._events`) or at the end (closed at the last close).
- Entering, a trade buys ``|w|`` times what a whole position would (``size``: ``size * E /
  (P (1 + c))`` units of equity ``E`` at entry price ``P``; ``risk``, ``units`` and
  ``whole_units`` likewise). When ``|w|`` changes inside a trade, the position is
  **re-sized** at that open to ``|w|`` times a whole position on the equity at that moment,
  and only the difference is traded: commission on the traded notional, the spread on the
  units added (a long buys at ``open * (1 + s)``, a short sells at ``open * (1 - s)``),
  reductions at the open.
- Stops and targets are levels from the trade's first fill (its entry price); a trailing stop
  trails the closes since that entry.
- In the trades table a trade's ``entry_price`` is the average price of the units it added,
  ``exit_price`` of the units it sold, ``size`` the units added (signed), ``pnl`` the change
  of equity from before its entry to after its exit (all fees in), ``return`` = pnl / the
  notional added. Without re-sizing these are exactly the engine's usual trades.
- ``equity.position`` is the target in force while a trade is open (0 when flat).

With whole targets (-1, 0, 1) this gives the engine's usual results (tested against it, with
and without stops); it is one loop over bars per combination, in plain Python floats.

Example:
    >>> import numpy as np
    >>> from chatops_widget.engine import Orders, catalog
    >>> from chatops_widget.engine._sim import Bars
    >>> bars = Bars.from_frame(catalog.get("ALPHA"))
    >>> w = np.where(np.arange(bars.n) % 200 < 100, 0.5, 1.0)[None, :]
    >>> sim = simulate_fractional(bars, w, None, 1e6, 0.001, 0.0, Orders())
    >>> len(sim.trades), float(sim.held[0, 1]), float(sim.held[0, 150])
    (1, 0.5, 1.0)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ._events import _trail_distance
from ._orders import Orders
from ._sim import END, SIGNAL, STOP_LOSS, TAKE_PROFIT, TRAILING_STOP, Bars, Sim, Trades
from ._types import BoolArray, FloatArray

__all__ = ["simulate_fractional"]

_INF = math.inf


def simulate_fractional(
    bars: Bars,
    pos: FloatArray,
    entries: BoolArray | None,
    cash: float,
    commission: float,
    spread: float,
    orders: Orders,
) -> Sim:
    """Run the model above for targets ``pos`` (k, n) in [-1, 1]; ``entries[j, t]`` marks
    closes that signal an entry without a change of sign (for re-entry after a stop)."""
    k, n = pos.shape
    dist = _trail_distance(bars, orders)
    prices = _Prices(bars, dist)
    equity = np.empty((k, n))
    held = np.zeros((k, n))
    rows: list[tuple[Any, ...]] = []
    for j in range(k):
        ent = None if entries is None else entries[j].tolist()
        eq, hd = _one(prices, pos[j].tolist(), ent, cash, commission, spread, orders, j, rows)
        equity[j], held[j] = eq, hd
    cols = list(zip(*rows, strict=True)) if rows else [()] * 11
    i = [np.array(cols[c], dtype=np.int64) for c in (0, 1, 2)]
    f = [np.array(cols[c], dtype=np.float64) for c in (4, 5, 6, 7, 8, 9)]
    trades = Trades(
        i[0],
        i[1],
        i[2],
        np.array(cols[3], dtype=np.int8),
        f[0],
        f[1],
        f[2],
        f[3],
        f[4],
        f[5],
        np.array(cols[10], dtype=np.int8),
    )
    return Sim(equity, held, trades)


class _Prices:
    """The bars as Python lists (scalar access in the loop is much faster than numpy's)."""

    def __init__(self, bars: Bars, dist: FloatArray | None) -> None:
        self.n = bars.n
        self.o, self.h = bars.open.tolist(), bars.high.tolist()
        self.lo, self.c = bars.low.tolist(), bars.close.tolist()
        self.dist = None if dist is None else dist.tolist()


def _full_units(orders: Orders, equity: float, price: float, c: float) -> float:
    """Units of a whole position (|target| 1) entered at ``price`` with ``equity``."""
    if orders.units is not None:
        return orders.units
    units = orders.weight * equity / (price * (1.0 + c))
    if orders.risk is not None and orders.stop_loss is not None:
        units = min(units, orders.risk * equity / (price * orders.stop_loss))
    return units


def _sized(orders: Orders, w: float, equity: float, price: float, c: float) -> float:
    units = abs(w) * _full_units(orders, equity, price, c)
    return float(math.floor(units)) if orders.whole_units else max(units, 0.0)


def _sign(x: float) -> int:
    return (x > 0) - (x < 0)


def _one(
    p: _Prices,
    pos: list[float],
    entries: list[bool] | None,
    cash: float,
    c: float,
    s: float,
    orders: Orders,
    col: int,
    rows: list[tuple[Any, ...]],
) -> tuple[list[float], list[float]]:
    n, o, hi, lo, cl, dist = p.n, p.o, p.h, p.lo, p.c, p.dist
    sl_f, tp_f, ts_f = orders.stop_loss, orders.take_profit, orders.trailing_stop
    atr = orders.trailing_atr is not None
    trailing = dist is not None
    equity = [0.0] * n
    held = [0.0] * n
    money = cash  # cash part of equity (all of it when flat)
    u = 0.0  # units held (signed)
    d = 0  # direction of the open trade (0: none)
    # the open trade: entry bar, first price, units and notional added / sold, fees, start equity
    e = 0
    added = added_not = sold = sold_not = fees = start = 0.0
    sl_d = tp_d = trail = -_INF

    def close_trade(bar: int, price: float, reason: int) -> None:
        nonlocal money, u, d, sold, sold_not, fees
        qty = abs(u)
        fee = c * qty * price
        money += u * price - fee
        sold, sold_not, fees = sold + qty, sold_not + qty * price, fees + fee
        rows.append(
            (
                col,
                e,
                bar,
                d,
                added_not / added,
                sold_not / sold if sold else price,
                d * added,
                added_not,
                money - start,
                fees,
                reason,
            )
        )
        u, d = 0.0, 0

    prev = 0.0
    for t in range(n):
        w = pos[t - 1] if t else 0.0  # the target in force during bar t
        sg = _sign(w)
        if d and sg != d:  # the sign changed: exit at this open
            close_trade(t, o[t], SIGNAL)
        if d == 0 and sg and t and (_sign(prev) != sg or (entries is not None and entries[t - 1])):
            price = o[t] * (1.0 + s * sg)
            units = _sized(orders, w, money, price, c)
            if units > 0:
                d, e, start = sg, t, money
                fee = c * units * price
                money -= sg * units * price + fee
                u = sg * units
                added, added_not, sold, sold_not, fees = units, units * price, 0.0, 0.0, fee
                sl_d = -_INF if sl_f is None else sg * price * (1.0 - sg * sl_f)
                tp_d = _INF if tp_f is None else sg * price * (1.0 + sg * tp_f)
                if trailing:
                    assert dist is not None
                    away = dist[t - 1] if atr else price * (ts_f or 0.0)
                    trail = sg * (price - sg * away)
                    if trail != trail:  # NaN: an ATR still warming up
                        trail = -_INF
        elif d and w != prev:  # same sign, another size: trade the difference
            fill_add = o[t] * (1.0 + s * d)
            now = money + u * o[t]
            want = _sized(orders, w, now, fill_add, c)
            delta = want - abs(u)
            if delta > 0:
                fee = c * delta * fill_add
                money -= d * delta * fill_add + fee
                added, added_not = added + delta, added_not + delta * fill_add
            elif delta < 0:
                fee = -c * delta * o[t]
                money += -d * delta * o[t] - fee
                sold, sold_not = sold - delta, sold_not - delta * o[t]
            else:
                fee = 0.0
            u += d * delta
            fees += fee
        if d:  # stops and targets, checked intrabar (the entry bar included)
            stop = sl_d if trail < sl_d else trail
            adverse = d * (lo[t] if d > 0 else hi[t])
            favourable = d * (hi[t] if d > 0 else lo[t])
            hit_stop, hit_tp = adverse <= stop, favourable >= tp_d
            if hit_stop or hit_tp:
                held[t] = w
                op = d * o[t]
                if hit_tp and (op >= tp_d or not hit_stop):
                    close_trade(t, d * max(op, tp_d), TAKE_PROFIT)
                else:
                    reason = TRAILING_STOP if trail > sl_d else STOP_LOSS
                    close_trade(t, d * min(op, stop), reason)
            else:
                held[t] = w
                if trailing:
                    assert dist is not None
                    level = d * (cl[t] - d * dist[t])  # set at this close, in force next bar
                    if level > trail:
                        trail = level
        equity[t] = money + u * cl[t]
        prev = w
    if d:  # still open after the last bar: closed at the last close
        close_trade(n - 1, cl[-1], END)
        equity[-1] = money
    return equity, held
