"""Walk-forward windows: training and test periods over a bar index, as bar counts or durations.

A period is a number of bars (``500``, ``"500"``, ``"500b"``) or a calendar duration: ``"2y"``
(years), ``"6m"`` (months), ``"4w"`` (weeks), ``"90d"`` (days), ``"12h"`` (hours).
:func:`make_windows` lays the test periods end to end, the first one right after the first
training period; each window trains on the period just before its test (``anchored=False``:
a rolling window of the training length) or on everything before it (``anchored=True``).
Windows are half-open ranges of bar positions, ``[train_start, train_end)`` and
``[test_start, test_end)`` with ``train_end == test_start``, so a window's training bars never
include one of its test bars.

Durations count from the first bar: test period ``k`` (0-based) starts at the first bar at or
after ``first + train + k * test`` (a calendar offset, so ``"6m"`` steps are whole months and
never drift); bar counts count positions. The last test period may end with the data before
its full length; it is kept when it has at least half the bars of the first one (and 2), so
the end of the data is used without a stub window. A test period has at least 2 bars.

Example:
    >>> import pandas as pd
    >>> idx = pd.bdate_range("2015-01-01", "2020-12-31")
    >>> ws = make_windows(idx, "2y", "1y")
    >>> [(w.train_start, w.test_start, w.test_end) for w in ws]
    [(0, 522, 782), (261, 782, 1043), (522, 1043, 1304), (782, 1304, 1566)]
    >>> [str(idx[w.test_start].date()) for w in ws]
    ['2017-01-02', '2018-01-01', '2019-01-01', '2020-01-01']
    >>> [(w.train_start, w.train_end) for w in make_windows(idx, 500, 300, anchored=True)]
    [(0, 500), (0, 800), (0, 1100), (0, 1400)]
    >>> parse_period("6m"), parse_period(250)
    (Period(text='6m', bars=None, unit='m', count=6), Period(text='250', bars=250, unit=None, count=250))
"""  # noqa: E501

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ._errors import EngineError

__all__ = ["Period", "Window", "make_windows", "parse_period"]

_PERIOD = re.compile(
    r"^\s*(\d+)\s*(y|yr|years?|m|mo|months?|w|weeks?|d|days?|h|hours?|b|bars?)?\s*$"
)
_UNITS = {"y": "y", "m": "m", "w": "w", "d": "d", "h": "h", "b": None}
_NAMES = {"y": "years", "m": "months", "w": "weeks", "d": "days", "h": "hours"}
MAX_WINDOWS = 1_000  # more windows than this is almost surely a unit mistake


@dataclass(frozen=True)
class Period:
    """A training or test length: ``bars`` (a bar count) or ``count`` of calendar ``unit``."""

    text: str
    bars: int | None
    unit: str | None
    count: int

    def offset(self, times: int = 1) -> pd.DateOffset:
        """``times`` of this duration as a calendar offset (durations only)."""
        n = self.count * times
        if self.unit == "y":
            return pd.DateOffset(years=n)
        if self.unit == "m":
            return pd.DateOffset(months=n)
        if self.unit == "w":
            return pd.DateOffset(weeks=n)
        if self.unit == "d":
            return pd.DateOffset(days=n)
        return pd.DateOffset(hours=n)

    def describe(self) -> str:
        """``"500 bars"`` or ``"6 months"``."""
        if self.bars is not None:
            return f"{self.bars} bars"
        return f"{self.count} {_NAMES[self.unit or 'd']}"


