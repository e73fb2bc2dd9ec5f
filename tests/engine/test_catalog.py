"""The lazy catalog: files listed from their metadata, bars read when used, an LRU byte budget.

To prove what is *not* read, the tests overwrite a Parquet file's column chunks with garbage
and keep its footer: whatever still works never touched those bytes.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from chatops_widget.engine import DataCatalog, DataError, DataRef, backtest


def _bars(n: int, seed: int = 1, start: str = "2020-01-01") -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.001, n)))
    idx = pd.date_range(start, periods=n, freq="min", name="Date")
    return pd.DataFrame(
        {"Open": close, "High": close * 1.001, "Low": close * 0.999, "Close": close,
         "Volume": 1.0},
        index=idx,
    )  # fmt: skip


def _write(path: Path, df: pd.DataFrame, rows: int = 1_000) -> Path:
    df.to_parquet(path, row_group_size=rows)
    return path


def _garble(path: Path, keep=lambda group, column: False) -> None:
    """Overwrite every column chunk with 0xFF bytes except those ``keep(group, name)`` spares."""
    md = pq.ParquetFile(path).metadata
    data = bytearray(path.read_bytes())
    for g in range(md.num_row_groups):
        for c in range(md.num_columns):
            col = md.row_group(g).column(c)
            if keep(g, col.path_in_schema):
                continue
            start = col.dictionary_page_offset or col.data_page_offset
            data[start : start + col.total_compressed_size] = b"\xff" * col.total_compressed_size
    path.write_bytes(bytes(data))


def test_listing_a_folder_reads_no_bars(tmp_path):
    for i, sym in enumerate(["AAA", "BBB", "CCC"]):
        _write(tmp_path / f"{sym}.parquet", _bars(5_000, seed=i))
    for sym in ["AAA", "BBB", "CCC"]:
        _garble(tmp_path / f"{sym}.parquet")  # only the footers are intact
    cat = DataCatalog()
    assert cat.add_folder(tmp_path) == ["AAA", "BBB", "CCC"]
    info = cat.info()
    assert info.bars.tolist() == [5_000] * 3
    assert info.start.tolist() == [pd.Timestamp("2020-01-01")] * 3
    assert info.end.tolist() == [pd.Timestamp("2020-01-01") + pd.Timedelta(minutes=4_999)] * 3
    assert cat.cache.info()["misses"] == 0  # nothing was asked of the bars
    with pytest.raises(DataError, match=r"AAA\.parquet: cannot read as Parquet"):
        cat.get("AAA")  # the bars are read only now (and these are garbage)


def test_a_date_range_reads_only_its_row_groups(tmp_path):
    df = _bars(10_000)
    path = _write(tmp_path / "X.parquet", df)  # 10 row groups of 1,000 bars
    _garble(path, keep=lambda group, column: group == 3)
    cat = DataCatalog()
    cat.add_file(path)
    lo, hi = df.index[3_100], df.index[3_900]
    part = cat.get("X", lo, hi)
    pd.testing.assert_frame_equal(part, df.loc[lo:hi], check_names=False, check_freq=False)
    assert part.attrs["symbol"] == "X"
    with pytest.raises(DataError, match=r"X\.parquet: cannot read"):
        cat.get("X", df.index[5_000], df.index[5_010])  # another row group: garbage


def test_the_index_of_a_range_is_read_from_the_time_column_alone(tmp_path):
    df = _bars(4_000)
    path = _write(tmp_path / "T.parquet", df)
    _garble(path, keep=lambda group, column: column == "Date")
    cat = DataCatalog()
    cat.add_file(path)
    idx = cat.index("T", "2020-01-01 10:00", "2020-01-02 00:00")
    assert idx[0] == pd.Timestamp("2020-01-01 10:00") and len(idx) == 14 * 60 + 1
    assert len(cat.index("T")) == 4_000
    covers = r"no T bars between 2021-01-01 and 2021-01-01; data covers 2020-01-01\.\.2020-01-03"
    with pytest.raises(DataError, match=covers):
        cat.index("T", "2021-01-01", "2021-01-01")


def test_the_lru_keeps_its_budget_drops_the_oldest_and_reads_it_again(tmp_path):
    frames = {s: _bars(20_000, seed=i) for i, s in enumerate(["A", "B", "C"])}
    for s, df in frames.items():
        _write(tmp_path / f"{s}.parquet", df, rows=5_000)
    one = int(frames["A"].memory_usage(index=True).sum())  # 960 kB
    cat = DataCatalog(cache_bytes=int(2.5 * one))  # room for two frames
    cat.add_folder(tmp_path)
    for s in ["A", "B", "A", "C"]:  # C pushes out B (A was used more recently)
        pd.testing.assert_frame_equal(cat.get(s), frames[s], check_names=False, check_freq=False)
    info = cat.cache.info()
    assert info["items"] == 2 and info["bytes"] <= info["budget"] and info["evictions"] == 1
    assert (info["hits"], info["misses"]) == (1, 3)
    (tmp_path / "B.parquet").unlink()  # B was dropped: reading it again needs the file
    with pytest.raises(DataError, match=r"B\.parquet: cannot read"):
        cat.get("B")
    cat.get("A")
    assert cat.cache.info()["hits"] == 2  # A stayed


def test_a_frame_bigger_than_the_budget_is_read_each_time_and_never_kept(tmp_path):
    df = _bars(5_000)
    _write(tmp_path / "BIG.parquet", df)
    cat = DataCatalog(cache_bytes=10_000)
    cat.add_folder(tmp_path)
    assert len(cat.get("BIG")) == len(cat.get("BIG")) == 5_000
    assert cat.cache.info()["bytes"] == 0


def test_csv_files_are_listed_by_name_and_read_on_first_use(tmp_path):
    df = _bars(300)
    df.rename(columns=str.lower).to_csv(tmp_path / "abc.csv", index_label="date")
    cat = DataCatalog()
    assert cat.add_folder(tmp_path) == ["ABC"]
    assert cat.cache.info()["misses"] == 0
    assert cat.info().bars.tolist() == [300]  # a CSV has no footer: info() reads it
    assert len(cat.get("ABC", "2020-01-01 01:00", "2020-01-01 01:59")) == 60


def test_a_data_ref_is_small_and_reads_the_file_where_it_is_loaded(tmp_path):
    df = _bars(50_000)
    path = _write(tmp_path / "R.parquet", df, rows=10_000)
    cat = DataCatalog()
    cat.add_file(path, "R")
    ref = cat.ref("R", "2020-01-02", "2020-01-03")
    assert isinstance(ref, DataRef) and len(pickle.dumps(ref)) < 600
    got = pickle.loads(pickle.dumps(ref)).load()
    pd.testing.assert_frame_equal(
        got, df.loc["2020-01-02":"2020-01-03"], check_names=False, check_freq=False
    )
    r = backtest(got, "sma_cross")
    assert r.symbol == "R"
    _write(path, _bars(50_000, seed=9), rows=10_000)  # replaced: the next load sees new bars
    again = cat.ref("R").load()
    assert not np.allclose(again.Close.to_numpy(), df.Close.to_numpy())
    mem = DataCatalog()  # a frame held in memory has no ref
    mem.register("M", df)
    assert mem.ref("M") is None


def test_probe_errors_name_the_file(tmp_path):
    (tmp_path / "BAD.csv").write_text("date,open,close\n2020-01-01,1,2\n2020-01-02,1,2\n")
    with pytest.raises(DataError, match=r"BAD.csv: missing column\(s\) High, Low"):
        DataCatalog().add_folder(tmp_path)
    (tmp_path / "BAD.csv").unlink()
    (tmp_path / "NOTIME.parquet").write_bytes(b"")
    pd.DataFrame({"Open": [1.0], "High": [1.0], "Low": [1.0], "Close": [1.0]}).to_parquet(
        tmp_path / "NOTIME.parquet"
    )
    with pytest.raises(DataError, match=r"NOTIME\.parquet: no time column"):
        DataCatalog().add_folder(tmp_path)
    (tmp_path / "NOTIME.parquet").write_bytes(b"not parquet")
    with pytest.raises(DataError, match=r"NOTIME\.parquet: cannot read as Parquet"):
        DataCatalog().add_folder(tmp_path)
