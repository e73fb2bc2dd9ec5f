"""Data upload end to end: a real server (worker pool, catalog, Parquet) and real kernel clients.

Upload -> /data lists it -> /run_backtest, /sweep, /create_strategy use it -> the session sees a
system message; bad uploads each get a clear error and nothing is lost; a restart keeps the
symbol; an overwritten symbol is what the workers use (not the frame they cached).
"""

from __future__ import annotations

import threading

import numpy as np
import pandas as pd
import pytest

from chatops_widget import engine
from chatops_widget._serialization import to_arrow_bytes
from chatops_widget.client import ChatOpsClient
from chatops_widget.client._upload import upload_request
from chatops_widget.protocol import MAX_UPLOAD_BYTES, ProtocolError
from chatops_widget.server import EmbeddedServer, standard_plugins

PARAMS = {"fast": 5, "slow": 20}


def bars(n: int = 1234, seed: int = 0, start: str = "2015-01-02") -> pd.DataFrame:
    idx = pd.bdate_range(start, periods=n, name="Date")
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0.0003, 0.015, n)))
    return pd.DataFrame(
        {
            "Open": close * (1 + rng.normal(0, 0.002, n)),
            "High": close * 1.01,
            "Low": close * 0.99,
            "Close": close,
            "Volume": rng.integers(1_000, 5_000, n).astype(float),
        },
        index=idx,
    )


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = EmbeddedServer(
        data_dir=tmp_path_factory.mktemp("upload-data"), plugins=standard_plugins(assistant=False)
    ).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def pair(server):
    """Two clients (A uploads, B watches) in one session."""
    a = ChatOpsClient(server.url, server.token, timeout=30)
    session = a.create_session()
    b = ChatOpsClient(server.url, server.token, session_id=session, timeout=30)
    yield a, b
    a.close()
    b.close()


def command(client: ChatOpsClient, text: str, timeout: float = 60.0) -> dict:
    """Run a command and return its commandResult (ok or not)."""
    done = threading.Event()
    got: list[dict] = []

    def on_result(r: dict) -> None:
        if r.get("command") == text and not got:
            got.append(r)
            done.set()

    client.on("commandResult", on_result)
    try:
        client.execute_command(text)
        assert done.wait(timeout), f"no commandResult for {text!r}"
    finally:
        client.off("commandResult", on_result)
    return got[0]


def symbols(client: ChatOpsClient) -> dict[str, dict]:
    res = command(client, "/data")
    assert res["ok"], res
    return {s["symbol"]: s for s in res["summary"]["symbols"]}


def system_messages(client: ChatOpsClient) -> list[str]:
    return [m["content"] for m in client.messages if m["role"] == "system"]


