"""Drawdown periods of an equity matrix, and the all-in long path's "below the peak" mask
without a running maximum over bars.

A drawdown period is a run of bars whose equity is below its running peak. In general the
peak is ``np.maximum.accumulate`` over each row; numpy computes that one element at a time
and, with fewer than ~500 rows, holding the GIL, so on a sweep's chunks it is the largest cost
and keeps threads from running at once. For all-in long trades the equity while held is
``units * close``, so a bar is below its peak exactly when it is below the peak before its run
(a per-trade value) or below the equity at the previous bar with a higher close
(:func:`prev_greater`, once per series): elementwise comparisons only (:func:`long_below`).

Example:
    >>> import numpy as np
    >>> prev_greater(np.array([3.0, 1.0, 2.0, 5.0, 4.0]))
    array([-1,  0,  0, -1,  3])
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from ._types import BoolArray, FloatArray, IntArray, new_group

__all__ = ["TABLE_BARS", "drawdown_periods", "long_below", "prev_greater", "range_max"]

#: Series up to this many bars get the per-trade peaks (a sparse table of log2(bars) levels
#: of range maxima, cached with the bars); longer ones the running maximum over bars.
TABLE_BARS = 1 << 17


def sparse_table(x: FloatArray, op: np.ufunc) -> FloatArray:
    """``levels[j, t] = op(x[t - 2**j + 1 : t + 1])`` (a shorter window near the start), for an
    idempotent ``op`` such as ``np.maximum`` or ``np.minimum``."""
    n = len(x)
    levels = np.empty((max(n, 1).bit_length(), n))
    levels[0] = x
    for j in range(1, len(levels)):
        h = 1 << (j - 1)
        levels[j, :h] = levels[j - 1, :h]
        op(levels[j - 1, h:], levels[j - 1, :-h], out=levels[j, h:])
    return levels


def range_query(levels: FloatArray, lo: IntArray, hi: IntArray, op: np.ufunc, empty: float) -> Any:
    """``op`` over ``x[lo : hi]`` for each pair (``empty`` where ``lo >= hi``), in O(1) each
    from ``levels = sparse_table(x, op)``."""
    n = levels.shape[1]
    size = np.maximum(hi - lo, 1)
    j = np.frexp(size)[1].astype(np.int64) - 1  # floor(log2(size)), exactly
    a = levels[j, np.maximum(hi - 1, 0)]
    b = levels[j, np.minimum(lo + (1 << j) - 1, n - 1)]
    return np.where(hi > lo, op(a, b), empty)


def _levels(x: FloatArray, cache: dict[Any, Any] | None = None) -> FloatArray:
    """The range maxima of ``x`` (:func:`sparse_table`), cached with the bars."""
    hit = None if cache is None else cache.get("_max_levels")
    if hit is None:
        hit = sparse_table(x, np.maximum)
        if cache is not None:
            cache["_max_levels"] = hit
    return hit


def prev_greater(x: FloatArray, cache: dict[Any, Any] | None = None) -> IntArray:
    """For each ``t`` the last ``s < t`` with ``x[s] > x[t]``, or -1 (binary lifting over the
    range-maximum levels: O(n log n), no Python loop over bars)."""
    hit = None if cache is None else cache.get("_prev_greater")
    if hit is not None:
        return hit  # type: ignore[no-any-return]
    levels = _levels(x, cache)
    p = np.arange(len(x)) - 1  # x[p + 1 .. t - 1] are known to be <= x[t]
    for j in range(len(levels) - 1, -1, -1):
        w = 1 << j
        skip = (p - w + 1 >= 0) & (levels[j][np.maximum(p, 0)] <= x)  # x[p - w + 1 .. p] <= x[t]
        p[skip] -= w
    if cache is not None:
        cache["_prev_greater"] = p
    return p


def range_max(
    x: FloatArray, lo: IntArray, hi: IntArray, cache: dict[Any, Any] | None = None
) -> FloatArray:
    """``max(x[lo : hi])`` for each pair (``-inf`` where ``lo >= hi``), in O(1) each."""
    return range_query(_levels(x, cache), lo, hi, np.maximum, -np.inf)  # type: ignore[no-any-return]


def long_below(
    eq: FloatArray, threshold: FloatArray, entered: npt.NDArray[np.int32], pge: IntArray
) -> BoolArray:
    """``eq < running peak`` for all-in long equity (see the module docstring): ``threshold``
    is the (k, n) peak before each bar's run, ``entered`` the entry bar of the trade held on
    each bar (``n`` when flat), ``pge`` :func:`prev_greater` of the close: a held bar is also
    below when a higher close came after its entry."""
    below = eq < threshold
    below |= entered <= pge.astype(np.int32)
    return below


def drawdown_periods(
    days: FloatArray, eq: FloatArray, below: BoolArray | None = None
) -> dict[str, FloatArray]:
    """Mean depth and max/mean duration (days) of the runs of bars below the running peak,
    and ``_ratio_min``, the least ``equity / running peak`` (1 without a drawdown).

    A period starts at the peak bar before the first bar below it and ends at the first bar
    back at a new peak (or at the last bar). The peak is constant during a period and equals
    the equity of the bar before it, so its depth is ``min(equity) / that equity - 1``.
    ``below`` (``equity < running peak``) is computed from ``eq`` if not given.
    """
    k, n = eq.shape
    if below is None:
        below = eq < np.maximum.accumulate(eq, axis=1)
    ends_open = below[:, -1].copy()
    flip = np.flatnonzero(below[:, 1:] != below[:, :-1])  # bar 0 is never below its peak
    row, bar = np.divmod(flip, n - 1)
    bar += 1
    start = below[row, bar]
    sc, sb = row[start], bar[start]  # first bar below the peak
    eb = bar[~start]  # first bar back at the peak ...
    if ends_open.any():  # ... or past the last bar
        at = np.cumsum(np.bincount(row[~start], minlength=k))[ends_open]
        eb = np.insert(eb, at, n)
    avg_dd, max_dur, avg_dur = np.zeros(k), np.zeros(k), np.zeros(k)
    ratio_min = np.ones(k)
    if len(sc):
        flat = eq.ravel()
        bounds = np.empty(2 * len(sc), dtype=np.int64)
        bounds[0::2] = sc * n + sb
        bounds[1::2] = sc * n + eb
        if bounds[-1] == eq.size:  # reduceat needs in-range indices: the last runs to the end
            bounds = bounds[:-1]
        ratio = np.minimum.reduceat(flat, bounds)[0::2] / flat[sc * n + sb - 1]
        depth = ratio - 1.0
        dur = days[np.minimum(eb, n - 1)] - days[sb - 1]
        count = np.bincount(sc, minlength=k)
        has = count > 0
        avg_dd[has] = (np.bincount(sc, weights=depth, minlength=k) / np.maximum(count, 1))[has]
        avg_dur[has] = (np.bincount(sc, weights=dur, minlength=k) / np.maximum(count, 1))[has]
        np.maximum.at(max_dur, sc, dur)
        firsts = np.flatnonzero(new_group(sc))
        ratio_min[sc[firsts]] = np.minimum(1.0, np.minimum.reduceat(ratio, firsts))
    return {
        "avg_drawdown": avg_dd,
        "max_drawdown_duration": max_dur,
        "avg_drawdown_duration": avg_dur,
        "_ratio_min": ratio_min,
    }
