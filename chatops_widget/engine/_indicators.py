"""Indicators as plain numpy on 1-D price arrays; values before a full window are NaN.

All rolling means use a prefix sum of ``x - x[0]`` (O(n) per window, no Python loop over bars),
so :func:`sma_matrix` computes many windows at once for sweeps.

Example:
    >>> import numpy as np
    >>> sma(np.array([1.0, 2.0, 3.0, 4.0]), 2)
    array([nan, 1.5, 2.5, 3.5])
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from .._lazy import lazy_module

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
else:
    np = lazy_module("numpy")
    pd = lazy_module("pandas")


def _prefix(x: np.ndarray) -> np.ndarray:
    c = np.empty(len(x) + 1)
    c[0] = 0.0
    np.cumsum(x - x[0], out=c[1:])
    return c


def sma(x: np.ndarray, window: int) -> np.ndarray:
    """Simple moving average over ``window`` bars (NaN for the first ``window - 1``)."""
    return sma_matrix(x, [window])[:, 0]


def sma_matrix(x: np.ndarray, windows: Iterable[int]) -> np.ndarray:
    """Column ``j`` is the SMA of ``x`` over ``windows[j]`` bars; shape (len(x), len(windows))."""
    windows = list(windows)
    n = len(x)
    c = _prefix(np.asarray(x, dtype=np.float64))
    out = np.full((n, len(windows)), np.nan)
    for j, w in enumerate(windows):
        if w <= n:
            out[w - 1 :, j] = (c[w:] - c[:-w]) / w + x[0]
    return out


def rolling_std(x: np.ndarray, window: int) -> np.ndarray:
    """Population standard deviation over ``window`` bars (NaN before a full window)."""
    x = np.asarray(x, dtype=np.float64)
    s = pd.Series(x).rolling(window).std(ddof=0)
    return s.to_numpy()


def ema(x: np.ndarray, span: int) -> np.ndarray:
    """Exponential moving average (alpha = 2 / (span + 1), recursive from the first bar),
    NaN for the first ``span - 1`` bars so it warms up like an SMA of the same length."""
    smooth = pd.Series(np.asarray(x, dtype=np.float64)).ewm(span=span, adjust=False).mean()
    out = smooth.to_numpy().copy()
    out[: span - 1] = np.nan
    return out


def rsi(x: np.ndarray, window: int) -> np.ndarray:
    """Wilder's RSI (0..100) over ``window`` bars; NaN for the first ``window`` bars."""
    x = np.asarray(x, dtype=np.float64)
    d = np.diff(x, prepend=x[0])
    up = pd.Series(np.clip(d, 0, None)).ewm(alpha=1.0 / window, adjust=False).mean().to_numpy()
    dn = pd.Series(np.clip(-d, 0, None)).ewm(alpha=1.0 / window, adjust=False).mean().to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(dn > 0, 100.0 - 100.0 / (1.0 + up / dn), np.where(up > 0, 100.0, 50.0))
    out[:window] = np.nan
    return out


def rolling_max(x: np.ndarray, window: int) -> np.ndarray:
    """Highest value over the last ``window`` bars including the current one."""
    return pd.Series(np.asarray(x, dtype=np.float64)).rolling(window).max().to_numpy()


def rolling_min(x: np.ndarray, window: int) -> np.ndarray:
    """Lowest value over the last ``window`` bars including the current one."""
    return pd.Series(np.asarray(x, dtype=np.float64)).rolling(window).min().to_numpy()


def shift(x: np.ndarray, k: int = 1) -> np.ndarray:
    """``x`` delayed by ``k`` bars (NaN-filled at the start)."""
    out = np.full_like(np.asarray(x, dtype=np.float64), np.nan)
    if k < len(x):
        out[k:] = x[: len(x) - k]
    return out


def wilder(x: np.ndarray, window: int, first: int = 0) -> np.ndarray:
    """Wilder's smoothing (TA-Lib style): the mean of ``x[first : first + window]`` at bar
    ``first + window - 1``, then ``y[t] = y[t-1] + (x[t] - y[t-1]) / window``; NaN before."""
    x = np.asarray(x, dtype=np.float64)
    n = len(x)
    out = np.full(n, np.nan)
    start = first + window - 1
    if start >= n:
        return out
    seed = x[first : start + 1].mean()
    tail = np.concatenate(([seed], x[start + 1 :]))
    out[start:] = pd.Series(tail).ewm(alpha=1.0 / window, adjust=False).mean().to_numpy()
    return out


