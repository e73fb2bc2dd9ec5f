"""OHLCV validation: every frame the engine runs on goes through :func:`validate_ohlcv`, so bad
data fails early with a message that says what is wrong and how to fix it.

Example:
    >>> import pandas as pd
    >>> df = pd.DataFrame({"date": ["2020-01-02", "2020-01-03"], "open": [1, 2], "high": [2, 3],
    ...                    "low": [1, 1], "close": [2, 2]})
    >>> validate_ohlcv(df).columns.tolist()
    ['Open', 'High', 'Low', 'Close', 'Volume']
"""

from __future__ import annotations

from typing import cast

import numpy as np
import pandas as pd

from ._errors import DataError

PRICE_COLUMNS = ("Open", "High", "Low", "Close")
COLUMNS = (*PRICE_COLUMNS, "Volume")
#: Column names (any case) that hold bar times when the index is not a DatetimeIndex.
TIME_COLUMNS = ("date", "datetime", "time", "timestamp")

__all__ = ["COLUMNS", "PRICE_COLUMNS", "TIME_COLUMNS", "validate_ohlcv"]


def validate_ohlcv(df: pd.DataFrame, name: str = "data") -> pd.DataFrame:
    """Return a clean copy of ``df`` with columns ``Open, High, Low, Close, Volume`` (float64).

    Column names are matched case-insensitively; ``Volume`` is optional (filled with 0). A
    ``Date``/``Datetime``/``Time``/``Timestamp`` column becomes the index if the index is not
    already a DatetimeIndex. Raises :class:`DataError` for a non-datetime, unsorted or duplicate
    index, missing columns, NaN or non-positive prices, or fewer than 2 bars.
    """
    if not isinstance(df, pd.DataFrame):
        raise DataError(f"{name}: expected a pandas DataFrame of OHLCV, got {type(df).__name__}")
    lower = {str(c).lower(): c for c in df.columns}
    if not isinstance(df.index, pd.DatetimeIndex):
        tcol = next((lower[t] for t in TIME_COLUMNS if t in lower), None)
        if tcol is None:
            raise DataError(
                f"{name}: the index must be a DatetimeIndex (or have a 'Date' column); "
                f"got {type(df.index).__name__}"
            )
        try:
            df = df.set_index(pd.DatetimeIndex(pd.to_datetime(df[tcol]), name=str(tcol)))
        except (ValueError, TypeError) as e:
            raise DataError(f"{name}: column {tcol!r} is not parseable as dates: {e}") from None
        lower = {str(c).lower(): c for c in df.columns}
    missing = [c for c in PRICE_COLUMNS if c.lower() not in lower]
    if missing:
        raise DataError(
            f"{name}: missing column(s) {', '.join(missing)}; need Open, High, Low, Close "
            f"(Volume optional, any case); got {', '.join(map(str, df.columns)) or 'none'}"
        )
    position = {str(c).lower(): i for i, c in enumerate(df.columns)}  # last one wins, as lower
    # column-major, so each column is one contiguous write and the frame takes it without a copy
    matrix = np.zeros((len(df), len(COLUMNS)), order="F")  # Volume stays 0 when absent
    for j, col in enumerate(COLUMNS):
        if col.lower() not in position:
            continue
        column = df.iloc[:, position[col.lower()]]
        try:
            if column.dtype != np.float64:
                column = pd.to_numeric(column)
            matrix[:, j] = column.to_numpy(dtype="float64", na_value=np.nan)
        except (ValueError, TypeError) as e:
            raise DataError(f"{name}: column {col} is not numeric: {e}") from None
    out = pd.DataFrame(matrix, index=df.index.copy(), columns=list(COLUMNS), copy=False)
    idx = cast(pd.DatetimeIndex, out.index)
    if idx.tz is not None:
        out.index = idx = idx.tz_convert("UTC").tz_localize(None)
    if len(out) < 2:
        raise DataError(f"{name}: need at least 2 bars, got {len(out)}")
    if idx.hasnans:
        raise DataError(f"{name}: the index has missing timestamps (NaT)")
    strictly_rising = bool((np.diff(idx.asi8) > 0).all())  # the usual case: no hash table
    if not strictly_rising and idx.has_duplicates:
        dup = idx[idx.duplicated()][0]
        raise DataError(f"{name}: duplicate timestamp {dup} in the index; each bar needs its own")
    if not strictly_rising:
        pos = int(np.argmax(np.diff(idx.asi8) < 0)) + 1
        raise DataError(
            f"{name}: the index is not sorted ascending (bar {pos} at {idx[pos]} comes after "
            f"{idx[pos - 1]}); sort it with df.sort_index()"
        )
    prices = matrix[:, : len(PRICE_COLUMNS)]
    bad = ~np.isfinite(prices)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise DataError(
            f"{name}: NaN/inf {PRICE_COLUMNS[c]} at {idx[r]} ({int(bad.sum())} bad values); "
            "prices must be finite -- drop or fill those bars"
        )
    nonpos = prices <= 0
    if nonpos.any():
        r, c = np.argwhere(nonpos)[0]
        raise DataError(
            f"{name}: non-positive {PRICE_COLUMNS[c]}={prices[r, c]} at {idx[r]}; "
            "prices must be > 0"
        )
    return out
