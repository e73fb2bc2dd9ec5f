"""The data catalog (symbol -> bars), lazy: files are listed from their metadata and read when used.

A catalog merges three sources: the bundled synthetic sample (:func:`sample_catalog`), files --
a folder of ``<SYMBOL>.csv`` / ``.csv.gz`` / ``.parquet`` (:meth:`DataCatalog.add_folder`) or
one file (:meth:`DataCatalog.add_file`) -- and DataFrames registered from Python
(:meth:`DataCatalog.register`). A file is *probed* when added (Parquet: its footer; CSV: its
header line), so a folder of a hundred 1M-bar files is listed in milliseconds; its bars are
read the first time they are asked for (Parquet memory-mapped, a date range through row-group
filtering) and kept in an LRU :class:`FrameCache` within a byte budget (``cache_bytes``):
beyond it the least recently used frames are dropped and read again when next needed. Every
frame goes through :func:`validate_ohlcv`.

A :class:`DataRef` names a file's bars (path, stamp, revision, range) in a few bytes, so
another process -- a worker of a pool, a Dask worker on shared storage -- reads them itself
(:meth:`DataRef.load`, cached per process) instead of being sent the frame.

Example:
    >>> from chatops_widget.engine import DataCatalog, sample_catalog
    >>> cat = sample_catalog()
    >>> cat.get("ALPHA", start="2020-01-01", end="2020-12-31").shape
    (262, 5)
    >>> cat.register("MINE", my_df)                               # doctest: +SKIP
    >>> cat.add_folder("~/data/minute-bars")                      # doctest: +SKIP
    ['AAPL', 'MSFT', ...]
"""

from __future__ import annotations

import difflib
import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ._cache import DEFAULT_CACHE_BYTES, DataRef, FrameCache, too_few
from ._data import validate_ohlcv
from ._errors import DataError, UnknownSymbolError
from ._files import FileInfo, probe, read_bars, read_index, symbol_of

__all__ = ["DataCatalog", "sample_catalog"]

_revisions = itertools.count(1)


def _copy_on_write() -> bool:
    """True when pandas copies on write (pandas 3, or 2.x with the option on)."""
    return int(pd.__version__.split(".")[0]) >= 3 or pd.options.mode.copy_on_write is True


@dataclass
class _Entry:
    source: str
    revision: int
    frame: pd.DataFrame | None = None  # registered in memory (never dropped)
    file: FileInfo | None = None  # read when used