def test_upload_lists_runs_sweeps_and_everyone_sees_it(server, pair, wait_until):
    a, b = pair
    df = bars()
    ack = a.upload_data("myco", df)
    assert ack["ok"] and ack["symbol"] == "MYCO" and ack["bars"] == 1234
    assert (ack["start"], ack["end"], ack["frequency"]) == ("2015-01-02", "2019-09-25", "daily")
    assert ack["overwritten"] is False
    text = "uploaded symbol MYCO: 1,234 daily bars 2015-01-02..2019-09-25"
    assert text in ack["message"]["content"] and ack["message"]["role"] == "system"
    wait_until(lambda: any(text in m for m in system_messages(b)))  # the other member sees it
    assert (server.data_dir / "data" / "MYCO.parquet").is_file()

    listed = symbols(b)["MYCO"]
    assert (listed["bars"], listed["start"], listed["end"], listed["source"]) == (
        1234, "2015-01-02", "2019-09-25", "upload"
    )  # fmt: skip
    run = a.trigger_backtest("sma_cross", symbol="myco", **PARAMS).result(60)
    local = engine.backtest(df, "sma_cross", PARAMS)
    assert run.stats["total_return"] == pytest.approx(local.stats["total_return"], rel=1e-9)
    np.testing.assert_allclose(run.equity["equity"].to_numpy(), local.equity["equity"].to_numpy())
    table = a.sweep("sma_cross", "MYCO", fast=[5, 10], slow=[20, 40])
    assert len(table) == 4
    sid = a.create_strategy("ema_cross", "MYCO", name="mine", fast=8, slow=21)
    assert b.strategies.loc[sid, "symbol"] == "MYCO"
    assert command(a, f"/run_backtest {sid}")["summary"]["symbol"] == "MYCO"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda df: df.drop(columns="Close"), "missing column(s) Close"),
        (lambda df: df.assign(Close=df["Close"].where(df.index != df.index[7])), "NaN/inf Close"),
        (lambda df: df.iloc[[0, 2, 1, *range(3, len(df))]], "not sorted ascending (bar 2"),
        (lambda df: df.assign(Close="abc"), "column Close is not numeric"),
        (lambda df: df.reset_index(drop=True), "must be a DatetimeIndex"),
        (lambda df: df.assign(Low=-1.0), "non-positive Low"),
    ],
    ids=["missing-column", "nan", "unsorted", "text-prices", "no-dates", "negative"],
)
def test_bad_frames_are_refused_by_the_server_and_the_client(pair, change, expected):
    a, _b = pair
    bad = change(bars(50, seed=3))
    errors: list[dict] = []
    a.on("error", errors.append)
    try:
        payload = {"sessionId": a.current_session_id, "symbol": "BADDATA", "data": None}
        payload["data"] = to_arrow_bytes(bad)  # bypass the client's own check
        with pytest.raises(ProtocolError, match=expected.replace("(", r"\(").replace(")", r"\)")):
            a.call("uploadData", payload)
        with pytest.raises(ProtocolError, match="upload_data: "):  # the local check says the same
            a.upload_data("BADDATA", bad)
    finally:
        a.off("error", errors.append)
    assert "BADDATA" not in symbols(a)
    assert a.send_message("still here")["seq"] >= 1  # the session keeps working


def _call_error(client: ChatOpsClient, **fields) -> ProtocolError:
    payload = {"sessionId": client.current_session_id, "symbol": "GOODNAME"}
    payload.update(fields)
    with pytest.raises(ProtocolError) as info:
        client.call("uploadData", payload, timeout=60)
    return info.value


def test_bad_requests_get_clear_errors_and_nothing_changes(server, pair):
    a, _b = pair
    data = to_arrow_bytes(bars(30))
    before = symbols(a)
    err = _call_error(a, symbol="BAD SYMBOL!", data=data)
    assert "symbol 'BAD SYMBOL!' is not valid" in err.message and "e.g. 'GOOG'" in err.message
    err = _call_error(a, symbol="X" * 17, data=data)
    assert "1-16 letters" in err.message
    err = _call_error(a, data=b"\x80\x04\x95garbage pickle, never loaded")
    assert "not an Arrow IPC stream" in err.message and "to_arrow_bytes" in err.message
    err = _call_error(a, data="Date,Open\n2020-01-01,1")
    assert "'data' must be binary" in err.message
    err = _call_error(a, data=data, overwrite="yes")
    assert "'overwrite'" in err.message and "boolean" in err.message
    err = _call_error(a, data=[1, 2, 3])
    assert "'data' must be binary" in err.message and "got list" in err.message
    err = _call_error(a)
    assert "'data' is required" in err.message
    err = _call_error(a, data=data, extra=1)
    assert "unknown field 'extra'" in err.message
    err = _call_error(a, data=b"\0" * (MAX_UPLOAD_BYTES + 1))
    assert err.code.value == "too_large" and "the limit is 15 MB" in err.message
    huge = bars(330_000)  # ~15.1 MB as Arrow: too big for one message (upload_data streams it)
    with pytest.raises(ProtocolError, match=r"upload_data: HUGE is 15\.\d MB as Arrow"):
        upload_request(a.current_session_id, "HUGE", huge)
    err = _call_error(a, data=data, sessionId="session_not_joined")
    assert err.code.value == "not_joined"
    # an existing symbol (bundled sample) is not replaced without overwrite
    err = _call_error(a, symbol="alpha", data=data)
    assert "symbol ALPHA already exists" in err.message and "overwrite=true" in err.message
    assert err.code.value == "already_exists"
    with pytest.raises(ProtocolError, match="already exists"):
        a.upload_data("ALPHA", bars(30))
    with pytest.raises(ProtocolError, match="is not valid"):
        a.upload_data("no spaces please", bars(30))
    with pytest.raises(ProtocolError, match="expected a pandas DataFrame"):
        a.upload_data("LIST", [[1, 2, 3]])  # type: ignore[arg-type]
    assert symbols(a) == before  # nothing changed, ALPHA is still the bundled sample
    assert before["ALPHA"]["source"] == "bundled sample"
    assert a.send_message("after the bad uploads")["content"] == "after the bad uploads"


