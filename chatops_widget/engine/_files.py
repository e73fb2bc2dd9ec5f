"""OHLCV files: what a file holds, learnt without reading its bars, and reading a date range.

:func:`probe` reads a Parquet file's footer (row count, schema, and the min/max statistics of
its time column per row group) or a CSV file's header line, and checks the columns, so a
folder of large files is listed in milliseconds. :func:`read_bars` reads the bars when they
are needed: Parquet memory-mapped, only the row groups that overlap the asked date range
(row-group filtering by those statistics), then validated by
:func:`~chatops_widget.engine.validate_ohlcv`. :func:`read_index` reads the time column alone
(8 bytes a bar), e.g. to count the bars of a range.

Example:
    >>> import tempfile, pathlib
    >>> from chatops_widget.engine import sample_catalog
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "ALPHA.parquet"
    >>> sample_catalog().get("ALPHA").to_parquet(path, row_group_size=500)
    >>> info = probe(path)
    >>> info.bars, str(info.start.date()), len(info.groups)
    (2608, '2015-01-02', 6)
    >>> read_bars(info, start=pd.Timestamp("2020-01-01")).index[0]
    Timestamp('2020-01-01 00:00:00')
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._data import PRICE_COLUMNS, TIME_COLUMNS, validate_ohlcv
from ._errors import DataError

__all__ = [
    "SUFFIXES",
    "FileInfo",
    "probe",
    "read_bars",
    "read_index",
    "read_ohlcv_file",
    "symbol_of",
]

SUFFIXES = (".csv", ".csv.gz", ".parquet", ".pq")


def symbol_of(path: Path) -> str | None:
    """``myco.parquet`` -> ``MYCO``; ``None`` for other suffixes."""
    for suf in SUFFIXES:
        if path.name.lower().endswith(suf):
            return path.name[: -len(suf)].upper()
    return None


def is_parquet(path: Path) -> bool:
    return path.name.lower().endswith((".parquet", ".pq"))


@dataclass(frozen=True)
class FileInfo:
    """What :func:`probe` learnt of one file (no bars read).

    ``bars``, ``start`` and ``end`` are ``None`` for a CSV file until it is read; ``groups``
    holds ``(first time, last time, rows)`` per Parquet row group; ``stamp`` is the file's
    ``(mtime_ns, size)`` when probed.
    """

    path: Path
    stamp: tuple[int, int]
    bars: int | None = None
    start: pd.Timestamp | None = None
    end: pd.Timestamp | None = None
    time_column: str | None = None
    groups: tuple[tuple[pd.Timestamp, pd.Timestamp, int], ...] = ()

    @property
    def parquet(self) -> bool:
        """Whether it is a Parquet file (else CSV)."""
        return is_parquet(self.path)


def _stamp(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_mtime_ns, st.st_size


def _naive(value: Any) -> pd.Timestamp:
    ts = pd.Timestamp(value)
    return ts.tz_convert("UTC").tz_localize(None) if ts.tzinfo is not None else ts


def _check_columns(name: str, columns: list[str]) -> None:
    lower = {str(c).lower() for c in columns}
    missing = [c for c in PRICE_COLUMNS if c.lower() not in lower]
    if missing:
        raise DataError(
            f"{name}: missing column(s) {', '.join(missing)}; need Open, High, Low, Close "
            f"(Volume optional, any case); got {', '.join(map(str, columns)) or 'none'}"
        )


def probe(path: str | Path) -> FileInfo:
    """Learn a file's columns (and, for Parquet, bars and date range) without reading bars.

    Raises :class:`DataError` naming the file if it cannot be read or lacks a price column.
    """
    path = Path(path)
    name = path.name
    try:
        stamp = _stamp(path)
        if not is_parquet(path):
            header = pd.read_csv(path, nrows=0)
            _check_columns(name, list(header.columns))
            return FileInfo(path, stamp)
        import pyarrow.parquet as pq

        pf = pq.ParquetFile(path, memory_map=True)
    except (OSError, ValueError) as e:
        kind = "Parquet" if is_parquet(path) else "CSV"
        raise DataError(f"{name}: cannot read as {kind}: {e}") from None
    schema = pf.schema_arrow
    tcol = _time_column(schema)
    if tcol is None:
        raise DataError(
            f"{name}: no time column; store the bars with a DatetimeIndex (df.to_parquet) "
            "or a Date/Datetime/Timestamp column"
        )
    _check_columns(name, [n for n in schema.names if n != tcol])
    md = pf.metadata
    j = schema.get_field_index(tcol)
    groups: list[tuple[pd.Timestamp, pd.Timestamp, int]] = []
    for i in range(md.num_row_groups):
        rg = md.row_group(i)
        stats = rg.column(j).statistics if j >= 0 else None
        if stats is None or not stats.has_min_max:
            groups = []
            break
        groups.append((_naive(stats.min), _naive(stats.max), rg.num_rows))
    start: pd.Timestamp | None
    end: pd.Timestamp | None
    if groups:
        start, end = groups[0][0], groups[-1][1]
    else:  # no statistics: read the time column alone (8 bytes a bar)
        idx = _time_values(pf, tcol, None)
        start, end = (idx[0], idx[-1]) if len(idx) else (None, None)
    return FileInfo(path, stamp, md.num_rows, start, end, tcol, tuple(groups))


def _time_column(schema: Any) -> str | None:
    """The stored index (pandas metadata), a Date/Datetime/Time/Timestamp column, or the first
    timestamp-typed column."""
    import pyarrow as pa

    meta = schema.pandas_metadata or {}
    for col in meta.get("index_columns", []):
        if isinstance(col, str) and col in schema.names:
            return col
    for f in schema:
        if f.name.lower() in TIME_COLUMNS:
            return str(f.name)
    for f in schema:
        if pa.types.is_timestamp(f.type) or pa.types.is_date(f.type):
            return str(f.name)
    return None


def _wanted_groups(info: FileInfo, lo: pd.Timestamp | None, hi: pd.Timestamp | None) -> list[int]:
    """Row groups that may hold bars in ``[lo, hi]`` (all if the groups are not in order)."""
    groups = info.groups
    everything = list(range(len(groups)))
    if not groups or (lo is None and hi is None):
        return everything
    if any(groups[i][0] < groups[i - 1][1] for i in range(1, len(groups))):
        return everything  # not sorted by time: validation will say so
    return [
        i
        for i, (first, last, _) in enumerate(groups)
        if (lo is None or last >= lo) and (hi is None or first <= hi)
    ]


def _time_values(pf: Any, tcol: str, groups: list[int] | None) -> pd.DatetimeIndex:
    table = pf.read(columns=[tcol]) if groups is None else pf.read_row_groups(groups, [tcol])
    values = table.column(tcol).to_pandas()
    idx = pd.DatetimeIndex(pd.to_datetime(values))
    return idx.tz_convert("UTC").tz_localize(None) if idx.tz is not None else idx


def read_bars(
    info: FileInfo, start: pd.Timestamp | None = None, end: pd.Timestamp | None = None
) -> pd.DataFrame:
    """The validated bars of ``info``'s file between ``start`` and ``end`` (inclusive).

    Parquet: memory-mapped, only the row groups overlapping the range. The range is cut
    exactly after validation (which sees the whole of every row group it reads).
    """
    path, name = info.path, info.path.name
    try:
        if info.parquet:
            import pyarrow.parquet as pq

            pf = pq.ParquetFile(path, memory_map=True)
            groups = _wanted_groups(info, start, end)
            table = pf.read_row_groups(groups, use_pandas_metadata=True)
            df = table.to_pandas()
        else:
            df = pd.read_csv(path)
    except (OSError, ValueError) as e:
        kind = "Parquet" if info.parquet else "CSV"
        raise DataError(f"{name}: cannot read as {kind}: {e}") from None
    if not isinstance(df.index, pd.DatetimeIndex):
        lower = {str(c).lower() for c in df.columns}
        if not lower & set(TIME_COLUMNS) and len(df.columns) and df.index.name is None:
            first = df.columns[0]
            try:
                df = df.set_index(pd.DatetimeIndex(pd.to_datetime(df[first])))
            except (ValueError, TypeError):
                pass
    out = validate_ohlcv(df, name)
    if start is not None or end is not None:
        out = out.loc[start:end]
    return out


def read_index(
    info: FileInfo, start: pd.Timestamp | None = None, end: pd.Timestamp | None = None
) -> pd.DatetimeIndex:
    """The bar times of a Parquet file between ``start`` and ``end``, read from the time
    column alone (only the overlapping row groups)."""
    import pyarrow.parquet as pq

    if not info.parquet or info.time_column is None:
        raise ValueError("read_index needs a probed Parquet file")
    try:
        pf = pq.ParquetFile(info.path, memory_map=True)
        idx = _time_values(pf, info.time_column, _wanted_groups(info, start, end))
    except (OSError, ValueError) as e:
        raise DataError(f"{info.path.name}: cannot read as Parquet: {e}") from None
    keep = np.ones(len(idx), dtype=bool)
    if start is not None:
        keep &= idx >= start
    if end is not None:
        keep &= idx <= end
    return idx[keep]


def read_ohlcv_file(path: str | Path) -> pd.DataFrame:
    """Read one CSV (optionally gzipped) or Parquet file whole and validate it."""
    return read_bars(probe(path))
