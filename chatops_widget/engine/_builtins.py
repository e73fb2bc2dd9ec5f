"""The built-in templates and their vectorized signal functions.

A signal function maps bars and a list of parameter dicts (combinations) to an ``int8`` matrix
``(n_combos, n_bars)`` of target positions (+1 long, 0 flat, -1 short) decided at each bar's
close; :mod:`._sim` fills them at the next bar's open. Indicators are memoized per window in
``bars.cache`` so a sweep computes each moving average once for all combinations.

Crossover rule (``sma_cross``/``ema_cross``): with ``d = fast - slow``, a crossover is a change
of the sign of ``d`` between two bars where both averages exist (bars where ``d == 0`` exactly
keep the previous sign: touching is not crossing). No position before the first crossover;
after it the position is +1 while fast is above slow and 0 (or -1 with ``short``) while below.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from . import _indicators as ind
from ._sim import Bars
from ._templates import Combo, Param, SignalFn, Template
from ._types import BoolArray, FloatArray, Int8Array

_WIN = 100_000
#: Indicator arrays a sweep keeps for reuse across its chunks (beyond it they are recomputed,
#: which is O(bars) each): the cache of 200 windows on 1M bars would otherwise take 1.6 GB.
CACHE_BYTES = 256 * 2**20


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


def _ffill_nonzero(s: np.ndarray) -> np.ndarray:
    """Replace zeros by the last non-zero value before them (along each row)."""
    idx = np.where(s != 0, np.arange(s.shape[1], dtype=np.int32)[None, :], np.int32(0))
    np.maximum.accumulate(idx, axis=1, out=idx)
    return np.take_along_axis(s, idx, axis=1)


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


def event_positions(
    long_en: BoolArray,
    long_ex: BoolArray,
    short_en: BoolArray | None = None,
    short_ex: BoolArray | None = None,
) -> Int8Array:
    """Stateful entries/exits as bool arrays (1-D, or one row per combination) -> int8
    positions along the last axis: long from a long entry until a long exit (entry wins over
    exit on the same bar), short likewise; a new entry of the other side switches."""
    shape = np.shape(long_en)
    rows = np.arange(shape[-1], dtype=np.int32)  # bar numbers fit: half the memory traffic

    def last(mask: BoolArray) -> npt.NDArray[np.int32]:
        """Index of the latest bar <= t where ``mask`` is true (-1: none yet)."""
        return np.maximum.accumulate(np.where(mask, rows, np.int32(-1)), axis=-1)

    le, lx = last(long_en), last(long_ex)
    pos = np.zeros(shape, dtype=np.int8)
    if short_en is None or short_ex is None:  # long/flat only
        pos[(le >= 0) & (le >= lx)] = 1
        return pos
    se, sx = last(short_en), last(short_ex)
    pos[(le >= 0) & (le >= lx) & (le > se)] = 1
    pos[(se >= 0) & (se >= sx) & (se > le)] = -1
    return pos


def _columns(bars: Bars, combos: list[Combo], one: Callable[[Bars, Combo], Int8Array]) -> Int8Array:
    out = np.zeros((len(combos), bars.n), dtype=np.int8)
    for j, p in enumerate(combos):
        out[j] = one(bars, p)
    return out


def _ma_windows(combos: list[Combo]) -> list[int]:
    return sorted({c["fast"] for c in combos} | {c["slow"] for c in combos})


def _ma_precompute(kind: str) -> Callable[[Bars, list[Combo]], None]:
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
    return lambda ws: np.stack([ma[w] for w in ws])


def _ma_cross(kind: str) -> SignalFn:
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


def _cross_check(p: Combo) -> tuple[str, str] | None:
    if p["fast"] >= p["slow"]:
        return "fast", f"fast ({p['fast']}) must be smaller than slow ({p['slow']})"
    return None


_SHORT = Param("short", bool, False, doc="go short (instead of flat) on the opposite signal")

SMA_CROSS = Template(
    "sma_cross",
    "Moving-average crossover: long when the fast SMA crosses above the slow SMA; flat "
    "(or short) when it crosses below. No position before the first crossover.",
    (
        Param("fast", int, 10, 1, _WIN, "fast SMA window (bars)"),
        Param("slow", int, 30, 2, _WIN, "slow SMA window (bars), > fast"),
        _SHORT,
    ),
    _ma_cross("sma"),
    _cross_check,
    lambda p: ("slow", p["slow"]),
    _ma_precompute("sma"),
)

EMA_CROSS = Template(
    "ema_cross",
    "Exponential moving-average crossover: like sma_cross with EMAs (warm-up = slow bars).",
    (
        Param("fast", int, 12, 1, _WIN, "fast EMA span (bars)"),
        Param("slow", int, 26, 2, _WIN, "slow EMA span (bars), > fast"),
        _SHORT,
    ),
    _ma_cross("ema"),
    _cross_check,
    lambda p: ("slow", p["slow"]),
    _ma_precompute("ema"),
)


def _rsi_one(bars: Bars, p: Combo) -> Int8Array:
    r = _cached(bars, ("rsi", p["window"]), lambda: ind.rsi(bars.close, p["window"]))
    with np.errstate(invalid="ignore"):
        lo, hi = r < p["lower"], r > p["upper"]
    if p["short"]:
        return event_positions(lo, hi, hi, lo)
    return event_positions(lo, hi)


RSI_REVERSION = Template(
    "rsi_reversion",
    "RSI mean reversion: long when RSI drops below `lower`, exit when it rises above "
    "`upper` (with short: short above `upper`, cover below `lower`).",
    (
        Param("window", int, 14, 2, _WIN, "RSI window (Wilder smoothing)"),
        Param("lower", float, 30.0, 0.0, 100.0, "oversold level: buy below"),
        Param("upper", float, 70.0, 0.0, 100.0, "overbought level: sell above, > lower"),
        _SHORT,
    ),
    lambda bars, combos: _columns(bars, combos, _rsi_one),
    lambda p: (
        ("lower", f"lower ({p['lower']}) must be below upper ({p['upper']})")
        if p["lower"] >= p["upper"]
        else None
    ),
    lambda p: ("window", p["window"] + 1),
)


def _boll_one(bars: Bars, p: Combo) -> Int8Array:
    w, k = p["window"], p["k"]
    mid = _cached(bars, ("sma", w), lambda: ind.sma(bars.close, w))
    sd = _cached(bars, ("std", w), lambda: ind.rolling_std(bars.close, w))
    c = bars.close
    with np.errstate(invalid="ignore"):
        below, above = c < mid - k * sd, c > mid + k * sd
        if p["short"]:
            return event_positions(below, c >= mid, above, c <= mid)
        return event_positions(below, c >= mid)


BOLLINGER = Template(
    "bollinger",
    "Bollinger-band mean reversion: long when the close falls below the lower band "
    "(mid - k*std), exit at the middle band (with short: short above the upper band).",
    (
        Param("window", int, 20, 2, _WIN, "band window (bars)"),
        Param("k", float, 2.0, 0.1, 10.0, "band width in standard deviations"),
        _SHORT,
    ),
    lambda bars, combos: _columns(bars, combos, _boll_one),
    warmup=lambda p: ("window", p["window"]),
)


def _mom_one(bars: Bars, p: Combo) -> Int8Array:
    lb = p["lookback"]
    ret = bars.close / ind.shift(bars.close, lb) - 1.0
    pos = np.zeros(bars.n, dtype=np.int8)
    with np.errstate(invalid="ignore"):
        pos[ret > p["threshold"]] = 1
        if p["short"]:
            pos[ret < -p["threshold"]] = -1
    return pos


MOMENTUM = Template(
    "momentum",
    "Time-series momentum: long while the return over `lookback` bars is above "
    "`threshold`; flat otherwise (short below -threshold with short).",
    (
        Param("lookback", int, 60, 1, _WIN, "return lookback (bars)"),
        Param("threshold", float, 0.0, 0.0, 10.0, "minimum |return| to hold a position"),
        _SHORT,
    ),
    lambda bars, combos: _columns(bars, combos, _mom_one),
    warmup=lambda p: ("lookback", p["lookback"] + 1),
)


def _donchian_one(bars: Bars, p: Combo) -> Int8Array:
    w, x = p["window"], p["exit_window"]
    hi_w = ind.shift(_cached(bars, ("max", w), lambda: ind.rolling_max(bars.high, w)))
    lo_w = ind.shift(_cached(bars, ("min", w), lambda: ind.rolling_min(bars.low, w)))
    hi_x = ind.shift(_cached(bars, ("max", x), lambda: ind.rolling_max(bars.high, x)))
    lo_x = ind.shift(_cached(bars, ("min", x), lambda: ind.rolling_min(bars.low, x)))
    c = bars.close
    with np.errstate(invalid="ignore"):
        if p["short"]:
            return event_positions(c > hi_w, c < lo_x, c < lo_w, c > hi_x)
        return event_positions(c > hi_w, c < lo_x)


DONCHIAN_BREAKOUT = Template(
    "donchian_breakout",
    "Donchian channel breakout: long when the close breaks above the highest high of the "
    "previous `window` bars; exit below the lowest low of the previous `exit_window` bars.",
    (
        Param("window", int, 20, 2, _WIN, "entry channel (bars)"),
        Param("exit_window", int, 10, 1, _WIN, "exit channel (bars)"),
        _SHORT,
    ),
    lambda bars, combos: _columns(bars, combos, _donchian_one),
    warmup=lambda p: (
        ("window", p["window"] + 1)
        if p["window"] >= p["exit_window"]
        else ("exit_window", p["exit_window"] + 1)
    ),
)

BUY_AND_HOLD = Template(
    "buy_and_hold",
    "Buy at the second bar's open (signal on the first close) and hold to the end.",
    (),
    lambda bars, combos: np.ones((len(combos), bars.n), dtype=np.int8),
)

#: The built-in templates, in the order ``templates()`` lists them.
BUILTINS: tuple[Template, ...] = (
    SMA_CROSS,
    EMA_CROSS,
    RSI_REVERSION,
    BOLLINGER,
    MOMENTUM,
    DONCHIAN_BREAKOUT,
    BUY_AND_HOLD,
)