def parse_period(value: Any, name: str = "period") -> Period:
    """A :class:`Period` from ``500``, ``"500"``, ``"500b"``, ``"2y"``, ``"6m"``, ``"90d"`` ...

    >>> parse_period("18 months").describe(), parse_period("2y").describe()
    ('18 months', '2 years')
    """
    if isinstance(value, Period):
        return value
    if isinstance(value, (bool, np.bool_)):
        raise EngineError(f"{name} must be a number of bars or a duration like '2y', got {value!r}")
    if isinstance(value, (int, np.integer)):
        n = int(value)
        text = str(n)
        unit_key: str | None = "b"
    else:
        m = _PERIOD.match(str(value).lower()) if isinstance(value, str) else None
        if m is None:
            raise EngineError(
                f"{name}={value!r} is not a period; give a number of bars (500) or a duration: "
                "'2y' (years), '6m' (months), '4w' (weeks), '90d' (days), '12h' (hours)"
            )
        n, text = int(m.group(1)), str(value).strip()
        unit_key = (m.group(2) or "b")[0]
    if n < 1:
        raise EngineError(f"{name}={value!r} must be at least 1 bar or 1 {unit_key or 'unit'}")
    unit = _UNITS[unit_key or "b"]
    return Period(text, n if unit is None else None, unit, n)


@dataclass(frozen=True)
class Window:
    """One walk-forward window as bar positions: train ``[train_start, train_end)``, test
    ``[test_start, test_end)``, ``train_end == test_start``; ``number`` counts from 1."""

    number: int
    train_start: int
    train_end: int
    test_start: int
    test_end: int

    @property
    def train_bars(self) -> int:
        """Bars in the training period."""
        return self.train_end - self.train_start

    @property
    def test_bars(self) -> int:
        """Bars in the test period."""
        return self.test_end - self.test_start


def _span(index: pd.DatetimeIndex) -> str:
    years = (index[-1] - index[0]).days / 365.25
    return f"{len(index)} bars, {index[0].date()}..{index[-1].date()} ({years:.1f} years)"


def make_windows(
    index: pd.DatetimeIndex, train: Any, test: Any, anchored: bool = False
) -> list[Window]:
    """The walk-forward windows of ``index`` (see the module docstring).

    Raises :class:`EngineError` when not even one training period plus one test period fits
    the data, saying what the data covers.
    """
    tr, te = parse_period(train, "train"), parse_period(test, "test")
    n = len(index)
    first = index[0]

    def at(when: pd.Timestamp) -> int:
        return int(index.searchsorted(when))

    # the first test start, then every test boundary (a position and, for durations, a time)
    s1 = tr.bars if tr.bars is not None else at(first + tr.offset())
    too_short = EngineError(
        f"train={tr.describe()} plus test={te.describe()} do not fit the data ({_span(index)}); "
        "use shorter periods or more data"
    )
    if s1 >= n - 1:
        raise too_short
    base = index[s1] if tr.bars is not None else first + tr.offset()

    def bound(k: int) -> tuple[int, pd.Timestamp | None]:
        if te.bars is not None:
            return s1 + k * te.bars, None
        when = base + te.offset(k)
        return at(when), when

    windows: list[Window] = []
    k = 0
    while True:
        (s, t0), (e, t1) = bound(k), bound(k + 1)
        if s >= n - 1 or k >= MAX_WINDOWS:
            break
        if e > n or (t1 is not None and t1 > index[-1] and e == n):  # ends with the data
            e = n
            if te.bars is not None or t0 is None or t1 is None:
                done = (e - s) / (te.bars or 1)
            else:  # the share of the test duration the data still covers
                done = (index[-1] - index[s]) / (t1 - t0)
            if e - s < 2 or done < 0.5:
                break  # a stub at the end of the data
        elif e - s < 2:
            raise EngineError(
                f"test={te.describe()} holds {e - s} bar(s) in window {k + 1}; a test period "
                "needs at least 2 bars"
            )
        if anchored:
            start = 0
        elif tr.bars is not None:
            start = s - tr.bars
        elif te.bars is None:
            start = at(first + te.offset(k))
        else:
            start = at(index[s] - tr.offset())
        windows.append(Window(k + 1, max(start, 0), s, s, e))
        k += 1
    if k >= MAX_WINDOWS and bound(k)[0] < n - 1:
        raise EngineError(
            f"train={tr.describe()} and test={te.describe()} give more than {MAX_WINDOWS} "
            f"windows on {_span(index)}; use a longer test period"
        )
    if not windows:
        raise too_short
    for w in windows:
        if w.train_bars < 2:
            raise EngineError(
                f"window {w.number}'s training period has {w.train_bars} bar(s); use a longer "
                "train period"
            )
    return windows
