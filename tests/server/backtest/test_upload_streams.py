"""Chunked uploads end to end: a frame bigger than one ``uploadData`` message, a server killed
mid-upload (the upload resumes; nothing half-written meanwhile), and hostile chunk input.

Real servers (embedded, and ``chatops-widget serve`` subprocesses for the kill) and real kernel
clients; the frames are generated here.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from chatops_widget import engine
from chatops_widget._serialization import to_arrow_bytes
from chatops_widget.client import ChatOpsClient
from chatops_widget.client._stream import new_upload_id, stream_upload
from chatops_widget.protocol import MAX_UPLOAD_BYTES, MAX_UPLOAD_CHUNK_BYTES, ProtocolError
from chatops_widget.server import EmbeddedServer, standard_plugins


def minute_bars(n: int, seed: int = 0) -> pd.DataFrame:
    idx = pd.date_range("2020-01-02 09:30", periods=n, freq="min", name="Date")
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.0005, n)))
    return pd.DataFrame(
        {"Open": close, "High": close * 1.001, "Low": close * 0.999, "Close": close,
         "Volume": np.full(n, 1000.0)},
        index=idx,
    )  # fmt: skip


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = EmbeddedServer(
        data_dir=tmp_path_factory.mktemp("stream-data"), plugins=standard_plugins(assistant=False)
    ).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def client(server):
    c = ChatOpsClient(server.url, server.token, timeout=60)
    c.create_session()
    yield c
    c.close()


def test_a_frame_bigger_than_one_message_goes_in_chunks_and_backtests(server, client):
    df = minute_bars(400_000)
    assert len(to_arrow_bytes(df)) > MAX_UPLOAD_BYTES  # too big for uploadData
    seen: list[tuple[int, int]] = []
    ack = client.upload_data("bigmin", df, progress=lambda got, total: seen.append((got, total)))
    assert ack["ok"] and (ack["symbol"], ack["bars"]) == ("BIGMIN", 400_000)
    assert ack["frequency"] and "uploaded symbol BIGMIN: 400,000" in ack["message"]["content"]
    total = seen[-1][1]
    sent = [got for got, _ in seen]
    assert sent[0] == 0 and sent[-1] == total and sent == sorted(sent) and len(sent) >= 5
    stored = pd.read_parquet(server.data_dir / "data" / "BIGMIN.parquet")
    assert len(stored) == 400_000
    np.testing.assert_allclose(stored["Close"].to_numpy(), df["Close"].to_numpy())
    staged = list((server.data_dir / "uploads").rglob("stream.arrow"))
    assert staged == []  # the staged bytes are gone once stored

    run = client.trigger_backtest("sma_cross", symbol="BIGMIN", fast=50, slow=200).result(120)
    local = engine.backtest(df, "sma_cross", {"fast": 50, "slow": 200})
    assert run.stats["total_return"] == pytest.approx(local.stats["total_return"], rel=1e-9)

    with pytest.raises(ProtocolError, match="already exists"):  # said at uploadStart
        client.upload_data("BIGMIN", df)
    again = client.upload_data("BIGMIN", df.iloc[:300_000].copy(), overwrite=True)
    assert again["bars"] == 300_000 and again["overwritten"] is True


def _start(client: ChatOpsClient, uid: str, symbol: str, size: int) -> dict:
    return client.call(
        "uploadStart",
        {"sessionId": client.current_session_id, "uploadId": uid, "symbol": symbol,
         "bytes": size},
    )  # fmt: skip


def _chunk(client: ChatOpsClient, uid: str, offset: int, data: bytes) -> dict:
    payload = {"sessionId": client.current_session_id, "uploadId": uid, "offset": offset}
    return client.call("uploadChunk", {**payload, "data": data})


def test_hostile_chunk_input_gets_clear_client_errors(server, client):
    data = to_arrow_bytes(minute_bars(2_000, seed=4))
    sid = client.current_session_id
    with pytest.raises(ProtocolError, match="no upload up_nothere00") as e:
        _chunk(client, "up_nothere00", 0, data[:100])
    assert e.value.code.value == "not_found"
    with pytest.raises(ProtocolError, match="upload id") as e:
        _start(client, "../../etc/passwd", "EVIL", 10)
    assert e.value.code.value in {"bad_argument", "bad_request"}

    uid = new_upload_id()
    assert _start(client, uid, "HOSTILE", len(data))["received"] == 0
    with pytest.raises(ProtocolError, match="skips bytes: the server has 0") as e:
        _chunk(client, uid, 1000, data[1000:2000])
    assert e.value.code.value == "bad_argument"
    assert _chunk(client, uid, 0, data[:1000])["received"] == 1000
    assert _chunk(client, uid, 500, data[500:1500])["received"] == 1500  # overlap: fine
    with pytest.raises(ProtocolError, match="go past the") as e:
        _chunk(client, uid, 1500, data[1500:] + b"x" * 10)
    assert e.value.code.value == "too_large"
    with pytest.raises(ProtocolError) as e:
        _chunk(client, uid, 1500, b"x" * (MAX_UPLOAD_CHUNK_BYTES + 1))
    assert e.value.code.value in {"too_large", "bad_argument", "bad_request"}
    with pytest.raises(ProtocolError, match="has 1,500 of"):
        client.call("uploadFinish", {"sessionId": sid, "uploadId": uid})
    with pytest.raises(ProtocolError, match="is HOSTILE of"):  # same id, other size
        _start(client, uid, "HOSTILE", len(data) + 1)
    with pytest.raises(ProtocolError):
        _chunk(client, uid, "0", data[:10])  # type: ignore[arg-type]

    # garbage bytes: refused as a whole at finish, nothing stored
    junk = new_upload_id()
    _start(client, junk, "JUNK", 5000)
    _chunk(client, junk, 0, os.urandom(5000))
    with pytest.raises(ProtocolError, match="not an Arrow IPC stream") as e:
        client.call("uploadFinish", {"sessionId": sid, "uploadId": junk})
    assert e.value.code.value == "bad_argument"
    assert not (server.data_dir / "data" / "JUNK.parquet").exists()
    assert client.call("uploadAbort", {"sessionId": sid, "uploadId": junk})["removed"] is True
    assert client.call("uploadAbort", {"sessionId": sid, "uploadId": uid})["removed"] is True
    assert not (server.data_dir / "uploads" / uid).exists()

    # another session cannot touch it
    mine = new_upload_id()
    _start(client, mine, "MINE", len(data))
    other = ChatOpsClient(server.url, server.token, timeout=30)
    try:
        other.create_session()
        with pytest.raises(ProtocolError, match="another session"):
            _chunk(other, mine, 0, data[:10])  # wrong session id for this upload
        with pytest.raises(ProtocolError) as e:  # not a member of the owner's session
            other.call("uploadChunk", {"sessionId": sid, "uploadId": mine, "offset": 0,
                                       "data": data[:10]})  # fmt: skip
        assert e.value.code.value == "not_joined"
    finally:
        other.close()
        client.call("uploadAbort", {"sessionId": sid, "uploadId": mine})


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_upload_cut_by_a_server_kill_resumes_and_nothing_is_half_written(
    cli_server, tmp_path: Path
):
    port, token = _free_port(), "stream-kill-token"
    data_dir = tmp_path / "data-dir"
    procs = [cli_server(port, token, data_dir)]
    df = minute_bars(60_000, seed=9)
    data = to_arrow_bytes(df)
    chunk = 256 * 1024  # many pieces, so the kill lands mid-upload
    client = ChatOpsClient(f"http://127.0.0.1:{port}", token, timeout=60)
    seen: list[int] = []
    checked: dict[str, object] = {}

    def progress(got: int, total: int) -> None:
        seen.append(got)
        if not checked and got >= 4 * chunk:
            os.killpg(procs[0].pid, signal.SIGKILL)  # the server dies mid-upload ...
            procs[0].wait(30)
            folder = data_dir / "data"
            checked["parquet"] = sorted(p.name for p in folder.glob("*KILLED*"))
            checked["tmp"] = sorted(p.name for p in folder.glob(".*.tmp"))
            procs[0] = cli_server(port, token, data_dir)  # ... and returns

    try:
        client.create_session()
        ack = stream_upload(client.call, client.current_session_id, "KILLED", data,
                            progress=progress, chunk_bytes=chunk)  # fmt: skip
    finally:
        client.close()
    assert checked == {"parquet": [], "tmp": []}  # nothing stored while the upload was cut
    assert ack["ok"] and ack["bars"] == 60_000
    assert seen == sorted(seen) and seen[-1] == len(data)  # it went on, never from 0 again
    stored = pd.read_parquet(data_dir / "data" / "KILLED.parquet")
    np.testing.assert_allclose(stored["Close"].to_numpy(), df["Close"].to_numpy())


def test_a_restart_keeps_staged_uploads_and_drops_stale_or_broken_ones(tmp_path: Path):
    data = to_arrow_bytes(minute_bars(3_000, seed=5))
    srv = EmbeddedServer(data_dir=tmp_path, plugins=standard_plugins(assistant=False)).start()
    uid = new_upload_id()
    try:
        c = ChatOpsClient(srv.url, srv.token, timeout=30)
        session = c.create_session()
        _start(c, uid, "STAGED", len(data))
        _chunk(c, uid, 0, data[:4096])
        c.close()
    finally:
        srv.stop()
    uploads = tmp_path / "uploads"
    (uploads / "up_brokenbroken").mkdir()  # cut before its meta.json was written
    old = uploads / "up_oldoldold1"
    old.mkdir()
    (old / "meta.json").write_text("{}")
    for p in (old / "meta.json", old):
        os.utime(p, (time.time() - 3 * 86400,) * 2)
    srv = EmbeddedServer(data_dir=tmp_path, plugins=standard_plugins(assistant=False)).start()
    try:
        c = ChatOpsClient(srv.url, srv.token, session_id=session, timeout=30)
        assert _start(c, uid, "STAGED", len(data))["received"] == 4096  # resumes, not from 0
        assert sorted(p.name for p in uploads.iterdir()) == [uid]
        ack = stream_upload(c.call, session, "STAGED", data, upload_id=uid)
        assert ack["bars"] == 3_000
        c.close()
    finally:
        srv.stop()
