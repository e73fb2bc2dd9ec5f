"""The panel's big CSV uploads (``upload_part`` messages) against the real embedded server.

The widget's comm is recorded (``publish_msg``) as in ``test_widget_kernel.py``; the parts are
built the way the panel builds them (js/src/panel/uploadparts.js): byte slices of the file, each
decoded with one incremental UTF-8 decoder, so a character may be split between two slices.
"""

from __future__ import annotations

import codecs
import json
import os
import pathlib
import tempfile
import threading
import time
import uuid

import numpy as np
import pandas as pd
import pytest

from chatops_widget import engine
from chatops_widget.client import ChatOpsClient
from chatops_widget.protocol import MAX_UPLOAD_BYTES
from chatops_widget.widget import ChatOpsWidget
from chatops_widget.widget import _sync as sync
from chatops_widget.widget import _upload_parts as _up
from chatops_widget.widget._upload_parts import PartUploads

PART = sync.PANEL_PART_BYTES  # the panel's part size (limit("maxPanelPartBytes"))


class Recorder:
    """The custom messages the widget sends (thread-safe)."""

    def __init__(self, widget: ChatOpsWidget) -> None:
        self.items: list[dict] = []
        self.lock = threading.Lock()

        def publish(msg_type, data=None, metadata=None, buffers=None, **keys):
            if isinstance(data, dict) and data.get("method") == "custom":
                json.dumps(data)  # what travels must be JSON
                with self.lock:
                    self.items.append(data["content"])

        widget.comm.publish_msg = publish

    def of(self, kind: str) -> list[dict]:
        with self.lock:
            return [m for m in self.items if m.get("type") == kind]

    def wait(self, pred, timeout: float = 60.0, what: str = "message") -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                for m in self.items:
                    if pred(m):
                        return m
            time.sleep(0.05)
        raise AssertionError(f"no {what} within {timeout} s; got {self.of('notice')}")


