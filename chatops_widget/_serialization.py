"""DataFrames on the wire: Arrow IPC stream bytes, plus JSON helpers for stats and a JSON fallback.

Results travel as socket.io binary attachments holding Arrow IPC *stream* bytes, which keep the
DatetimeIndex, column order and dtypes (the pandas metadata rides in the Arrow schema). Stats and
other small values go as plain JSON via :func:`jsonable`.

Example:
    >>> import pandas as pd
    >>> df = pd.DataFrame({"equity": [1.0, 1.1]},
    ...                   index=pd.DatetimeIndex(["2024-01-01", "2024-01-02"], name="time"))
    >>> back = from_arrow_bytes(to_arrow_bytes(df))
    >>> back.index.name, list(back.columns), back["equity"].tolist()
    ('time', ['equity'], [1.0, 1.1])
"""

from __future__ import annotations

import datetime as _dt
import json
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ._lazy import lazy_module

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    import pyarrow as pa
else:
    np = lazy_module("numpy")
    pd = lazy_module("pandas")
    pa = lazy_module("pyarrow")


__all__ = [
    "from_arrow_bytes",
    "from_json_table",
    "jsonable",
    "stats_to_json",
    "to_arrow_bytes",
    "to_json_table",
]


_META = b"chatops_widget.frame"
_FAST_KINDS = "fiub"  # float, int, uint, bool numpy dtypes


def _column_values(df: pd.DataFrame, i: int) -> Any:
    # ``_get_column_array`` skips building a Series per column (10x cheaper on wide frames).
    getter = getattr(df, "_get_column_array", None)
    return getter(i) if getter is not None else df.iloc[:, i].array


def _fast_column(values: Any) -> tuple[pa.Array, str] | None:
    dtype = values.dtype
    if isinstance(dtype, np.dtype):
        if dtype.kind in _FAST_KINDS:
            return pa.array(np.asarray(values)), dtype.str
        if dtype.kind == "M":
            return pa.array(np.asarray(values), from_pandas=True), dtype.str
        return None
    if pd.api.types.is_string_dtype(dtype):
        return pa.array(np.asarray(values, dtype=object), type=pa.string(), from_pandas=True), "str"
    return None


def _fast_table(df: pd.DataFrame) -> pa.Table | None:
    """A lean Table (our own small metadata instead of pandas'), or ``None`` if unsupported."""
    cols = list(df.columns)
    if not all(isinstance(c, str) for c in cols) or len(set(cols)) != len(cols):
        return None
    index = df.index
    meta: dict[str, Any] = {"index_name": index.name, "columns_name": df.columns.name}
    arrays, names, dtypes = [], [], []
    if isinstance(index, pd.RangeIndex):
        meta["range"] = [index.start, index.stop, index.step]
    elif isinstance(index, pd.DatetimeIndex):
        meta["tz"] = str(index.tz) if index.tz is not None else None
        values = index.tz_convert("UTC").tz_localize(None) if index.tz is not None else index
        arrays.append(pa.array(values.to_numpy(), from_pandas=True))
        names.append("__index__")
        meta["index_dtype"] = str(values.dtype)
    else:
        return None
    for i, c in enumerate(cols):
        got = _fast_column(_column_values(df, i))
        if got is None:
            return None
        arrays.append(got[0])
        names.append(c)
        dtypes.append(got[1])
    meta["dtypes"] = dtypes
    schema_meta = {_META: json.dumps(meta).encode()}
    return pa.Table.from_arrays(arrays, names=names, metadata=schema_meta)


def _from_fast_table(table: pa.Table, meta: dict[str, Any]) -> pd.DataFrame:
    offset = 0 if "range" in meta else 1
    names = table.column_names  # a new list on every access: read it once
    data = {}
    for i, dtype in enumerate(meta["dtypes"]):
        col = table.column(i + offset)
        if dtype == "str":
            data[names[i + offset]] = pd.array(col.to_numpy(), dtype="str")
        else:
            data[names[i + offset]] = col.to_numpy().astype(dtype, copy=False)
    if "range" in meta:
        start, stop, step = meta["range"]
        index: pd.Index = pd.RangeIndex(start, stop, step, name=meta["index_name"])
    else:
        values = table.column(0).to_numpy().astype(meta["index_dtype"], copy=False)
        index = pd.DatetimeIndex(values, name=meta["index_name"])
        if meta.get("tz"):
            index = index.tz_localize("UTC").tz_convert(meta["tz"])
    columns = pd.Index(list(data), name=meta.get("columns_name"))
    build = getattr(pd.DataFrame, "_from_arrays", None)  # skips per-column re-validation
    if build is not None and data:
        return build(list(data.values()), columns=columns, index=index, verify_integrity=False)
    df = pd.DataFrame(data, index=index, copy=False) if data else pd.DataFrame(index=index)
    df.columns = columns
    return df


