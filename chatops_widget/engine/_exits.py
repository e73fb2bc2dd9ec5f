"""Where stops and targets end trades: vectorized over many trades at once, or one by one.

Both functions apply the fill rules of :mod:`._events` to trades entered at bar ``e``'s open
at ``price`` in direction ``d`` (+1/-1) whose target position changes at bar ``x``'s open
(``n``: never). Levels are handled in *d-space* (multiplied by ``d``) so that one formula
serves longs and shorts: a stop is hit when ``d * adverse <= d * stop``, a target when
``d * favourable >= d * target``. Multiplying by +-1 is exact, so both give the same numbers.

:func:`exits` takes arrays of trades and puts trades of similar length in one
``(trades, width)`` matrix per power-of-two width (so it scans at most twice the bars held);
:func:`exit_one` scans one trade in growing windows (so a trade costs O(its length) however far
away the target change is). Re-entries after a stop, which depend on the previous exit, use
the latter.

Example:
    >>> import numpy as np
    >>> from chatops_widget.engine import Orders, catalog
    >>> from chatops_widget.engine._sim import Bars
    >>> bars = Bars.from_frame(catalog.get("ALPHA"))
    >>> o = Orders.from_kwargs(stop_loss=0.05)
    >>> e, x, d = np.array([10]), np.array([2000]), np.array([1])
    >>> bar, price, why = exits(bars, e, x, d, bars.open[e], o, None)
    >>> (int(bar[0]), int(why[0])) == exit_one(bars, 10, 2000, 1, bars.open[10], o, None)[::2]
    True
"""

from __future__ import annotations

import math

import numpy as np

from ._orders import Orders
from ._sim import END, SIGNAL, STOP_LOSS, TAKE_PROFIT, TRAILING_STOP, Bars
from ._types import FloatArray, Int8Array, IntArray

__all__ = ["exit_one", "exits"]

_W0 = 64  # first window of exit_one


