"""The data folder stays live: what another server (sharing the data dir) uploads, or a file put
in ``<data_dir>/data`` by hand, is usable within seconds, without a restart.

Two real ``chatops-widget serve`` processes on one data dir (as behind Redis; the folder is what
they share here), real kernel clients, real worker pools.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from _support import free_port

from chatops_widget import ChatOpsClient, engine
from chatops_widget.server.backtest.data.watch import symbol_of

PARAMS = {"fast": 5, "slow": 20}


def bars(n: int, seed: int = 0) -> pd.DataFrame:
    idx = pd.bdate_range("2016-01-04", periods=n, name="Date")
    rng = np.random.default_rng(seed)
    close = 50 * np.exp(np.cumsum(rng.normal(0.0002, 0.012, n)))
    return pd.DataFrame(
        {"Open": close, "High": close * 1.01, "Low": close * 0.99, "Close": close,
         "Volume": np.full(n, 1000.0)},
        index=idx,
    )  # fmt: skip


def listed(client: ChatOpsClient) -> dict[str, dict]:
    return {s["symbol"]: s for s in client._runs.command("/data")["symbols"]}


def test_an_upload_to_one_server_is_used_by_another_sharing_the_data_dir(
    tmp_path, cli_server, wait_until
):
    token, data = "watch-token", tmp_path / "shared"
    ports = [free_port(), free_port()]
    for port in ports:
        cli_server(port, token, data)
    a = ChatOpsClient(f"http://127.0.0.1:{ports[0]}", token, timeout=60)
    b = ChatOpsClient(f"http://127.0.0.1:{ports[1]}", token, timeout=60)
    try:
        a.create_session("a")
        b.create_session("b")
        first = bars(700)
        assert a.upload_data("SHARED", first)["bars"] == 700
        wait_until(lambda: "SHARED" in listed(b), 15)
        assert listed(b)["SHARED"]["bars"] == 700
        run = b.trigger_backtest("sma_cross", symbol="SHARED", **PARAMS).result(60)
        local = engine.backtest(first, "sma_cross", PARAMS)
        assert run.stats["total_return"] == pytest.approx(local.stats["total_return"], rel=1e-9)

        # replaced on A: B's workers use the new bars, not the frame they cached
        second = bars(900, seed=1)
        assert a.upload_data("SHARED", second, overwrite=True)["overwritten"] is True
        wait_until(lambda: listed(b)["SHARED"]["bars"] == 900, 15)
        again = b.trigger_backtest("sma_cross", symbol="SHARED", **PARAMS).result(60)
        assert again.stats["bars"] == 900
        new_local = engine.backtest(second, "sma_cross", PARAMS)
        assert again.stats["total_return"] == pytest.approx(
            new_local.stats["total_return"], rel=1e-9
        )
    finally:
        a.close()
        b.close()


def test_a_file_put_in_the_data_folder_by_hand_appears_and_a_bad_one_is_skipped(
    tmp_path, cli_server, wait_until
):
    token, data, port = "watch-token", tmp_path / "dir", free_port()
    cli_server(port, token, data)
    folder = data / "data"
    folder.mkdir(parents=True, exist_ok=True)
    with ChatOpsClient(f"http://127.0.0.1:{port}", token, timeout=60) as c:
        c.create_session()
        (folder / "BROKEN.csv").write_text("Date,Open\n2020-01-01,not a number\n")
        bars(300).to_csv(folder / "handmade.csv")
        wait_until(lambda: "HANDMADE" in listed(c), 15)
        assert listed(c)["HANDMADE"]["bars"] == 300
        assert "BROKEN" not in listed(c)  # logged and skipped; the server keeps working
        run = c.trigger_backtest("sma_cross", symbol="handmade", **PARAMS).result(60)
        assert run.stats["bars"] == 300
        bars(250, seed=3).to_csv(folder / "BROKEN.csv")  # fixed: loaded once it changes
        wait_until(lambda: "BROKEN" in listed(c), 15)
        assert listed(c)["BROKEN"]["bars"] == 250


def test_symbol_of_names_only_data_files():
    assert symbol_of("myco.parquet") == "MYCO"
    assert symbol_of("GOOG.csv.gz") == "GOOG"
    assert symbol_of(".MYCO.parquet.123.tmp") is None  # an upload being written
    assert symbol_of("notes.txt") is None
    assert symbol_of("bad name!.csv") is None