def to_arrow_bytes(df: pd.DataFrame) -> bytes:
    """Encode a DataFrame (index included) as Arrow IPC stream bytes.

    Frames of numbers, booleans, timestamps and strings on a DatetimeIndex or RangeIndex take a
    lean path (plain Arrow columns + a small JSON note on dtypes and index); anything else goes
    through ``pyarrow.Table.from_pandas``. Both decode with :func:`from_arrow_bytes`.

    >>> len(to_arrow_bytes(pd.DataFrame({"x": [1, 2, 3]}))) > 0
    True
    """
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"to_arrow_bytes expects a pandas DataFrame, got {type(df).__name__}")
    table = _fast_table(df)
    if table is None:
        table = pa.Table.from_pandas(df, preserve_index=True)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def from_arrow_bytes(data: bytes | bytearray | memoryview) -> pd.DataFrame:
    """Decode Arrow IPC stream bytes written by :func:`to_arrow_bytes` back into a DataFrame.

    >>> from_arrow_bytes(to_arrow_bytes(pd.DataFrame({"x": [1, 2]})))["x"].tolist()
    [1, 2]
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"from_arrow_bytes expects bytes, got {type(data).__name__}")
    try:
        table = pa.ipc.open_stream(pa.py_buffer(data)).read_all()
    except pa.ArrowInvalid as exc:
        raise ValueError(f"not an Arrow IPC stream ({len(data)} bytes): {exc}") from None
    return table_to_frame(table)


def table_to_frame(table: pa.Table) -> pd.DataFrame:
    """An Arrow Table written by :func:`to_arrow_bytes` (or any pandas-made one) as a DataFrame."""
    meta = table.schema.metadata or {}
    if _META in meta:
        return _from_fast_table(table, json.loads(meta[_META]))
    return table.to_pandas()


def to_json_table(df: pd.DataFrame) -> dict[str, Any]:
    """The JSON fallback: ``{"columns", "index", "data"}`` lists (what a naive API would send).

    Only used to measure what Arrow saves; the wire format is :func:`to_arrow_bytes`.

    >>> to_json_table(pd.DataFrame({"x": [1.5]}, index=pd.DatetimeIndex(["2024-01-01"])))["index"]
    ['2024-01-01T00:00:00.000']
    """
    index = df.index
    if isinstance(index, pd.DatetimeIndex):
        idx: list[Any] = np.datetime_as_string(index.values, unit="ms").tolist()
    else:
        idx = [jsonable(v) for v in index.tolist()]
    columns = {}
    for name in df.columns:
        col = df[name]
        if pd.api.types.is_datetime64_any_dtype(col.dtype):
            columns[str(name)] = [None if pd.isna(v) else v.isoformat() for v in col]
        elif pd.api.types.is_float_dtype(col.dtype):
            arr = col.to_numpy(dtype=float)
            columns[str(name)] = [None if math.isnan(v) else v for v in arr.tolist()]
        else:
            columns[str(name)] = [jsonable(v) for v in col.tolist()]
    return {"index_name": index.name, "index": idx, "columns": columns}


def from_json_table(payload: Mapping[str, Any]) -> pd.DataFrame:
    """Rebuild a DataFrame from :func:`to_json_table` output (dtypes are re-inferred)."""
    index = payload["index"]
    name = payload.get("index_name")
    if index and isinstance(index[0], str):
        idx: pd.Index = pd.DatetimeIndex(pd.to_datetime(index), name=name)
    else:
        idx = pd.Index(index, name=name)
    return pd.DataFrame(payload["columns"], index=idx)


def jsonable(value: Any) -> Any:
    """A JSON-safe copy of ``value``: numpy scalars to Python, NaN/inf to ``None``,
    timestamps to ISO strings, timedeltas to seconds, Series/dicts/lists recursively.

    >>> jsonable({"a": np.float64("nan"), "b": np.int64(3), "c": [np.inf]})
    {'a': None, 'b': 3, 'c': [None]}
    """
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        f = float(value)
        return f if math.isfinite(f) else None
    if isinstance(value, (pd.Timestamp, _dt.datetime, _dt.date)):
        return None if pd.isna(value) else value.isoformat()
    if isinstance(value, (pd.Timedelta, _dt.timedelta, np.timedelta64)):
        td = pd.Timedelta(value)
        return None if pd.isna(td) else td.total_seconds()
    if isinstance(value, np.datetime64):
        return None if np.isnat(value) else pd.Timestamp(value).isoformat()
    if isinstance(value, pd.Series):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, np.ndarray)):
        return [jsonable(v) for v in value]
    if value is pd.NaT or value is pd.NA:
        return None
    return str(value)


def stats_to_json(stats: pd.Series | Mapping[str, Any]) -> dict[str, Any]:
    """A stats Series (or dict) as a JSON-safe ``{metric: value}`` dict.

    >>> stats_to_json({"sharpe": np.float64(1.25), "num_trades": np.int64(4)})
    {'sharpe': 1.25, 'num_trades': 4}
    """
    items = stats.items()
    return {str(k): jsonable(v) for k, v in items}