def true_range(high: np.ndarray, low: np.ndarray, close: np.ndarray) -> np.ndarray:
    """``max(high - low, |high - prev close|, |low - prev close|)``; bar 0 is ``high - low``."""
    prev = np.concatenate(([close[0]], close[:-1]))
    tr: np.ndarray = np.maximum(high - low, np.maximum(np.abs(high - prev), np.abs(low - prev)))
    tr[0] = high[0] - low[0]
    return tr


def atr(high: np.ndarray, low: np.ndarray, close: np.ndarray, window: int) -> np.ndarray:
    """Wilder's average true range (TA-Lib's ATR): first value at bar ``window`` (the mean of
    the true ranges of bars 1..window), NaN before.

    >>> c = np.array([10.0, 11, 12, 11])
    >>> atr(c + 1, c - 1, c, 2)
    array([nan, nan,  2.,  2.])
    """
    return wilder(true_range(high, low, close), window, first=1)


def _dm_smooth(x: np.ndarray, window: int) -> np.ndarray:
    """TA-Lib's directional-movement smoothing: the sum of bars 1..window-1, then
    ``s[t] = s[t-1] * (1 - 1/window) + x[t]`` (divided by ``window``; ratios are unaffected)."""
    out = np.full(len(x), np.nan)
    if window >= len(x):
        return out
    tail = np.concatenate(([x[1:window].sum() / window], x[window:]))
    out[window - 1 :] = pd.Series(tail).ewm(alpha=1.0 / window, adjust=False).mean().to_numpy()
    return out


def adx(high: np.ndarray, low: np.ndarray, close: np.ndarray, window: int) -> np.ndarray:
    """Wilder's average directional index (0..100, as TA-Lib's ADX); first value at bar
    ``2 * window - 1``, NaN before."""
    up = np.diff(high, prepend=high[0])
    down = -np.diff(low, prepend=low[0])
    plus = np.where((up > down) & (up > 0), up, 0.0)
    minus = np.where((down > up) & (down > 0), down, 0.0)
    tr = _dm_smooth(true_range(high, low, close), window)
    with np.errstate(divide="ignore", invalid="ignore"):
        pdi = _dm_smooth(plus, window) / tr
        mdi = _dm_smooth(minus, window) / tr
        dx = 100.0 * np.abs(pdi - mdi) / (pdi + mdi)
    dx = np.where(np.isfinite(dx), dx, 0.0)
    dx[:window] = np.nan
    return wilder(dx, window, first=window)


def wma(x: np.ndarray, window: int) -> np.ndarray:
    """Linearly weighted moving average (weights 1..window, the latest bar heaviest); NaN for
    the first ``window - 1`` bars.

    >>> wma(np.array([1.0, 2.0, 3.0]), 2)
    array([       nan, 1.66666667, 2.66666667])
    """
    x = np.asarray(x, dtype=np.float64)
    n = len(x)
    out = np.full(n, np.nan)
    if window > n:
        return out
    weights = np.arange(1, window + 1, dtype=np.float64)
    if window * n <= 20_000_000:  # direct convolution: exact, O(n * window)
        out[window - 1 :] = np.convolve(x, weights[::-1], mode="valid") / weights.sum()
        return out
    d = x - x[0]  # prefix sums of sum(j * x_j) and sum(x_j): O(n) for long windows
    j = np.arange(n, dtype=np.float64)
    c1 = np.concatenate(([0.0], np.cumsum(d)))
    c2 = np.concatenate(([0.0], np.cumsum(j * d)))
    t = np.arange(window - 1, n)
    s1 = c1[t + 1] - c1[t + 1 - window]
    s2 = c2[t + 1] - c2[t + 1 - window]
    out[window - 1 :] = (s2 - (t - window) * s1) / weights.sum() + x[0]
    return out
