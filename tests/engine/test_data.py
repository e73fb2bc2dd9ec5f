"""Data validation and the catalog (bundled sample, folders, registered frames)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from chatops_widget.engine import (
    DataCatalog,
    DataError,
    UnknownSymbolError,
    backtest,
    catalog,
    sample_catalog,
    validate_ohlcv,
)
from chatops_widget.engine._sample import SAMPLE_PATH, make_sample, write_sample

from .conftest import make_ohlcv


def test_sample_is_bundled_deterministic_and_valid(tmp_path):
    cat = sample_catalog()
    assert cat.symbols() == ["ALPHA", "BRAVO", "CHARLIE", "DELTA", "ECHO"]
    info = cat.info()
    assert info.bars.tolist() == [2608] * 5
    assert info.start.iloc[0] == pd.Timestamp("2015-01-02")
    # regenerating gives the same bytes as the bundled file
    assert write_sample(tmp_path / "s.csv.gz").read_bytes() == SAMPLE_PATH.read_bytes()
    a = make_sample()
    assert np.allclose(a[a.Symbol == "ALPHA"].Close.to_numpy(), cat.get("ALPHA").Close)
    assert "ALPHA" in catalog and len(catalog.get("alpha")) == 2608


def test_get_date_range_and_unknown_symbol():
    cat = sample_catalog()
    df = cat.get("ALPHA", start="2020-01-01", end="2020-12-31")
    assert df.index[0] >= pd.Timestamp("2020-01-01")
    assert df.index[-1] == pd.Timestamp("2020-12-31")
    with pytest.raises(UnknownSymbolError, match="did you mean ALPHA"):
        cat.get("ALPHAA")
    with pytest.raises(DataError, match="no ALPHA bars between 1990-01-01 and 1990-02-01; data"):
        cat.get("ALPHA", start="1990-01-01", end="1990-02-01")
    with pytest.raises(DataError, match=r"no ALPHA bars from 2030-01-01 on; data covers 2015-"):
        cat.get("ALPHA", start="2030-01-01")
    with pytest.raises(DataError, match="only 1 bar up to 2015-01-02, a backtest needs 2"):
        cat.get("ALPHA", end="2015-01-02")


def test_folder_of_csv_and_parquet(tmp_path):
    df = make_ohlcv(np.linspace(10, 20, 50))
    df.rename(columns=str.lower).to_csv(tmp_path / "abc.csv", index_label="date")
    df.to_parquet(tmp_path / "XYZ.parquet")
    (tmp_path / "notes.txt").write_text("ignored")
    cat = DataCatalog()
    assert cat.add_folder(tmp_path) == ["ABC", "XYZ"]
    pd.testing.assert_frame_equal(
        cat.get("abc"), cat.get("XYZ"), check_names=False, check_freq=False
    )
    assert cat.info().source.tolist() == [str(tmp_path)] * 2
    (tmp_path / "BAD.csv").write_text("date,open,close\n2020-01-01,1,2\n2020-01-02,1,2\n")
    with pytest.raises(DataError, match=r"BAD.csv: missing column\(s\) High, Low"):
        DataCatalog().add_folder(tmp_path)
    with pytest.raises(DataError, match="does not exist"):
        cat.add_folder(tmp_path / "nope")


def test_register_and_backtest_registered():
    cat = DataCatalog()
    cat.register("mine", make_ohlcv(np.linspace(10, 20, 80)))
    assert cat.symbols() == ["MINE"]
    r = backtest(cat.get("MINE"), "buy_and_hold")
    assert r.stats["total_return"] > 0.5
    with pytest.raises(DataError, match="bad symbol"):
        cat.register("a b", make_ohlcv(np.ones(5)))


def _bad(df, fragment):
    with pytest.raises(DataError) as ei:
        validate_ohlcv(df, "X")
    assert fragment in str(ei.value)


def test_bad_data_messages():
    good = make_ohlcv(np.linspace(10, 20, 10))
    _bad(good.iloc[::-1], "not sorted ascending")
    _bad(pd.concat([good.iloc[:3], good.iloc[2:]]), "duplicate timestamp")
    _bad(good.drop(columns=["Close"]), "missing column(s) Close")
    nan = good.copy()
    nan.iloc[4, 3] = np.nan
    _bad(nan, "NaN/inf Close at 2020-01-05")
    neg = good.copy()
    neg.iloc[2, 0] = -1.0
    _bad(neg, "non-positive Open=-1.0")
    _bad(good.reset_index(drop=True), "must be a DatetimeIndex")
    _bad(good.iloc[:1], "at least 2 bars")
    _bad("nope", "expected a pandas DataFrame")
    txt = good.copy()
    txt["Open"] = "x"
    _bad(txt, "column Open is not numeric")


def test_columns_case_insensitive_volume_optional():
    df = make_ohlcv(np.linspace(10, 20, 10)).rename(columns=str.upper).drop(columns="VOLUME")
    out = validate_ohlcv(df)
    assert list(out.columns) == ["Open", "High", "Low", "Close", "Volume"]
    assert (out.Volume == 0).all()
