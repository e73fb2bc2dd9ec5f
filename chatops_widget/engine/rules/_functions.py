"""The functions a rule may call: signature, definition and vectorized implementation of each.

:data:`FUNCTIONS` is the whitelist: a call to any other name is an error. Every indicator is
NaN until it has enough bars (its *warm-up*); a condition on a NaN value is neither true nor
false, so no signal fires during a warm-up. An argument series that itself starts with NaNs
(``sma(rsi(14), 5)``) is computed from its first defined bar on.

Example:
    >>> from chatops_widget.engine.rules import FUNCTIONS
    >>> FUNCTIONS["sma"].signature
    'sma([series=close], window)'
    >>> sorted(FUNCTIONS)[:4]
    ['adx', 'atr', 'bb_lower', 'bb_mid']
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from .. import _indicators as ind
from .._sim import Bars
from .._types import FloatArray

__all__ = ["FIELDS", "FUNCTIONS", "Arg", "Function"]

ArgKind = Literal["series", "window", "number"]

#: Price fields a rule may use (each is that column of the data, per bar).
FIELDS: tuple[str, ...] = ("open", "high", "low", "close", "volume")


@dataclass(frozen=True)
class Arg:
    """One argument: ``series`` (any numeric expression), ``window`` (a whole number of bars,
    a literal or a ``$param``) or ``number`` (a literal or a ``$param``)."""

    name: str
    kind: ArgKind
    default: Any = None  # None: required; "close": the close series
    min: float = 1

    def as_dict(self) -> dict[str, Any]:
        """JSON-able copy."""
        return {"name": self.name, "kind": self.kind, "default": self.default, "min": self.min}


@dataclass(frozen=True)
class Function:
    """A rule function: ``compute(bars, *args)`` gets series as float arrays and windows as
    ints; ``warmup(series_warmups, *scalars)`` is the number of leading NaN bars of the result
    given those of the series arguments. ``condition`` functions return a condition."""

    name: str
    args: tuple[Arg, ...]
    doc: str
    example: str
    compute: Callable[..., FloatArray] | None
    warmup: Callable[..., int]
    condition: bool = False

    @property
    def signature(self) -> str:
        """e.g. ``sma([series=close], window)`` (brackets: optional)."""
        parts = []
        for a in self.args:
            parts.append(a.name if a.default is None else f"[{a.name}={a.default}]")
        return f"{self.name}({', '.join(parts)})"

    def as_dict(self) -> dict[str, Any]:
        """JSON-able description (for ``/help`` and autocomplete)."""
        return {
            "name": self.name,
            "signature": self.signature,
            "args": [a.as_dict() for a in self.args],
            "doc": self.doc,
            "example": self.example,
            "returns": "condition" if self.condition else "number",
        }


def _from_first(fn: Callable[..., FloatArray]) -> Callable[..., FloatArray]:
    """Apply ``fn(x, ...)`` from ``x``'s first non-NaN bar on (NaN before)."""

    def wrapped(x: FloatArray, *args: Any) -> FloatArray:
        ok = ~np.isnan(x)
        if ok[0] or not ok.any():
            return fn(x, *args) if ok[0] else np.full(len(x), np.nan)
        first = int(ok.argmax())
        out = np.full(len(x), np.nan)
        out[first:] = fn(x[first:], *args)
        return out

    return wrapped


def _guard(fn: Callable[..., FloatArray]) -> Callable[..., FloatArray]:
    """NaN result when the window is longer than the data (instead of an error)."""

    def wrapped(x: FloatArray, window: int, *args: Any) -> FloatArray:
        if window > len(x):
            return np.full(len(x), np.nan)
        return fn(x, window, *args)

    return wrapped


def _series(fn: Callable[..., FloatArray]) -> Callable[..., FloatArray]:
    """A one-series indicator ``fn(x, window, ...)`` as ``compute(bars, x, window, ...)``."""
    inner = _from_first(_guard(fn))
    return lambda bars, x, *rest: inner(np.asarray(x, dtype=np.float64), *rest)


def _sma(x: FloatArray, w: int) -> FloatArray:
    return ind.sma(x, w)


def _ema(x: FloatArray, w: int) -> FloatArray:
    return ind.ema(x, w)


def _bb(sign: float) -> Callable[[FloatArray, int, float], FloatArray]:
    def fn(x: FloatArray, w: int, k: float = 0.0) -> FloatArray:
        mid = ind.sma(x, w)
        if sign == 0:
            return mid
        return mid + sign * k * ind.rolling_std(x, w)

    return fn


def _roc(x: FloatArray, w: int) -> FloatArray:
    with np.errstate(divide="ignore", invalid="ignore"):
        out: FloatArray = x / ind.shift(x, w) - 1.0
    return out


def _macd(x: FloatArray, fast: int, slow: int) -> FloatArray:
    if max(fast, slow) > len(x):
        return np.full(len(x), np.nan)
    out: FloatArray = ind.ema(x, fast) - ind.ema(x, slow)
    return out


def _macd_signal(x: FloatArray, fast: int, slow: int, signal: int) -> FloatArray:
    return _from_first(_guard(_ema))(_macd(x, fast, slow), signal)