def _levels(orders: Orders, d: FloatArray, price: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Fixed stop and target in d-space (``-inf``/``inf`` when unset)."""
    if orders.stop_loss is None:
        sl = np.full(np.shape(price), -math.inf)
    else:
        sl = d * (price * (1.0 - d * orders.stop_loss))
    if orders.take_profit is None:
        tp = np.full(np.shape(price), math.inf)
    else:
        tp = d * (price * (1.0 + d * orders.take_profit))
    return sl, tp


def _anchor(
    orders: Orders, dist: FloatArray, e: IntArray, d: FloatArray, price: FloatArray
) -> FloatArray:
    """The trailing level at entry, in d-space (``-inf`` while the ATR is undefined)."""
    if orders.trailing_atr is not None:
        away = dist[e - 1]
    else:
        assert orders.trailing_stop is not None
        away = price * orders.trailing_stop
    out = d * (price - d * away)
    return np.where(np.isnan(out), -math.inf, out)


def exits(
    bars: Bars,
    e: IntArray,
    x: IntArray,
    d: IntArray | Int8Array,
    price: FloatArray,
    orders: Orders,
    dist: FloatArray | None,
) -> tuple[IntArray, FloatArray, Int8Array]:
    """``(exit bar, exit price, reason)`` of many trades (arrays of equal length)."""
    n = bars.n
    m = len(e)
    bar = np.where(x < n, x, n - 1).astype(np.int64)
    px = np.where(x < n, bars.open[np.minimum(x, n - 1)], bars.close[-1])
    why = np.where(x < n, SIGNAL, END).astype(np.int8)
    if not orders.has_stops or m == 0:
        return bar, px, why
    length = x - e
    width = np.left_shift(1, np.ceil(np.log2(np.maximum(length, 1))).astype(np.int64))
    for w in np.unique(width):
        rows = np.flatnonzero(width == w)
        hit_bar, hit_px, hit_why = _scan(bars, e[rows], x[rows], d[rows], price[rows], orders,
                                         dist, int(w))  # fmt: skip
        found = hit_bar >= 0
        sel = rows[found]
        bar[sel], px[sel], why[sel] = hit_bar[found], hit_px[found], hit_why[found]
    return bar, px, why


def _scan(
    bars: Bars,
    e: IntArray,
    x: IntArray,
    d_: IntArray | Int8Array,
    price: FloatArray,
    orders: Orders,
    dist: FloatArray | None,
    w: int,
    best: FloatArray | None = None,
    start: IntArray | None = None,
) -> tuple[IntArray, FloatArray, Int8Array]:
    """First stop/target hit in bars ``[start, min(x, start + w))`` of each row (``-1``: none).

    ``best`` is the trailing level in force at ``start`` (d-space); ``start`` defaults to ``e``.
    """
    n = bars.n
    start = e if start is None else start
    d = d_.astype(np.float64)[:, None]
    t = start[:, None] + np.arange(w)[None, :]
    valid = t < x[:, None]
    tc = np.minimum(t, n - 1)
    sl, tp = _levels(orders, d[:, 0], price)
    sl, tp = sl[:, None], tp[:, None]
    stop = np.broadcast_to(sl, t.shape)
    trail = None
    if dist is not None:
        level = d * (bars.close[tc] - d * dist[tc])  # set at each close, in force next bar
        level = np.where(np.isnan(level), -math.inf, level)
        trail = np.empty(t.shape)
        trail[:, 0] = _anchor(orders, dist, e, d[:, 0], price) if best is None else best
        trail[:, 1:] = level[:, :-1]
        np.maximum.accumulate(trail, axis=1, out=trail)
        stop = np.maximum(trail, sl)
    adverse = np.where(d > 0, bars.low[tc], bars.high[tc]) * d
    favourable = np.where(d > 0, bars.high[tc], bars.low[tc]) * d
    hit_stop = (adverse <= stop) & valid
    hit_tp = (favourable >= tp) & valid
    hit = hit_stop | hit_tp
    first = hit.argmax(axis=1)
    rows = np.arange(len(e))
    found = hit[rows, first]
    bar = np.where(found, tc[rows, first], -1).astype(np.int64)
    op = d[:, 0] * bars.open[tc[rows, first]]
    s_here = stop[rows, first]
    take_tp = hit_tp[rows, first] & ((op >= tp[:, 0]) | ~hit_stop[rows, first])
    px = np.where(take_tp, np.maximum(op, tp[:, 0]), np.minimum(op, s_here)) * d[:, 0]
    why = np.full(len(e), STOP_LOSS, dtype=np.int8)
    if trail is not None:
        why[trail[rows, first] > sl[:, 0]] = TRAILING_STOP
    why[take_tp] = TAKE_PROFIT
    if best is not None and trail is not None:  # for exit_one: the level after the window
        last = np.minimum(x - start, w) - 1
        after = np.maximum(trail[rows, last], level[rows, last])
        best[:] = after
    return bar, px, why


def exit_one(
    bars: Bars,
    e: int,
    x: int,
    d: int,
    price: float,
    orders: Orders,
    dist: FloatArray | None,
) -> tuple[int, float, int]:
    """``(exit bar, exit price, reason)`` of one trade, scanned in growing windows."""
    n = bars.n
    ea, xa, da = np.array([e]), np.array([x]), np.array([d])
    pa = np.array([price], dtype=np.float64)
    if orders.has_stops:
        best = None
        if dist is not None:
            best = _anchor(orders, dist, ea, da.astype(np.float64), pa)
        start, w = e, _W0
        while start < x:
            bar, px, why = _scan(bars, ea, xa, da, pa, orders, dist, w, best, np.array([start]))
            if bar[0] >= 0:
                return int(bar[0]), float(px[0]), int(why[0])
            start += w
            w *= 2
    if x < n:
        return x, float(bars.open[x]), SIGNAL
    return n - 1, float(bars.close[-1]), END
