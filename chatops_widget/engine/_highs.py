"""Drawdown periods of all-in long equity found from its trades, with no (k, n) matrix.

A bar is *at a high* when its equity is at least every earlier bar's; a drawdown period is a
run of bars between two highs (or after the last one), as :func:`._drawdown.drawdown_periods`
defines it on a matrix. For all-in long/flat equity (:mod:`._simulate`) a flat run is constant
and a held run is ``units * close``, so the highs of a held run are sparse and known from the
close alone once the trade has reached the peak it carried in:

- from the first bar ``r0`` where ``units * close`` reaches that peak, the highs are the chain
  ``r -> nxt[r]`` (the next bar with a close at least as high) up to the trade's highest close
  ``L``; the periods inside that chain depend on the close only and are tabulated once per
  series (sums along the chain as prefix sums over the ``nxt`` tree, maxima and minima as range
  queries: a bar between ``r0`` and ``L`` that is not on the chain lies inside a chain period,
  with a shorter and shallower period of its own);
- the periods that span a trade's boundaries (before ``r0``, after ``L``, across flat runs and
  trades that made no new high) come from a few values per trade.

Example:
    >>> import numpy as np
    >>> next_at_least(np.array([3.0, 1.0, 2.0, 5.0, 4.0]))
    array([3, 2, 3, 5, 5])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._drawdown import _levels, range_max, range_query, sparse_table
from ._types import BoolArray, FloatArray, IntArray, filled, new_group

__all__ = ["long_periods", "next_at_least"]


def _first_at_least(
    levels: FloatArray, lo: IntArray, v: FloatArray, scale: FloatArray | None = None
) -> IntArray:
    """The first ``s >= lo`` with ``scale * x[s] >= v`` (``n`` if none), ``levels`` being the
    range maxima of ``x`` (:func:`._drawdown._levels`): binary lifting, O(log n) each."""
    n = levels.shape[1]
    p = lo.astype(np.int64, copy=True)
    for j in range(len(levels) - 1, -1, -1):
        end = p + ((1 << j) - 1)  # the block x[p .. end]
        top = levels[j, np.minimum(end, n - 1)]
        if scale is not None:
            top = top * scale  # rounding is monotonic: max(u * x) == u * max(x)
        p[(end < n) & (top < v)] += 1 << j
    return p


def next_at_least(x: FloatArray, cache: dict[Any, Any] | None = None) -> IntArray:
    """For each ``t`` the first ``s > t`` with ``x[s] >= x[t]``, or ``len(x)``."""
    t = np.arange(len(x))
    return _first_at_least(_levels(x, cache), t + 1, x)


class _Tables:
    """What the periods inside the chains need, per series (cached on the bars)."""

    def __init__(self, close: FloatArray, days: FloatArray, cache: dict[Any, Any]) -> None:
        n = len(close)
        self.n, self.close, self.days = n, close, days
        self.max = _levels(close, cache)
        self.min = sparse_table(close, np.minimum)
        self.argmax = self._argmax(close)
        nxt = next_at_least(close, cache)
        t = np.arange(n)
        gap = (nxt > t + 1) & (nxt < n)  # a period between t and the next high of its chain
        at = np.minimum(nxt, n - 1)
        low = range_query(self.min, t + 1, at, np.minimum, np.inf)
        self.ratio = np.where(gap, low / close, 1.0)
        dur = np.where(gap, days[at] - days, 0.0)
        self.ratio_min = sparse_table(self.ratio, np.minimum)
        self.dur_max = sparse_table(dur, np.maximum)
        # sums over the chain from t to its end (count, depth, duration): pointer doubling
        up = np.append(nxt, n)
        total = np.zeros((n + 1, 3))
        total[:n, 0] = gap
        total[:n, 1] = self.ratio - 1.0
        total[:n, 2] = dur
        while (up < n).any():
            total += total[up]
            up = up[up]
        self.chain = total

    @staticmethod
    def _argmax(x: FloatArray) -> IntArray:
        """``levels[j, t]``: the last position of the largest ``x[t - 2**j + 1 : t + 1]``."""
        n = len(x)
        levels = np.empty((max(n, 1).bit_length(), n), dtype=np.int64)
        levels[0] = np.arange(n)
        for j in range(1, len(levels)):
            h = 1 << (j - 1)
            levels[j, :h] = levels[j - 1, :h]
            late, early = levels[j - 1, h:], levels[j - 1, :-h]
            levels[j, h:] = np.where(x[late] >= x[early], late, early)
        return levels

    def last_argmax(self, lo: IntArray, hi: IntArray) -> IntArray:
        """The last position of the largest close in ``close[lo : hi]`` (``lo < hi``)."""
        j = np.frexp(hi - lo)[1].astype(np.int64) - 1
        a = self.argmax[j, hi - 1]
        b = self.argmax[j, lo + (1 << j) - 1]
        out: IntArray = np.where(self.close[a] >= self.close[b], a, b)
        return out


def _tables(close: FloatArray, days: FloatArray, cache: dict[Any, Any]) -> _Tables:
    hit: _Tables | None = cache.get("_highs")
    if hit is None:
        hit = cache["_highs"] = _Tables(close, days, cache)
    return hit


def long_periods(
    close: FloatArray,
    days: FloatArray,
    cache: dict[Any, Any],
    k: int,
    col: IntArray,
    te: IntArray,
    tx: IntArray,
    closed: BoolArray,
    units: FloatArray,
    before: FloatArray,
    after: FloatArray,
    cash: float,
) -> dict[str, FloatArray]:
    """:func:`._drawdown.drawdown_periods` of all-in long trades (sorted by ``col``, then
    entry bar ``te``; ``tx`` the exit fill bar, ``n`` while open; ``before`` the equity just
    before each entry, ``after`` just after its exit, or on the last bar net of the closing
    commission while open): ``avg_drawdown``, ``max_drawdown_duration``,
    ``avg_drawdown_duration`` and ``_ratio_min``.

    A trade is three pieces: its flat run before the entry (equity ``before``), its held run
    (``units * close`` up to the exit, or to the bar before the last while open) and, while
    open at the end, the last bar (``after``); each row ends with a flat run (``after`` of its
    last trade, or ``cash``) unless a trade is still open."""
    tab = _tables(close, days, cache)
    n = tab.n
    nt = len(col)
    inf = np.inf
    counts = np.bincount(col, minlength=k)
    ends = np.cumsum(counts)
    nth = np.arange(nt) - (ends - counts)[col]
    first = new_group(col)
    start = np.zeros(nt, dtype=np.int64)  # the first bar of each trade's flat run
    later = np.flatnonzero(~first)
    start[later] = tx[later - 1]
    he = np.where(closed, tx, n - 1)  # the held bars of plain units * close: te .. he - 1
    plain = he > te
    top = np.where(plain, units * range_max(close, te, he, cache), -inf)
    is_open = ~closed
    has = counts > 0
    lastt = ends[has] - 1
    tail_on = np.ones(k, dtype=bool)  # rows that end flat, at equity ``tail`` from ``tail_at``
    tail_on[has] = closed[lastt]
    tail = filled(k, float(cash))
    tail[has] = after[lastt]
    tail_at = np.zeros(k, dtype=np.int64)
    tail_at[has] = tx[lastt]

    # the peak each piece meets: an exclusive running maximum over each row's pieces
    seq = filled((k, 3 * int(counts.max(initial=0)) + 1), -inf)
    seq[col, 3 * nth] = before
    seq[col, 3 * nth + 1] = top
    seq[col, 3 * nth + 2] = np.where(closed, -inf, after)
    rows = np.arange(k)
    seq[rows, 3 * counts] = np.where(tail_on, tail, -inf)
    np.maximum.accumulate(seq, axis=1, out=seq)
    peak_f = np.where(first, -inf, seq[col, np.maximum(3 * nth - 1, 0)])
    peak_h = np.maximum(peak_f, before)
    peak_o = np.maximum(peak_h, top)
    peak_t = np.where(has, seq[rows, np.maximum(3 * counts - 1, 0)], -inf)

    # where each piece is at a high: the flat run, the held run from r0 to its highest close
    # ``big``, the last bar; and the lowest equity of the bars that are not
    high_f = before >= peak_f
    high_h = plain & (top >= peak_h)
    r0 = te.copy()
    search = high_h & (units * close[te] < peak_h)
    if search.any():
        r0[search] = _first_at_least(tab.max, te[search], peak_h[search], units[search])
    big = np.where(high_h, tab.last_argmax(te, np.maximum(he, te + 1)), te)
    high_o = is_open & (after >= peak_o)
    low_f = np.where(high_f, inf, before)
    low_in = units * range_query(tab.min, te, np.where(high_h, r0, he), np.minimum, inf)
    low_out = np.where(high_h, units * range_query(tab.min, big + 1, he, np.minimum, inf), inf)
    low_o = np.where(is_open & ~high_o, after, inf)
    big_val = units * close[big]

    # each trade's first and last high, the lows before the first and after the last
    any_high = high_f | high_h | high_o
    first_at = np.where(high_f, start, np.where(high_h, r0, n - 1))
    last_at = np.where(high_o, n - 1, np.where(high_h, big, te - 1))
    last_val = np.where(high_o, after, np.where(high_h, big_val, before))
    pre = np.where(high_f, inf, np.minimum(low_f, low_in))
    post = np.where(high_o, inf, np.minimum(np.where(high_h, low_out, low_in), low_o))
    every = np.minimum(np.minimum(low_f, low_in), low_o)  # a trade without a high

    # the periods inside a trade: flat run -> r0, flat run -> last bar, big -> last bar
    p1 = high_f & high_h & (r0 > te)
    p2 = high_f & ~high_h & high_o & plain
    p3 = high_h & high_o & (big + 1 < he)
    in_row = [col[p1], col[p2], col[p3]]
    in_ratio = [low_in[p1] / before[p1], low_in[p2] / before[p2], low_out[p3] / big_val[p3]]
    in_dur = [
        days[r0[p1]] - days[te[p1] - 1],
        days[n - 1] - days[te[p2] - 1],
        days[n - 1] - days[big[p3]],
    ]

    # the periods between pieces: a row's trades, then its flat end, in order
    size = nt + k
    at_t = np.arange(nt) + col
    at_r = ends + rows
    high_t = tail_on & (tail >= peak_t)
    p_any = np.zeros(size, dtype=bool)
    p_any[at_t], p_any[at_r] = any_high, high_t
    p_first = np.empty(size, dtype=np.int64)
    p_first[at_t], p_first[at_r] = first_at, tail_at
    p_last = np.empty(size, dtype=np.int64)
    p_last[at_t], p_last[at_r] = last_at, n - 1
    p_val = np.empty(size)
    p_val[at_t], p_val[at_r] = last_val, tail
    p_row = np.empty(size, dtype=np.int64)
    p_row[at_t], p_row[at_r] = col, rows
    lows = filled(2 * size, inf)  # the lows before a piece's first high, and after its last
    lows[2 * at_t] = np.where(any_high, pre, every)
    lows[2 * at_t + 1] = np.where(any_high, post, inf)
    lows[2 * at_r] = np.where(tail_on & ~high_t, tail, inf)
    hp = np.flatnonzero(p_any)  # every row's first piece is at a high (bar 0)
    low = np.minimum.reduceat(lows, 2 * hp + 1)  # after one high piece, up to the next
    hrow = p_row[hp]
    same = np.zeros(len(hp), dtype=bool)
    np.equal(hrow[1:], hrow[:-1], out=same[:-1])
    nxt_at = np.where(same, np.roll(p_first[hp], -1), n)
    last = p_last[hp]
    cut = nxt_at > last + 1
    rows_all = np.concatenate([hrow[cut], *in_row])
    ratio = np.concatenate([low[cut] / p_val[hp][cut], *in_ratio])
    dur = np.concatenate([days[np.minimum(nxt_at[cut], n - 1)] - days[last[cut]], *in_dur])

    count = np.bincount(rows_all, minlength=k).astype(np.float64)
    depth = np.bincount(rows_all, weights=ratio - 1.0, minlength=k)
    dur_sum = np.bincount(rows_all, weights=dur, minlength=k)
    dur_max = np.zeros(k)
    np.maximum.at(dur_max, rows_all, dur)
    ratio_min = np.ones(k)
    np.minimum.at(ratio_min, rows_all, ratio)
    # the periods inside each trade's chain of highs, r0 .. big
    inner = np.flatnonzero(high_h & (big > r0))
    if len(inner):
        a, b, c = r0[inner], big[inner], col[inner]
        diff = tab.chain[a] - tab.chain[b]
        count += np.bincount(c, weights=np.rint(diff[:, 0]), minlength=k)
        depth += np.bincount(c, weights=diff[:, 1], minlength=k)
        dur_sum += np.bincount(c, weights=diff[:, 2], minlength=k)
        np.maximum.at(dur_max, c, range_query(tab.dur_max, a, b, np.maximum, 0.0))
        np.minimum.at(ratio_min, c, range_query(tab.ratio_min, a, b, np.minimum, 1.0))
    safe = np.maximum(count, 1.0)
    return {
        "avg_drawdown": np.where(count > 0, depth / safe, 0.0),
        "max_drawdown_duration": dur_max,
        "avg_drawdown_duration": np.where(count > 0, dur_sum / safe, 0.0),
        "_ratio_min": np.minimum(ratio_min, 1.0),
    }
