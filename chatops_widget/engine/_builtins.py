"""The built-in templates and their vectorized signal functions.

A signal function maps bars and a list of parameter dicts (combinations) to an ``int8`` matrix
``(n_combos, n_bars)`` of target positions (+1 long, 0 flat, -1 short) decided at each bar's
close; :mod:`._sim` fills them at the next bar's open. Indicators are memoized per window in
``bars.cache`` so a sweep computes each moving average once for all combinations.

The crossovers (``sma_cross``/``ema_cross``) and their rule are in :mod:`._crossover`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from .._lazy import lazy_module
from . import _indicators as ind
from ._crossover import _cached, ma_cross, ma_fills, ma_precompute
from ._templates import Combo, Param, Template

if TYPE_CHECKING:  # the templates' specs (what a join lists) need no numpy: run() does
    import numpy as np
    import numpy.typing as npt

    from ._sim import Bars
    from ._types import BoolArray, Int8Array
else:
    np = lazy_module("numpy")

_WIN = 100_000


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
    ma_cross("sma"),
    _cross_check,
    lambda p: ("slow", p["slow"]),
    ma_precompute("sma"),
    ma_fills("sma"),
)

EMA_CROSS = Template(
    "ema_cross",
    "Exponential moving-average crossover: like sma_cross with EMAs (warm-up = slow bars).",
    (
        Param("fast", int, 12, 1, _WIN, "fast EMA span (bars)"),
        Param("slow", int, 26, 2, _WIN, "slow EMA span (bars), > fast"),
        _SHORT,
    ),
    ma_cross("ema"),
    _cross_check,
    lambda p: ("slow", p["slow"]),
    ma_precompute("ema"),
    ma_fills("ema"),
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
