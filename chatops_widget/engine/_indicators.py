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

import numpy as np
import pandas as pd


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
    out = pd.Series(np.asarray(x, dtype=np.float64)).ewm(span=span, adjust=False).mean()
    out = out.to_numpy().copy()
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
