"""OHLCV validation and the data catalog (symbol -> DataFrame).

A catalog merges three sources: the bundled synthetic sample (:func:`sample_catalog`), a folder
of ``<SYMBOL>.csv`` / ``.csv.gz`` / ``.parquet`` files (:meth:`DataCatalog.add_folder`) and
DataFrames registered from Python (:meth:`DataCatalog.register`). Every frame goes through
:func:`validate_ohlcv`, so bad data fails early with a message that says what is wrong.

Example:
    >>> from chatops_widget.engine import DataCatalog, sample_catalog
    >>> cat = sample_catalog()
    >>> cat.get("ALPHA", start="2020-01-01", end="2020-12-31").shape
    (262, 5)
    >>> cat.register("MINE", my_df)                               # doctest: +SKIP
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd

from ._errors import DataError, UnknownSymbolError

PRICE_COLUMNS = ("Open", "High", "Low", "Close")
COLUMNS = (*PRICE_COLUMNS, "Volume")
_TIME_COLUMNS = ("date", "datetime", "time", "timestamp")
_SUFFIXES = (".csv", ".csv.gz", ".parquet", ".pq")


def _copy_on_write() -> bool:
    """True when pandas copies on write (pandas 3, or 2.x with the option on)."""
    return int(pd.__version__.split(".")[0]) >= 3 or pd.options.mode.copy_on_write is True


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
        tcol = next((lower[t] for t in _TIME_COLUMNS if t in lower), None)
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


def read_ohlcv_file(path: str | Path) -> pd.DataFrame:
    """Read one CSV (optionally gzipped) or Parquet file and validate it."""
    path = Path(path)
    name = path.name
    try:
        df = pd.read_parquet(path) if name.endswith((".parquet", ".pq")) else pd.read_csv(path)
    except (OSError, ValueError) as e:
        raise DataError(f"{name}: cannot read as {_kind(name)}: {e}") from None
    if not isinstance(df.index, pd.DatetimeIndex):
        lower = {str(c).lower() for c in df.columns}
        if not lower & set(_TIME_COLUMNS) and len(df.columns) and df.index.name is None:
            first = df.columns[0]
            try:
                df = df.set_index(pd.DatetimeIndex(pd.to_datetime(df[first])))
            except (ValueError, TypeError):
                pass
    return validate_ohlcv(df, name)


def _kind(name: str) -> str:
    return "Parquet" if name.endswith((".parquet", ".pq")) else "CSV"


def _symbol_of(path: Path) -> str | None:
    for suf in _SUFFIXES:
        if path.name.lower().endswith(suf):
            return path.name[: -len(suf)].upper()
    return None


class DataCatalog:
    """OHLCV frames by symbol (upper-cased). Frames are validated when added.

    Example:
        >>> cat = DataCatalog()
        >>> cat.register("goog", goog_df)                          # doctest: +SKIP
        >>> cat.symbols()                                          # doctest: +SKIP
        ['GOOG']
    """

    def __init__(self) -> None:
        self._frames: dict[str, pd.DataFrame] = {}
        self._sources: dict[str, str] = {}

    def _ensure(self) -> None:
        """Hook for lazily filled catalogs (no-op here)."""

    def register(self, symbol: str, df: pd.DataFrame, *, source: str = "python") -> None:
        """Validate ``df`` and store it under ``symbol`` (replacing an existing one)."""
        self._ensure()
        sym = _clean_symbol(symbol)
        self._frames[sym] = validate_ohlcv(df, sym)
        self._sources[sym] = source

    def add_folder(self, path: str | Path) -> list[str]:
        """Add every ``SYMBOL.csv[.gz]`` / ``SYMBOL.parquet`` in ``path``; return added symbols.

        Raises :class:`DataError` naming the first bad file (nothing is added in that case).
        """
        self._ensure()
        folder = Path(path)
        if not folder.is_dir():
            raise DataError(f"data folder {str(folder)!r} does not exist or is not a directory")
        found: dict[str, pd.DataFrame] = {}
        for f in sorted(folder.iterdir()):
            sym = _symbol_of(f)
            if sym is None or not f.is_file():
                continue
            found[sym] = read_ohlcv_file(f)
        for sym, df in found.items():
            self._frames[sym] = df
            self._sources[sym] = str(folder)
        return sorted(found)

    def add_long(self, df: pd.DataFrame, *, source: str) -> list[str]:
        """Add a long-format frame with a ``Symbol`` column (one block of bars per symbol)."""
        syms = []
        for sym, part in df.groupby("Symbol", sort=True):
            self.register(str(sym), part.drop(columns="Symbol"), source=source)
            syms.append(_clean_symbol(str(sym)))
        return syms

    def symbols(self) -> list[str]:
        """Sorted list of symbols."""
        self._ensure()
        return sorted(self._frames)

    def __contains__(self, symbol: object) -> bool:
        self._ensure()
        return isinstance(symbol, str) and symbol.upper() in self._frames

    def __len__(self) -> int:
        self._ensure()
        return len(self._frames)

    def get(self, symbol: str, start: Any = None, end: Any = None) -> pd.DataFrame:
        """OHLCV of ``symbol`` between ``start`` and ``end`` (inclusive, anything pandas parses).

        The copy carries ``attrs["symbol"]``, so :func:`backtest` results are labelled with it.

        Raises :class:`UnknownSymbolError` (with close matches) or :class:`DataError` if the
        range leaves fewer than 2 bars.
        """
        self._ensure()
        sym = str(symbol).upper()
        if sym not in self._frames:
            close = difflib.get_close_matches(sym, self.symbols(), n=3)
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            have = ", ".join(self.symbols()) or "none"
            raise UnknownSymbolError(f"unknown symbol {symbol!r}{hint}; available: {have}")
        df = self._frames[sym]
        if start is not None or end is not None:
            try:
                lo = pd.Timestamp(start) if start is not None else None
                hi = pd.Timestamp(end) if end is not None else None
            except (ValueError, TypeError) as e:
                raise DataError(f"bad start/end date for {sym}: {e}") from None
            if hi is not None and hi.hour == hi.minute == hi.second == 0 and len(str(end)) <= 10:
                hi = hi + pd.Timedelta(days=1) - pd.Timedelta(1, "ns")  # whole end day
            df = df.loc[lo:hi]
            if len(df) < 2:
                full = self._frames[sym].index
                span = _span(lo, hi if end is None else pd.Timestamp(end))
                have = f"data covers {_day(full[0])}..{_day(full[-1])}"
                if len(df) == 0:
                    raise DataError(f"no {sym} bars {span}; {have}")
                raise DataError(f"{sym}: only 1 bar {span}, a backtest needs 2 or more; {have}")
        out = df.copy(deep=not _copy_on_write())  # a shallow copy is safe under copy-on-write
        out.attrs["symbol"] = sym  # backtest() labels its result with it
        return out

    def info(self) -> pd.DataFrame:
        """One row per symbol: symbol, start, end, bars, source."""
        self._ensure()
        rows = [
            {
                "symbol": s,
                "start": df.index[0],
                "end": df.index[-1],
                "bars": len(df),
                "source": self._sources.get(s, ""),
            }
            for s, df in sorted(self._frames.items())
        ]
        return pd.DataFrame(rows, columns=["symbol", "start", "end", "bars", "source"])

    def __repr__(self) -> str:
        return f"DataCatalog({len(self)} symbols: {', '.join(self.symbols()[:10])})"


def _day(ts: pd.Timestamp) -> str:
    """``2020-01-31``, or the full time when it is not midnight."""
    return str(ts.date()) if ts == ts.normalize() else ts.isoformat(sep=" ")


def _span(lo: pd.Timestamp | None, hi: pd.Timestamp | None) -> str:
    """``between A and B`` / ``from A on`` / ``up to B`` for a date range error."""
    if lo is not None and hi is not None:
        return f"between {_day(lo)} and {_day(hi)}"
    return f"from {_day(lo)} on" if lo is not None else f"up to {_day(hi)}"  # type: ignore[arg-type]


def _clean_symbol(symbol: str) -> str:
    sym = str(symbol).strip().upper()
    if not sym or not all(ch.isalnum() or ch in "._-^=" for ch in sym):
        raise DataError(
            f"bad symbol {symbol!r}: use letters, digits and . _ - ^ = (e.g. 'GOOG', 'BTC-USD')"
        )
    return sym


def sample_catalog() -> DataCatalog:
    """A fresh catalog holding the bundled synthetic sample (see :mod:`._sample`)."""
    from ._sample import SAMPLE_PATH

    cat = DataCatalog()
    df = pd.read_csv(SAMPLE_PATH, index_col="Date", parse_dates=["Date"])
    cat.add_long(df, source="bundled sample")
    return cat


class _DefaultCatalog(DataCatalog):
    """The process-wide catalog: the bundled sample, loaded on first use (keeps import fast)."""

    def __init__(self) -> None:
        super().__init__()
        self._loaded = False

    def _ensure(self) -> None:
        if not self._loaded:
            self._loaded = True
            sample = sample_catalog()
            for sym in sample._frames:
                self._frames.setdefault(sym, sample._frames[sym])
                self._sources.setdefault(sym, sample._sources[sym])