def panel_parts(raw: bytes, name: str, upload_id: str, part: int = PART) -> list[dict]:
    """The ``upload_part`` messages the panel sends for a file of bytes ``raw``."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    starts = range(0, max(len(raw), 1), part)
    return [
        {"type": "upload_part", "uploadId": upload_id, "name": name, "size": len(raw),
         "index": i, "last": s + part >= len(raw),
         "data": decoder.decode(raw[s : s + part], final=s + part >= len(raw))}
        for i, s in enumerate(starts)
    ]  # fmt: skip


def temp_files() -> set[str]:
    return {str(p) for p in pathlib.Path(tempfile.gettempdir()).glob("chatops-upload-*")}


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    before = os.environ.get("CHATOPS_DATA_DIR")
    os.environ["CHATOPS_DATA_DIR"] = str(tmp_path_factory.mktemp("widget-data"))
    try:
        c = ChatOpsClient()
    finally:
        if before is None:
            os.environ.pop("CHATOPS_DATA_DIR", None)
        else:
            os.environ["CHATOPS_DATA_DIR"] = before
    yield c
    c.close()


@pytest.fixture()
def widget(client):
    w = ChatOpsWidget(client=client)
    w.create_session()
    yield w, Recorder(w)
    w.close()


def minute_bars(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 1e-3, n)))
    idx = pd.date_range("2020-01-01 09:30", periods=n, freq="min", name="Date")
    return pd.DataFrame(
        {"Open": close, "High": close * 1.001, "Low": close * 0.999, "Close": close,
         "Volume": rng.integers(100, 10_000, n).astype(float)},
        index=idx,
    )  # fmt: skip


def test_a_csv_over_15_mib_in_parts_is_stored_and_backtests(widget, client):
    w, rec = widget
    df = minute_bars(400_000)
    raw = df.to_csv().encode()
    assert len(raw) > 2 * PART and len(df) * 6 * 8 > MAX_UPLOAD_BYTES  # streamed to the server
    sym = f"P{uuid.uuid4().hex[:6].upper()}"
    uid = "up_test_1"
    before = temp_files()
    parts = panel_parts(raw, f"{sym.lower()}.csv", uid)
    for p in parts:
        w._on_frontend(w, p)
    note = rec.wait(lambda m: m.get("type") == "notice" and f"{sym.lower()}.csv" in m["text"], 180)
    assert note["level"] == "info", note
    assert f"400000 bars as symbol {sym}" in note["text"]
    done = rec.wait(lambda m: m.get("type") == "upload_progress" and m["stage"] == "done", 30)
    progress = [m for m in rec.of("upload_progress") if m["uploadId"] == uid]
    sending = [m for m in progress if m["stage"] == "sending"]
    assert [m["done"] for m in sending] == [
        min((i + 1) * PART, len(raw)) for i in range(len(parts))
    ]
    assert all(m["total"] == len(raw) and m["name"] == f"{sym.lower()}.csv" for m in sending)
    storing = [m for m in progress if m["stage"] == "storing" and m["done"] > 0]
    assert len(storing) >= 2  # kernel -> server in chunks, each one reported
    assert storing[-1]["done"] == storing[-1]["total"] > MAX_UPLOAD_BYTES
    assert progress[-1] == done and done["done"] == done["total"] == len(raw)
    assert temp_files() <= before  # the assembled file is gone
    # the server has it, bar for bar, and commands run on it
    run = client.trigger_backtest("sma_cross", symbol=sym, fast=20, slow=100).result(120)
    local = engine.backtest(w.uploads[sym], "sma_cross", {"fast": 20, "slow": 100})
    assert run.stats["total_return"] == pytest.approx(local.stats["total_return"])
    assert len(w.uploads[sym]) == 400_000
    assert w.uploads[sym]["Close"].to_numpy() == pytest.approx(df["Close"].to_numpy())


def test_split_utf8_and_bad_parts_get_clear_answers(widget):
    w, rec = widget
    # a character split between two parts arrives whole (a bad file then: the CSV is checked)
    raw = ("date,é\n" + "2020-01-02,€\n" * 10).encode()
    parts = panel_parts(raw, "ütf.csv", "up_utf", part=5)
    assert any(
        "\ufffd" in codecs.decode(raw[s : s + 5], "utf-8", "replace") for s in range(0, len(raw), 5)
    )
    for p in parts:
        w._on_frontend(w, p)
    note = rec.wait(lambda m: m.get("type") == "notice" and "ütf.csv" in m["text"], 30)
    assert "missing column(s) open, high, low, close, volume" in note["text"]
    assert "é" in note["text"]  # the header decoded whole
    failed = rec.wait(lambda m: m.get("type") == "upload_progress" and m["uploadId"] == "up_utf"
                      and m["stage"] == "failed", 30)  # fmt: skip
    assert failed["done"] == len(raw)
    # a duplicate part: refused, and the upload's later parts are dropped without more notices
    dup = {"type": "upload_part", "uploadId": "up_dup", "name": "dup.csv", "size": 30,
           "index": 0, "last": False, "data": "date,open\n"}  # fmt: skip
    w._on_frontend(w, dup)
    w._on_frontend(w, dup)
    w._on_frontend(w, {**dup, "index": 1, "last": True, "data": "y"})
    dups = [m for m in rec.of("notice") if "dup.csv" in m["text"]]
    assert len(dups) == 1 and "part 0 arrived twice" in dups[0]["text"], dups
    assert "up_dup" not in w._parts.open
    # no text data, no upload id: said so
    w._on_frontend(w, {"type": "upload_part", "uploadId": "up_nodata", "name": "n.csv",
                       "index": 0, "last": True, "data": 5})  # fmt: skip
    w._on_frontend(w, {"type": "upload_part", "name": "noid.csv", "index": 0, "data": "a"})
    texts = [m["text"] for m in rec.of("notice")]
    assert any("n.csv: a part without text data" in t for t in texts)
    assert any("noid.csv: a part without an uploadId" in t for t in texts)


def test_parts_out_of_order_are_put_back_in_order(widget, client):
    """Parts reordered on the way (a busy page or kernel) still make the file, byte for byte."""
    w, rec = widget
    df = minute_bars(3_000)
    raw = df.to_csv().encode()
    sym = f"R{uuid.uuid4().hex[:6].upper()}"
    parts = panel_parts(raw, f"{sym.lower()}.csv", "up_shuffled", part=len(raw) // 7 + 1)
    assert len(parts) == 7
    order = [1, 0, 3, 6, 2, 5, 4]  # the last part comes before two others
    for i in order:
        w._on_frontend(w, parts[i])
    note = rec.wait(lambda m: m.get("type") == "notice" and f"{sym.lower()}.csv" in m["text"], 60)
    assert note["level"] == "info" and f"3000 bars as symbol {sym}" in note["text"], note
    sending = [m["done"] for m in rec.of("upload_progress")
               if m["uploadId"] == "up_shuffled" and m["stage"] == "sending"]  # fmt: skip
    sizes = [len(parts[i]["data"].encode()) for i in order]
    assert sending == list(np.cumsum(sizes))  # bytes arrived, early ones included
    assert sending[-1] == len(raw)
    pd.testing.assert_frame_equal(
        w.uploads[sym][["Open", "Close"]], df[["Open", "Close"]], check_names=False,
        check_freq=False, check_index_type=False,
    )  # fmt: skip


def test_misplaced_parts_get_clear_answers():
    posted: list[dict] = []
    notices: list[str] = []
    parts = PartUploads(posted.append, limit=1000)

    def part(uid: str, index, last=False, data="x"):
        parts.receive({"uploadId": uid, "name": f"{uid}.csv", "size": 10, "index": index,
                       "last": last, "data": data}, notices.append)  # fmt: skip

    part("late", 0)
    part("late", 1, last=True)
    assert "late" not in parts.open  # complete: handed on
    part("after", 0)
    part("after", 2, last=True)
    part("after", 3)
    assert notices[-1] == (
        "upload after.csv: part 3 arrived after the last one (was the panel reloaded? upload again)"
    )
    part("far", 0)
    part("far", 2 + _up.MAX_EARLY_PARTS)
    assert "more than 16 parts out of order" in notices[-1] and "far" not in parts.open
    part("neg", -1)
    part("flag", True)
    assert "part index -1 is not a whole number" in notices[-2]
    assert "part index True is not a whole number" in notices[-1]
    part("bad", 0, data="\ud800")
    assert "upload bad.csv: part 0 is not valid text" in notices[-1]
    assert not parts.open


def test_a_stale_upload_gives_its_place_up(monkeypatch):
    posted: list[dict] = []
    notices: list[str] = []
    parts = PartUploads(posted.append)
    for k in range(_up.MAX_OPEN_UPLOADS):  # each waits for its part 0 that never comes
        parts.receive({"uploadId": f"s{k}", "name": f"s{k}.csv", "size": 10, "index": 1,
                       "data": "x"}, notices.append)  # fmt: skip
    fresh = {"uploadId": "new", "name": "new.csv", "size": 10, "index": 0, "data": "x"}
    parts.receive(fresh, notices.append)
    assert "4 uploads are already in progress" in notices[-1] and "new" not in parts.open
    later = time.monotonic() + _up.STALE_SECONDS + 1
    monkeypatch.setattr(_up.time, "monotonic", lambda: later)
    parts.receive({**fresh, "uploadId": "new2"}, notices.append)
    assert "new2" in parts.open and len(parts.open) == 1
    assert sum("no part arrived for 60 s" in n for n in notices) == _up.MAX_OPEN_UPLOADS
    parts.close()


def test_over_the_cap_stops_with_a_notice_and_no_temp_file():
    posted: list[dict] = []
    notices: list[str] = []
    parts = PartUploads(posted.append, limit=10)
    before = temp_files()
    # announced too big: refused at once
    parts.receive({"uploadId": "a", "name": "a.csv", "size": 11, "index": 0, "data": "x"},
                  notices.append)  # fmt: skip
    assert "over the" in notices[-1] and "server's data folder" in notices[-1]
    # bigger than announced: stopped when the parts pass the cap
    parts.receive({"uploadId": "b", "name": "b.csv", "size": 4, "index": 0, "data": "12345678"},
                  notices.append)  # fmt: skip
    assert "b" in parts.open
    parts.receive({"uploadId": "b", "name": "b.csv", "size": 4, "index": 1, "data": "123"},
                  notices.append)  # fmt: skip
    assert "upload b.csv: over the" in notices[-1] and "b" not in parts.open
    assert [m["stage"] for m in posted] == ["failed", "sending", "failed"]
    assert temp_files() <= before