def _hlc(fn: Callable[..., FloatArray], need: Callable[[int], int]) -> Callable[..., FloatArray]:
    def compute(bars: Bars, w: int) -> FloatArray:
        if need(w) >= bars.n:
            return np.full(bars.n, np.nan)
        return fn(bars.high, bars.low, bars.close, w)

    return compute


def _w1(s: int, w: int, *_: Any) -> int:  # window-bar indicators: w - 1 leading NaNs
    return s + w - 1


def _w0(s: int, w: int, *_: Any) -> int:  # indicators needing w earlier bars: w NaNs
    return s + w


_X = Arg("series", "series", "close")
_W = Arg("window", "window")

_DEFS: tuple[Function, ...] = (
    Function("sma", (_X, _W), "simple moving average of the last `window` bars",
             "close > sma(200)", _series(_sma), _w1),
    Function("ema", (_X, _W), "exponential moving average, alpha = 2 / (window + 1), started "
             "at the first bar (NaN for the first window - 1 bars)", "ema(12) > ema(26)",
             _series(_ema), _w1),
    Function("wma", (_X, _W), "linearly weighted moving average (weights 1..window, the latest "
             "bar heaviest)", "close > wma(20)", _series(ind.wma), _w1),
    Function("rsi", (_X, Arg("window", "window", 14, 2)), "Wilder's relative strength index, "
             "0..100 (smoothing alpha = 1 / window from the first bar; NaN for the first "
             "window bars)", "rsi(14) < 30", _series(ind.rsi), _w0),
    Function("stdev", (_X, Arg("window", "window", None, 2)), "population standard deviation "
             "(ddof 0) of the last `window` bars", "stdev(20) / close < 0.01",
             _series(ind.rolling_std), _w1),
    Function("bb_upper", (_X, Arg("window", "window", 20, 2), Arg("k", "number", 2.0, 0)),
             "upper Bollinger band: sma(window) + k * stdev(window)", "close > bb_upper(20, 2)",
             _series(_bb(1.0)), _w1),
    Function("bb_lower", (_X, Arg("window", "window", 20, 2), Arg("k", "number", 2.0, 0)),
             "lower Bollinger band: sma(window) - k * stdev(window)", "close < bb_lower()",
             _series(_bb(-1.0)), _w1),
    Function("bb_mid", (_X, Arg("window", "window", 20, 2)), "middle Bollinger band: "
             "sma(window)", "close >= bb_mid(20)", _series(_bb(0.0)), _w1),
    Function("highest", (_X, _W), "highest value of the last `window` bars, the current one "
             "included (use highest(high, 20)[1] for the previous 20 bars)",
             "close > highest(high, 20)[1]", _series(ind.rolling_max), _w1),
    Function("lowest", (_X, _W), "lowest value of the last `window` bars, the current one "
             "included", "close < lowest(low, 10)[1]", _series(ind.rolling_min), _w1),
    Function("roc", (_X, _W), "rate of change over `window` bars as a fraction: "
             "series / series[window] - 1 (0.05 is +5 %)", "roc(60) > 0", _series(_roc), _w0),
    Function("macd", (_X, Arg("fast", "window", 12), Arg("slow", "window", 26)),
             "MACD line: ema(fast) - ema(slow)", "macd() > 0", _series(_macd),
             lambda s, f, sl: s + max(f, sl) - 1),
    Function("macd_signal", (_X, Arg("fast", "window", 12), Arg("slow", "window", 26),
             Arg("signal", "window", 9)), "MACD signal line: ema(signal) of the MACD line",
             "crosses_above(macd(), macd_signal())", _series(_macd_signal),
             lambda s, f, sl, g: s + max(f, sl) + g - 2),
    Function("atr", (Arg("window", "window", 14),), "Wilder's average true range of high, low "
             "and close (TA-Lib's ATR: NaN for the first window bars)", "atr(14) / close < 0.02",
             _hlc(ind.atr, lambda w: w), lambda w: w),
    Function("adx", (Arg("window", "window", 14, 2),), "Wilder's average directional index, "
             "0..100 (TA-Lib's ADX: NaN for the first 2 * window - 1 bars)", "adx(14) > 25",
             _hlc(ind.adx, lambda w: 2 * w - 1), lambda w: 2 * w - 1),
    Function("crosses_above", (Arg("a", "series"), Arg("b", "series")), "true on the bar where "
             "a goes above b, coming from below (bars where a == b keep the side before them: "
             "touching is not crossing)", "crosses_above(ema($fast), ema($slow))", None,
             lambda a, b: max(a, b) + 1, condition=True),
    Function("crosses_below", (Arg("a", "series"), Arg("b", "series")), "true on the bar where "
             "a goes below b, coming from above (as crosses_above)", "crosses_below(rsi(14), 70)",
             None, lambda a, b: max(a, b) + 1, condition=True),
)  # fmt: skip

FUNCTIONS: dict[str, Function] = {f.name: f for f in _DEFS}
"""Every function a rule may call, by name."""
