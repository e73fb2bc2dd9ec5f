"""Moving-average crossovers for ``sma_cross``/``ema_cross``: positions, and fills found on the
crossings alone (no positions matrix), from one average matrix shared by a sweep's chunks.

Crossover rule: with ``d = fast - slow``, a crossover is a change of the sign of ``d`` between
two bars where both averages exist (bars where ``d == 0`` exactly keep the previous sign:
touching is not crossing). No position before the first crossover; after it the position is
+1 while fast is above slow and 0 (or -1 with ``short``) while below.

Example:
    >>> import numpy as np
    >>> fast = np.array([1.0, 2.0, 3.0, 2.0, 1.0])
    >>> slow = np.array([[np.nan, 1.5, 2.5, 2.5, 2.5]])
    >>> cross_positions(fast, slow, [False], [1])
    array([[0, 0, 0, 0, 0]], dtype=int8)
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .._lazy import lazy_module
from . import _indicators as ind
from ._templates import Combo, SignalFn

if TYPE_CHECKING:  # the templates are built at import, without numpy (cold start)
    import numpy as np

    from ._sim import Bars
    from ._types import FloatArray, Int8Array
else:
    np = lazy_module("numpy")

__all__ = ["CACHE_BYTES", "cross_fills", "cross_positions", "ma_cross", "ma_fills", "ma_precompute"]

#: Indicator arrays a sweep keeps for reuse across its chunks (beyond it they are recomputed,
#: which is O(bars) each): the cache of 200 windows on 1M bars would otherwise take 1.6 GB.
CACHE_BYTES = 256 * 2**20


def _ffill_nonzero(s: np.ndarray) -> np.ndarray:
    """Replace zeros by the last non-zero value before them (along each row)."""
    idx = np.where(s != 0, np.arange(s.shape[1], dtype=np.int32)[None, :], np.int32(0))
    np.maximum.accumulate(idx, axis=1, out=idx)
    return np.take_along_axis(s, idx, axis=1)


def _keep(bars: Bars, key: Any, value: FloatArray) -> None:
    """Cache ``value`` under ``key`` if the indicator budget (:data:`CACHE_BYTES`) allows."""
    used = bars.cache.get("_bytes", 0)
    if used + value.nbytes <= CACHE_BYTES:
        bars.cache[key] = value
        bars.cache["_bytes"] = used + value.nbytes


def _cached(bars: Bars, key: Any, fn: Callable[[], FloatArray]) -> FloatArray:
    hit = bars.cache.get(key)
    if hit is None:
        hit = fn()
        _keep(bars, key, hit)
    return hit


def cross_positions(
    fast: np.ndarray, slow: np.ndarray, short: np.ndarray, start: np.ndarray | None = None
) -> np.ndarray:
    """Crossover positions, one row per combination.

    ``fast`` is (n,) or (k, n), ``slow`` (k, n), ``short`` a bool per row; ``start[j]`` is the
    first bar where both averages of row ``j`` exist (computed from NaNs if omitted).
    Returns int8 (k, n): +1/0/-1 decided at each bar's close.
    """
    slow = np.atleast_2d(slow)
    k, n = slow.shape
    if start is None:
        both = ~(np.isnan(slow) | np.isnan(np.broadcast_to(fast, slow.shape)))
        start = np.where(both.any(axis=1), both.argmax(axis=1), n)
    start = np.asarray(start, dtype=np.int64)
    with np.errstate(invalid="ignore"):
        gt = fast > slow
        lt = fast < slow
    valid = int(np.maximum(n - start, 0).sum())
    if np.count_nonzero(gt) + np.count_nonzero(lt) != valid:
        # exact ties after warm-up: a touch keeps the previous side
        state = gt.astype(np.int8) - lt.astype(np.int8)
        state = _ffill_nonzero(state)
        gt, lt = state > 0, state < 0
    change = gt[:, 1:] != gt[:, :-1]
    for j in range(k):  # no crossover can involve a bar before both averages exist
        change[j, : start[j]] = False
    first = np.where(change.any(axis=1), change.argmax(axis=1) + 1, n)
    short = np.broadcast_to(np.asarray(short, dtype=bool), (k,))
    if short.any():
        pos = gt.astype(np.int8)
        pos[short] -= lt[short].astype(np.int8)
    else:
        pos = gt.view(np.int8)
    for j in range(k):  # nothing before the first crossover
        pos[j, : first[j]] = 0
    return pos


def cross_fills(
    fast: FloatArray, slow: FloatArray, start: np.ndarray
) -> tuple[np.ndarray, np.ndarray, Int8Array] | None:
    """The fills of long/flat :func:`cross_positions` found on the crossings alone (no
    positions matrix): ``(row, bar, position after)`` sorted by row then bar, a fill at
    ``bar`` being the crossing on the close of ``bar - 1``. ``None`` if fast and slow are ever
    exactly equal after warm-up (a touch keeps the previous side: left to the positions)."""
    n = slow.shape[1]
    with np.errstate(invalid="ignore"):
        if (fast == slow).any():  # prices are finite: no NaN after warm-up, only touches
            return None
        gt = fast > slow
    flip = np.flatnonzero(gt[:, 1:] != gt[:, :-1])
    row, bar = np.divmod(flip, n - 1)  # gt changes between bar and bar + 1
    keep = bar >= start[row]  # both averages exist on both bars
    row, bar = row[keep], bar[keep] + 1
    up = gt[row, bar]
    from ._types import new_group  # numpy's module: imported by the first sweep, not at import

    first = new_group(row)
    keep = ~(first & ~up) & (bar + 1 < n)  # no position before the first crossing
    return row[keep], bar[keep] + 1, up[keep].view(np.int8)


def _ma_windows(combos: list[Combo]) -> list[int]:
    return sorted({c["fast"] for c in combos} | {c["slow"] for c in combos})


def ma_precompute(kind: str) -> Callable[[Bars, list[Combo]], None]:
    """Every average a sweep's grid needs, as one (windows, bars) matrix in ``bars.cache``
    (if :data:`CACHE_BYTES` allows): its chunks then compare views of it, on any thread."""

    def precompute(bars: Bars, combos: list[Combo]) -> None:
        windows = _ma_windows(combos)
        size = len(windows) * bars.n * 8
        used = bars.cache.get("_bytes", 0)
        if len(windows) < 2 or used + size > CACHE_BYTES:
            return
        if kind == "sma":
            mat = np.ascontiguousarray(ind.sma_matrix(bars.close, windows).T)
        else:
            mat = np.empty((len(windows), bars.n))
            for j, w in enumerate(windows):
                hit = bars.cache.get((kind, w))
                mat[j] = ind.ema(bars.close, w) if hit is None else hit
        bars.cache[("ma_table", kind)] = ({w: j for j, w in enumerate(windows)}, mat)
        bars.cache["_bytes"] = used + size

    return precompute


def _ma_rows(bars: Bars, kind: str, windows: list[int]) -> Callable[[list[int]], FloatArray]:
    """``rows(ws)``: the (len(ws), n) averages of windows ``ws`` (a view of the precomputed
    matrix when they are consecutive in it)."""
    table = bars.cache.get(("ma_table", kind))
    if table is not None and all(w in table[0] for w in windows):
        index, mat = table

        def from_table(ws: list[int]) -> FloatArray:
            at = [index[w] for w in ws]
            if at == list(range(at[0], at[0] + len(at))):
                return mat[at[0] : at[0] + len(at)]  # type: ignore[no-any-return]
            return mat[at]  # type: ignore[no-any-return]

        return from_table
    fn = ind.sma if kind == "sma" else ind.ema
    ma = {w: bars.cache[(kind, w)] for w in windows if (kind, w) in bars.cache}
    missing = [w for w in windows if w not in ma]
    if kind == "sma" and missing:
        m = ind.sma_matrix(bars.close, missing)
        for j, w in enumerate(missing):
            ma[w] = np.ascontiguousarray(m[:, j])
            _keep(bars, (kind, w), ma[w])
    for w in windows:
        if w not in ma:
            ma[w] = _cached(bars, (kind, w), functools.partial(fn, bars.close, w))

    def from_cache(ws: list[int]) -> FloatArray:
        if len(ws) == 1:
            return ma[ws[0]][None, :]  # type: ignore[no-any-return]
        return np.stack([ma[w] for w in ws])

    return from_cache


def ma_fills(kind: str) -> Callable[[Bars, list[Combo]], Any]:
    def fills(bars: Bars, combos: list[Combo]) -> Any:
        if any(c["short"] for c in combos):
            return None
        rows_of = _ma_rows(bars, kind, _ma_windows(combos))
        by_fast: dict[int, list[int]] = {}
        for j, c in enumerate(combos):
            by_fast.setdefault(c["fast"], []).append(j)
        parts = []
        for f, rows in by_fast.items():
            start = np.array([combos[j]["slow"] - 1 for j in rows])
            slow = rows_of([combos[j]["slow"] for j in rows])
            found = cross_fills(rows_of([f]), slow, start)
            if found is None:
                return None
            parts.append((np.asarray(rows)[found[0]], found[1], found[2]))
        row = np.concatenate([p[0] for p in parts])
        bar = np.concatenate([p[1] for p in parts])
        new = np.concatenate([p[2] for p in parts])
        key = row * bars.n + bar
        if len(key) > 1 and (key[1:] < key[:-1]).any():
            order = np.argsort(key, kind="stable")
            row, bar, new = row[order], bar[order], new[order]
        return row, bar, new

    return fills


def ma_cross(kind: str) -> SignalFn:
    def signal(bars: Bars, combos: list[Combo]) -> Int8Array:
        rows_of = _ma_rows(bars, kind, _ma_windows(combos))
        # one broadcast comparison per fast window against a block of slow averages
        out = np.empty((len(combos), bars.n), dtype=np.int8)
        by_fast: dict[int, list[int]] = {}
        for j, c in enumerate(combos):
            by_fast.setdefault(c["fast"], []).append(j)
        for f, rows in by_fast.items():
            slow = rows_of([combos[j]["slow"] for j in rows])
            short = np.array([combos[j]["short"] for j in rows])
            start = np.array([combos[j]["slow"] - 1 for j in rows])
            pos = cross_positions(rows_of([f]), slow, short, start)
            if rows == list(range(rows[0], rows[0] + len(rows))):
                out[rows[0] : rows[0] + len(rows)] = pos
            else:
                out[rows] = pos
        return out

    return signal
