"""DataFrames <-> Arrow IPC bytes keep index, dtypes and values; JSON helpers are JSON-safe."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from chatops_widget import engine
from chatops_widget._serialization import (
    from_arrow_bytes,
    from_json_table,
    jsonable,
    stats_to_json,
    to_arrow_bytes,
    to_json_table,
)


def test_engine_frames_round_trip_exactly():
    res = engine.backtest(engine.sample_catalog().get("ALPHA"), "sma_cross", {"fast": 5})
    for df in (res.equity, res.trades):
        back = from_arrow_bytes(to_arrow_bytes(df))
        pd.testing.assert_frame_equal(back, df, check_freq=False)
        assert list(back.dtypes) == list(df.dtypes)
    assert isinstance(from_arrow_bytes(to_arrow_bytes(res.equity)).index, pd.DatetimeIndex)


def test_mixed_dtypes_and_named_index_round_trip():
    idx = pd.date_range("2024-01-01", periods=4, freq="h", tz="UTC", name="t")
    df = pd.DataFrame(
        {
            "f": [1.5, np.nan, 3.0, -1.0],
            "i": np.arange(4, dtype="int32"),
            "b": [True, False, True, False],
            "s": ["a", "b", "c", "d"],
            "ts": pd.date_range("2020", periods=4),
        },
        index=idx,
    )
    back = from_arrow_bytes(to_arrow_bytes(df))
    pd.testing.assert_frame_equal(back, df, check_freq=False)
    assert back.index.tz is not None and back.index.name == "t"


def test_empty_frame_round_trips():
    df = pd.DataFrame({"x": pd.Series([], dtype="float64")})
    back = from_arrow_bytes(to_arrow_bytes(df))
    assert back.empty and list(back.columns) == ["x"]


def test_bad_input_is_explained():
    with pytest.raises(TypeError, match="DataFrame"):
        to_arrow_bytes([1, 2, 3])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="not an Arrow IPC stream"):
        from_arrow_bytes(b"not arrow at all")


def test_json_table_fallback_round_trips_values():
    idx = pd.date_range("2024-01-01", periods=3, name="Date")
    df = pd.DataFrame({"equity": [1.0, np.nan, 3.0], "n": [1, 2, 3]}, index=idx)
    payload = to_json_table(df)
    text = json.dumps(payload, allow_nan=False)  # strictly valid JSON
    back = from_json_table(json.loads(text))
    assert back.index.equals(df.index)
    assert back["equity"].isna().tolist() == [False, True, False]
    assert back["n"].tolist() == [1, 2, 3]


def test_jsonable_and_stats_are_strict_json():
    res = engine.backtest(engine.sample_catalog().get("BRAVO"), "buy_and_hold")
    stats = stats_to_json(res.stats)
    json.dumps(stats, allow_nan=False)
    assert stats_to_json(res.info)["start"].startswith("2015-01-02")
    assert stats["num_trades"] == res.stats["num_trades"]
    assert jsonable({"x": [np.float32(1.5), np.inf, pd.NaT, pd.Timedelta("1h")]}) == {
        "x": [1.5, None, None, 3600.0]
    }