class DataCatalog:
    """OHLCV by symbol (upper-cased), files read lazily (see the module docstring).

    Example:
        >>> cat = DataCatalog(cache_bytes=256 * 2**20)
        >>> cat.register("goog", goog_df)                          # doctest: +SKIP
        >>> cat.symbols()                                          # doctest: +SKIP
        ['GOOG']
    """

    def __init__(self, cache_bytes: int = DEFAULT_CACHE_BYTES) -> None:
        self._entries: dict[str, _Entry] = {}
        self.cache = FrameCache(cache_bytes)

    def _ensure(self) -> None:
        """Hook for lazily filled catalogs (no-op here)."""

    # ------------------------------------------------------------------ adding
    def _put(self, sym: str, entry: _Entry) -> None:
        self._entries[sym] = entry
        self.cache.forget(sym)

    def register(self, symbol: str, df: pd.DataFrame, *, source: str = "python") -> None:
        """Validate ``df`` and keep it under ``symbol`` (replacing an existing one)."""
        self._ensure()
        sym = _clean_symbol(symbol)
        self._put(sym, _Entry(source, next(_revisions), frame=validate_ohlcv(df, sym)))

    def add_file(
        self, path: str | Path, symbol: str | None = None, *, source: str | None = None
    ) -> str:
        """Add one file (probed, not read) as ``symbol`` (default: from its name); returns it.

        Raises :class:`DataError` naming the file if it cannot be read or lacks a column.
        """
        path = Path(path)
        return self.add_probed(symbol or symbol_of(path) or path.stem, probe(path), source=source)

    def add_probed(self, symbol: str, info: FileInfo, *, source: str | None = None) -> str:
        """Add a file already probed (:func:`~chatops_widget.engine.probe_file`, e.g. in a
        thread) as ``symbol``; returns the symbol."""
        self._ensure()
        sym = _clean_symbol(symbol)
        self._put(sym, _Entry(source or str(info.path.parent), next(_revisions), file=info))
        return sym

    def add_folder(self, path: str | Path) -> list[str]:
        """Add every ``SYMBOL.csv[.gz]`` / ``SYMBOL.parquet`` in ``path``; return added symbols.

        Files are probed, not read. Raises :class:`DataError` naming the first file that
        cannot be read or lacks a column (nothing is added in that case).
        """
        self._ensure()
        folder = Path(path)
        if not folder.is_dir():
            raise DataError(f"data folder {str(folder)!r} does not exist or is not a directory")
        found: dict[str, FileInfo] = {}
        for f in sorted(folder.iterdir()):
            sym = symbol_of(f)
            if sym is None or f.name.startswith(".") or not f.is_file():
                continue
            found[sym] = probe(f)
        for sym, info in found.items():
            self._put(sym, _Entry(str(folder), next(_revisions), file=info))
        return sorted(found)

    def add_long(self, df: pd.DataFrame, *, source: str) -> list[str]:
        """Add a long-format frame with a ``Symbol`` column (one block of bars per symbol)."""
        syms = []
        for sym, part in df.groupby("Symbol", sort=True):
            self.register(str(sym), part.drop(columns="Symbol"), source=source)
            syms.append(_clean_symbol(str(sym)))
        return syms

    def label(self, symbol: str, source: str) -> None:
        """Set the ``source`` shown by :meth:`info` for ``symbol``."""
        self._entry(symbol).source = source

    # ------------------------------------------------------------------ looking up
    def symbols(self) -> list[str]:
        """Sorted list of symbols."""
        self._ensure()
        return sorted(self._entries)

    def __contains__(self, symbol: object) -> bool:
        self._ensure()
        return isinstance(symbol, str) and symbol.upper() in self._entries

    def __len__(self) -> int:
        self._ensure()
        return len(self._entries)

    def _entry(self, symbol: str) -> _Entry:
        self._ensure()
        entry = self._entries.get(str(symbol).upper())
        if entry is None:
            close = difflib.get_close_matches(str(symbol).upper(), self.symbols(), n=3)
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            have = ", ".join(self.symbols()) or "none"
            raise UnknownSymbolError(f"unknown symbol {symbol!r}{hint}; available: {have}")
        return entry

    def revision(self, symbol: str) -> int:
        """A number that changes whenever ``symbol`` is added again (its data may differ)."""
        return self._entry(symbol).revision

    def file(self, symbol: str) -> FileInfo | None:
        """What was learnt of ``symbol``'s file, or ``None`` for a frame held in memory."""
        return self._entry(symbol).file

    def _full(self, sym: str, entry: _Entry, cached: pd.DataFrame | None = None) -> pd.DataFrame:
        """All bars of a file entry: ``cached`` (the cache's answer, if asked already), else
        read now and kept."""
        assert entry.file is not None
        if cached is not None:
            return cached
        df = read_bars(entry.file)
        self.cache.put(("bars", sym, entry.revision, None, None), df)
        if entry.file.bars is None:  # a CSV: now its metadata is known
            f = entry.file
            entry.file = FileInfo(f.path, f.stamp, len(df), df.index[0], df.index[-1])
        return df

    def _bars(self, sym: str, entry: _Entry, lo: Any, hi: Any) -> pd.DataFrame:
        if entry.frame is not None:
            return entry.frame if lo is None and hi is None else entry.frame.loc[lo:hi]
        file = entry.file
        assert file is not None
        full = self.cache.get(("bars", sym, entry.revision, None, None))
        ranged = lo is not None or hi is not None
        if full is None and ranged and len(file.groups) > 1:  # only the row groups needed
            key = ("bars", sym, entry.revision, lo, hi)
            part = self.cache.get(key)
            if part is None:
                part = read_bars(file, lo, hi)
                self.cache.put(key, part)
            return part  # type: ignore[no-any-return]
        full = self._full(sym, entry, full)
        return full.loc[lo:hi] if ranged else full

    def get(self, symbol: str, start: Any = None, end: Any = None) -> pd.DataFrame:
        """OHLCV of ``symbol`` between ``start`` and ``end`` (inclusive, anything pandas parses).

        The copy carries ``attrs["symbol"]``, so :func:`backtest` results are labelled with it.

        Raises :class:`UnknownSymbolError` (with close matches) or :class:`DataError` if the
        range leaves fewer than 2 bars.
        """
        entry = self._entry(symbol)
        sym = str(symbol).upper()
        lo, hi = _bounds(sym, start, end)
        df = self._bars(sym, entry, lo, hi)
        if len(df) < 2:
            raise self._too_few(sym, entry, len(df), lo, hi, end)
        out = df.copy(deep=not _copy_on_write())  # a shallow copy is safe under copy-on-write
        out.attrs["symbol"] = sym  # backtest() labels its result with it
        return out

    def index(self, symbol: str, start: Any = None, end: Any = None) -> pd.DatetimeIndex:
        """The bar times of ``symbol`` between ``start`` and ``end`` -- for a Parquet file read
        from its time column alone. Errors as :meth:`get`."""
        entry = self._entry(symbol)
        sym = str(symbol).upper()
        lo, hi = _bounds(sym, start, end)
        file = entry.file
        cached = self.cache.get(("bars", sym, entry.revision, None, None))
        if file is None or not file.parquet or cached is not None:
            idx = pd.DatetimeIndex(self._bars(sym, entry, lo, hi).index)
        else:
            key = ("index", sym, entry.revision, lo, hi)
            idx = self.cache.get(key)
            if idx is None:
                idx = read_index(file, lo, hi)
                self.cache.put(key, idx)
        if len(idx) < 2:
            raise self._too_few(sym, entry, len(idx), lo, hi, end)
        return idx

    def ref(self, symbol: str, start: Any = None, end: Any = None) -> DataRef | None:
        """A :class:`DataRef` to ``symbol``'s bars in that range (``None`` for a frame held in
        memory, which has no file to read)."""
        entry = self._entry(symbol)
        sym = str(symbol).upper()
        if entry.file is None:
            return None
        lo, hi = _bounds(sym, start, end)
        return DataRef(sym, str(entry.file.path), entry.file.stamp, lo, hi)

    def _too_few(self, sym: str, entry: _Entry, n: int, lo: Any, hi: Any, end: Any) -> DataError:
        first, last = self._span_of(sym, entry)
        return too_few(sym, n, lo, hi if end is None else pd.Timestamp(end), first, last)

    def _span_of(self, sym: str, entry: _Entry) -> tuple[pd.Timestamp, pd.Timestamp]:
        if entry.frame is not None:
            return entry.frame.index[0], entry.frame.index[-1]
        if entry.file is None or entry.file.start is None or entry.file.end is None:
            self._full(sym, entry, self.cache.get(("bars", sym, entry.revision, None, None)))
        assert entry.file is not None and entry.file.start is not None
        return entry.file.start, entry.file.end  # type: ignore[return-value]

    def info(self) -> pd.DataFrame:
        """One row per symbol: symbol, start, end, bars, source (a Parquet file's from its
        metadata; a CSV file is read for it)."""
        self._ensure()
        rows = []
        for s, entry in sorted(self._entries.items()):
            if entry.frame is not None:
                idx = entry.frame.index
                start, end, bars = idx[0], idx[-1], len(idx)
            else:
                start, end = self._span_of(s, entry)
                assert entry.file is not None
                bars = entry.file.bars or 0
            rows.append(
                {"symbol": s, "start": start, "end": end, "bars": bars, "source": entry.source}
            )
        return pd.DataFrame(rows, columns=["symbol", "start", "end", "bars", "source"])

    def __repr__(self) -> str:
        return f"DataCatalog({len(self)} symbols: {', '.join(self.symbols()[:10])})"


def _bounds(sym: str, start: Any, end: Any) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    """``start``/``end`` as timestamps; a date-only ``end`` covers its whole day."""
    if start is None and end is None:
        return None, None
    try:
        lo = pd.Timestamp(start) if start is not None else None
        hi = pd.Timestamp(end) if end is not None else None
    except (ValueError, TypeError) as e:
        raise DataError(f"bad start/end date for {sym}: {e}") from None
    if hi is not None and hi.hour == hi.minute == hi.second == 0 and len(str(end)) <= 10:
        hi = hi + pd.Timedelta(days=1) - pd.Timedelta(1, "ns")  # whole end day
    return lo, hi


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
            for sym, entry in sample._entries.items():
                self._entries.setdefault(sym, entry)
