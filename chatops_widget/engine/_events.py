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

The loop runs per combination over its trades; inside a trade the stop search is vectorized
over the bars it is held (one ``argmax`` per trade), so the cost is O(bars + trades) per
combination with a small constant per trade.

Example:
    >>> from chatops_widget.engine import backtest, catalog
    >>> r = backtest(catalog.get("ALPHA"), "sma_cross", stop_loss=0.05, take_profit=0.1)
    >>> sorted(set(r.trades.exit_reason)) <= ["end", "signal", "stop_loss", "take_profit"]
    True
"""

from __future__ import annotations

import math

import numpy as np

from . import _indicators as ind
from ._orders import Orders
from ._sim import END, SIGNAL, STOP_LOSS, TAKE_PROFIT, TRAILING_STOP, Bars, Sim, Trades
from ._types import BoolArray, FloatArray, Int8Array

__all__ = ["simulate_orders"]

_FIELDS = ("col", "entry_bar", "exit_bar", "direction", "entry_price", "exit_price",
           "units", "notional", "pnl", "commission", "reason")  # fmt: skip


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
    equity = np.empty((k, n))
    held = np.zeros((k, n), dtype=np.int8)
    rows: list[list[float]] = []
    for j in range(k):
        ent = None if entries is None else entries[j]
        _one(bars, pos[j], ent, cash, commission, spread, orders, dist, j, equity[j], held[j], rows)
    table = np.array(rows, dtype=np.float64).reshape(-1, len(_FIELDS))
    cols = dict(zip(_FIELDS, table.T, strict=True))
    trades = Trades(
        cols["col"].astype(np.int64),
        cols["entry_bar"].astype(np.int64),
        cols["exit_bar"].astype(np.int64),
        cols["direction"].astype(np.int8),
        cols["entry_price"],
        cols["exit_price"],
        cols["units"],
        cols["notional"],
        cols["pnl"],
        cols["commission"],
        cols["reason"].astype(np.int8),
    )
    return Sim(equity, held, trades)


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


def _one(
    bars: Bars,
    pos: Int8Array,
    entries: BoolArray | None,
    cash: float,
    c: float,
    s: float,
    orders: Orders,
    dist: FloatArray | None,
    col: int,
    eq: FloatArray,
    held: Int8Array,
    rows: list[list[float]],
) -> None:
    """Trades, equity and held direction of one combination (written into ``eq``/``held``)."""
    n = len(pos)
    o, hi, lo, cl = bars.open, bars.high, bars.low, bars.close
    h = np.zeros(n, dtype=np.int8)
    h[1:] = pos[:-1]
    change = np.flatnonzero(h[1:] != h[:-1]) + 1  # the held target changes at these opens
    can_enter = np.zeros(n, dtype=bool)
    can_enter[change] = True
    if entries is not None:
        can_enter[1:] |= entries[:-1]
    can_enter &= h != 0
    starts = np.flatnonzero(can_enter)
    covered = np.zeros(n, dtype=bool)
    flat = np.full(n, np.nan)
    flat[0] = cash
    money = cash  # equity while flat
    i = int(np.searchsorted(starts, 1))
    while i < len(starts):
        e = int(starts[i])
        d = int(h[e])
        price = o[e] * (1.0 + s * d)
        units = _units(orders, money, price, c)
        if units <= 0:  # rounds to no whole unit: skipped
            i += 1
            continue
        nxt = int(np.searchsorted(change, e, side="right"))
        x = int(change[nxt]) if nxt < len(change) else n  # the target changes at open x
        exit_bar, exit_px, reason = _exit(orders, dist, d, e, x, price, o, hi, lo, cl, n)
        u = d * units
        fee_in = c * units * price
        fee_out = c * units * exit_px
        base = money - fee_in - u * price
        at = x if reason == SIGNAL else exit_bar  # the bar whose close sees the position gone
        span = slice(e, at)
        eq[span] = base + u * cl[span]
        covered[span] = True
        held[e : (x if reason == SIGNAL else exit_bar + 1)] = d
        pnl = u * (exit_px - price) - fee_in - fee_out
        money = money + pnl
        flat[at] = money
        rows.append([col, e, at, d, price, exit_px, u, units * price, pnl, fee_in + fee_out,
                     reason])  # fmt: skip
        if reason == END:
            break
        # the next entry: at the same open after a signal exit, from the next bar after a stop
        i = int(np.searchsorted(starts, at if reason == SIGNAL else at + 1))
    idx = np.where(np.isnan(flat), 0, np.arange(n))
    np.maximum.accumulate(idx, out=idx)
    filled = flat[idx]
    eq[~covered] = filled[~covered]


def _units(orders: Orders, equity: float, price: float, c: float) -> float:
    if orders.units is not None:
        return orders.units
    units = orders.weight * equity / (price * (1.0 + c))
    if orders.risk is not None and orders.stop_loss is not None:
        units = min(units, orders.risk * equity / (price * orders.stop_loss))
    if orders.whole_units:
        units = float(math.floor(units))
    return max(units, 0.0)


def _exit(
    orders: Orders,
    dist: FloatArray | None,
    d: int,
    e: int,
    x: int,
    price: float,
    o: FloatArray,
    hi: FloatArray,
    lo: FloatArray,
    cl: FloatArray,
    n: int,
) -> tuple[int, float, int]:
    """``(exit bar, exit price, reason)`` of a trade entered at bar ``e``'s open at ``price``
    in direction ``d`` whose target changes at bar ``x``'s open (``n``: never)."""
    if not orders.has_stops:
        return (x, o[x], SIGNAL) if x < n else (n - 1, cl[-1], END)
    seg = slice(e, x)
    inf = math.inf
    sl = -inf if orders.stop_loss is None else price * (1.0 - d * orders.stop_loss)
    tp = inf if orders.take_profit is None else price * (1.0 + d * orders.take_profit)
    if d < 0:
        sl = inf if orders.stop_loss is None else sl
        tp = -inf if orders.take_profit is None else tp
    trail = None
    if dist is not None:
        anchor = dist[e - 1] if orders.trailing_atr is not None else price * orders.trailing_stop
        level = cl[seg] - d * dist[seg]  # set at each close, in force from the next bar
        trail = np.empty(x - e)
        trail[0] = price - d * anchor
        trail[1:] = level[:-1]
        # NaN (an ATR still warming up) never moves the level
        trail = np.fmax.accumulate(trail) if d > 0 else np.fmin.accumulate(trail)
    if d > 0:
        stop = sl if trail is None else np.fmax(trail, sl)
        hit_stop = lo[seg] <= stop
        hit_tp = hi[seg] >= tp
    else:
        stop = sl if trail is None else np.fmin(trail, sl)
        hit_stop = hi[seg] >= stop
        hit_tp = lo[seg] <= tp
    hit = hit_stop | hit_tp
    if not hit.any():
        return (x, o[x], SIGNAL) if x < n else (n - 1, cl[-1], END)
    m = int(hit.argmax())
    t = e + m
    level = float(stop if np.ndim(stop) == 0 else stop[m])  # type: ignore[index]
    gap_tp = (o[t] >= tp) if d > 0 else (o[t] <= tp)
    if hit_tp[m] and (gap_tp or not hit_stop[m]):
        return t, (max(o[t], tp) if d > 0 else min(o[t], tp)), TAKE_PROFIT
    fill = min(o[t], level) if d > 0 else max(o[t], level)
    binding_sl = trail is None or not (trail[m] > sl if d > 0 else trail[m] < sl)  # NaN: sl
    return t, fill, STOP_LOSS if binding_sl else TRAILING_STOP