def test_overwrite_replaces_the_frame_the_workers_use(pair):
    a, _ = pair
    first = (bars(400, seed=11) * 4).round() / 4  # quarters: sums are exact in any order
    # same dates, same length and the same column sums (reversed prices): only the revision
    # in the worker cache key tells the two frames apart
    second = first.iloc[::-1].set_axis(first.index)
    assert first.to_numpy().sum(axis=0).tolist() == second.to_numpy().sum(axis=0).tolist()
    a.upload_data("SWAP", first)
    runs = [a.trigger_backtest("sma_cross", symbol="SWAP", **PARAMS) for _ in range(3)]
    old = [r.result(60).stats["total_return"] for r in runs]  # every worker caches `first`
    expected_old = engine.backtest(first, "sma_cross", PARAMS).stats["total_return"]
    assert old == pytest.approx([expected_old] * 3)
    with pytest.raises(ProtocolError, match="already exists"):
        a.upload_data("SWAP", second)
    ack = a.upload_data("SWAP", second, overwrite=True)
    assert ack["overwritten"] is True and "replacing the previous data" in ack["message"]["content"]
    expected_new = engine.backtest(second, "sma_cross", PARAMS).stats["total_return"]
    assert expected_new != pytest.approx(expected_old)
    runs = [a.trigger_backtest("sma_cross", symbol="SWAP", **PARAMS) for _ in range(3)]
    assert [r.result(60).stats["total_return"] for r in runs] == pytest.approx([expected_new] * 3)


def test_restart_on_the_same_data_dir_keeps_uploads(tmp_path):
    df = bars(300, seed=5, start="2018-03-01")
    srv = EmbeddedServer(data_dir=tmp_path, plugins=standard_plugins(assistant=False)).start()
    try:
        with ChatOpsClient(srv.url, srv.token, timeout=30) as c:
            c.create_session()
            c.upload_data("KEEPME", df)
    finally:
        srv.stop()
    again = EmbeddedServer(data_dir=tmp_path, plugins=standard_plugins(assistant=False)).start()
    try:
        with ChatOpsClient(again.url, again.token, timeout=30) as c:
            c.create_session()
            got = symbols(c)["KEEPME"]
            assert (got["bars"], got["start"], got["source"]) == (300, "2018-03-01", "upload")
            run = c.trigger_backtest("sma_cross", symbol="KEEPME", **PARAMS).result(60)
            local = engine.backtest(df, "sma_cross", PARAMS)
            assert run.stats["total_return"] == pytest.approx(local.stats["total_return"])
            with pytest.raises(ProtocolError, match="KEEPME already exists"):
                c.upload_data("KEEPME", df)
    finally:
        again.stop()


def _ipc(table) -> bytes:
    import pyarrow as pa

    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def test_plain_arrow_from_any_client_with_a_date_column(pair):
    """A non-Python client writes Arrow itself: a Date column (no pandas metadata) is fine,
    a dictionary-encoded column is refused with the types it should have."""
    import pyarrow as pa

    a, _ = pair
    df = bars(60, seed=9)
    cols = {c: pa.array(df[c].to_numpy()) for c in df.columns}
    table = pa.table({"date": pa.array(df.index.to_numpy()), **cols})
    ack = a.call("uploadData", {"sessionId": a.current_session_id, "symbol": "arrowjs",
                                "data": _ipc(table)})  # fmt: skip
    assert (ack["symbol"], ack["bars"], ack["start"]) == ("ARROWJS", 60, "2015-01-02")
    coded = table.set_column(4, "Close", pa.array(df["Close"].astype(str)).dictionary_encode())
    err = _call_error(a, symbol="CODED", data=_ipc(coded))
    assert "Close (dictionary<values=" in err.message and "plain numbers" in err.message
