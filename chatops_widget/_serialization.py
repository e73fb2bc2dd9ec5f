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
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

__all__ = [
    "to_arrow_bytes",
    "from_arrow_bytes",
    "to_json_table",
    "from_json_table",
    "jsonable",
    "stats_to_json",
]


def to_arrow_bytes(df: pd.DataFrame) -> bytes:
    """Encode a DataFrame (index included) as Arrow IPC stream bytes.

    >>> len(to_arrow_bytes(pd.DataFrame({"x": [1, 2, 3]}))) > 0
    True
    """
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"to_arrow_bytes expects a pandas DataFrame, got {type(df).__name__}")
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
