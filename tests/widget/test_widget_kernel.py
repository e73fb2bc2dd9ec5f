"""The widget's kernel side against the real embedded server and a real client.

The widget's comm is recorded (``publish_msg``), so each test sees exactly what would travel to
the front end: the one-time history, single appends, progress, results, notices.
"""

from __future__ import annotations

import inspect
import json
import os
import pathlib
import re
import threading
import time
import uuid

import numpy as np
import pandas as pd
import pytest
import traitlets

from chatops_widget import engine
from chatops_widget.client import ChatOpsClient
from chatops_widget.widget import ChatOpsWidget
from chatops_widget.widget import _strategies as listing
from chatops_widget.widget import _sync as sync


class Recorder:
    """Collects the custom messages a widget sends (thread-safe)."""

    def __init__(self, widget: ChatOpsWidget) -> None:
        self.items: list[dict] = []
        self.sizes: list[int] = []
        self.states: list[tuple[int, dict]] = []  # (len(items) then, state) of each update
        self.lock = threading.Lock()
        self.widget = widget

        def publish(msg_type, data=None, metadata=None, buffers=None, **keys):
            if isinstance(data, dict) and data.get("method") == "custom":
                with self.lock:
                    self.items.append(data["content"])
                    self.sizes.append(len(json.dumps(data, separators=(",", ":"))))
            elif isinstance(data, dict) and data.get("method") == "update":
                with self.lock:
                    self.states.append((len(self.items), data.get("state") or {}))

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
            time.sleep(0.02)
        raise AssertionError(
            f"no {what} within {timeout} s; got {[m.get('type') for m in self.items]}"
        )


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    # the embedded server keeps uploads in its data dir: a temporary one, not the user's
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


def test_ready_gets_the_whole_state_again_before_the_history(widget):
    # a page that loads the widget from a running kernel (Voila, a reloaded Lab tab) drops the
    # updates sent between its snapshot of the state and its model's creation; its "ready"
    # (sent once the model listens) gets them all again, before the history
    w, rec = widget
    w.send_message("before the view")
    w._on_frontend(w, {"type": "ready", "clientId": "late-view"})
    (hist,) = rec.of("history")
    with rec.lock:
        full = [(at, st) for at, st in rec.states if "constants" in st]
    assert full, "no state sent on ready"
    at, state = full[0]
    assert at <= rec.items.index(hist)  # the state first: cards drawn then are labelled
    stats = {s["name"]: s for s in state["constants"]["stats"]}
    assert stats["total_return"]["label"] == "Total return"  # the engine's part, not the light
    assert state["connected"] is True and state["session_id"] == w.session_id
    assert "run_backtest" in {c["name"] for c in state["commands"]}
    assert "_esm" not in state and "_css" not in state  # not the bundle again


def test_history_once_then_one_message_per_append(widget):
    w, rec = widget
    for i in range(3):
        w.send_message(f"hello {i}")
    w._on_frontend(w, {"type": "ready", "clientId": "view-1"})
    (hist,) = rec.of("history")
    assert hist["to"] == "view-1" and hist["reset"] is True
    assert [m["content"] for m in hist["messages"] if m["role"] == "user"] == [
        "hello 0",
        "hello 1",
        "hello 2",
    ]
    n_before = len(rec.items)
    w.send_message("one more")
    appended = rec.wait(
        lambda m: m.get("type") == "message" and m["message"]["content"] == "one more"
    )
    assert set(appended) == {"type", "message"}  # only the new message, no history
    assert len(rec.of("history")) == 1
    assert len(rec.items) >= n_before + 1
    assert w.session_id == w.client.current_session_id
    assert w.connected is True and w.reconnect_attempt == 0
    names = {c["name"] for c in w.commands}
    assert {"help", "run_backtest", "compare_strategies", "sweep"} <= names
    assert any(s["id"] == "strategy_1" for s in w.strategies)
    assert any(t["name"] == "sma_cross" for t in w.templates)


def test_two_widgets_one_client_and_another_session(client, widget):
    w1, rec1 = widget
    w2 = ChatOpsWidget(client=client)
    rec2 = Recorder(w2)
    other = ChatOpsWidget(client=ChatOpsClient(url=client.url, token=client.token))
    rec3 = Recorder(other)
    try:
        assert other.session_id and other.session_id != w1.session_id
        w1._on_frontend(w1, {"type": "send", "text": "shared"})
        for rec in (rec1, rec2):
            rec.wait(lambda m: m.get("type") == "message" and m["message"]["content"] == "shared")
        other.send_message("elsewhere")
        rec3.wait(lambda m: m.get("type") == "message" and m["message"]["content"] == "elsewhere")
        time.sleep(0.3)
        assert not [m for m in rec3.of("message") if m["message"]["content"] == "shared"]
        assert not [m for m in rec1.of("message") if m["message"]["content"] == "elsewhere"]
    finally:
        w2.close()
        other.close()


def test_session_switch_from_the_panel(widget):
    w, rec = widget
    first = w.session_id
    w.send_message("in the first session")
    w._on_frontend(w, {"type": "session", "action": "create"})
    reset = rec.wait(lambda m: m.get("type") == "history" and m.get("to") is None, 20, "reset")
    assert reset["messages"] == [] and reset["reset"] is True
    assert w.session_id != first
    w._on_frontend(w, {"type": "session", "action": "join", "id": first})
    back = rec.wait(
        lambda m: (
            m.get("type") == "history"
            and any(x["content"] == "in the first session" for x in m["messages"])
        ),
        20,
        "history of the first session",
    )
    assert back["to"] is None and w.session_id == first
    w._on_frontend(w, {"type": "session", "action": "join", "id": "not a session"})
    note = rec.wait(lambda m: m.get("type") == "notice", 20, "notice")
    assert "session join" in note["text"] and "session_" in note["text"]
    assert w.session_id == first


def test_run_backtest_progress_result_and_dataframes(widget):
    w, rec = widget
    w._on_frontend(w, {"type": "send", "text": "/run_backtest strategy_1"})
    result = rec.wait(lambda m: m.get("type") == "result", 120, "result")
    run_id = result["runId"]
    progress = [m for m in rec.of("progress") if m["runId"] == run_id]
    assert progress[-1]["progress"] == 100 and progress[-1]["status"] == "completed"
    assert result["kind"] == "backtest" and result["strategyId"] == "strategy_1"
    assert "total_return" in result["stats"] and "sharpe" in result["stats"]
    series = result["series"]
    assert len(series["t"]) == len(series["equity"]) == len(series["drawdown"]) <= 1000
    assert len(series["position"]) == len(series["t"])  # for the chart's hover readout
    assert 0 < result["engineSeconds"] < 60  # the engine's own time, shown on the card
    markers = result["trades"]  # entries and exits for the equity chart
    assert markers["total"] == len(markers["entry"]) == len(markers["exit"]) > 0
    assert series["t"][0] <= min(markers["entry"]) <= max(markers["exit"]) <= series["t"][-1]

    # sent as the result was stored (resultReady), not again on its commandResult; the card's
    # "copy as code" knows the command from the stored result
    def reply(m: dict) -> bool:
        meta = m["message"].get("metadata") or {} if m.get("type") == "message" else {}
        return (meta.get("commandResult") or {}).get("runId") == run_id

    rec.wait(reply, 30, "the reply")
    time.sleep(0.2)
    assert [m["runId"] for m in rec.of("result")].count(run_id) == 1
    assert result["code"].startswith("client.trigger_backtest('strategy_1'")
    # the panel drew from the kernel's copy: client.results has it without a second fetch
    tracker, calls = w.client._runs, []
    assert tracker.cached(run_id) is not None
    real_call = w.client.call
    w.client.call = lambda event, *a, **k: calls.append(event) or real_call(event, *a, **k)
    try:
        full = w.results[run_id].equity
        assert w.client.results[run_id] is tracker.cached(run_id)
    finally:
        del w.client.call
    assert "getResult" not in calls and full is tracker.cached(run_id).equity
    assert isinstance(full, pd.DataFrame) and len(full) == result["totalPoints"]
    assert result["points"] == len(series["t"])
    # the chart keeps the curve's extremes
    assert max(series["equity"]) == pytest.approx(full["equity"].max(), rel=1e-6)
    assert min(series["drawdown"]) == pytest.approx(full["drawdown"].min(), abs=1e-6)
    # a bad command gets one clear notice, and the session keeps working
    w._on_frontend(w, {"type": "send", "text": "/run_backtest no_such_strategy"})
    note = rec.wait(lambda m: m.get("type") == "notice", 30, "notice")
    assert "no_such_strategy" in note["text"]


def test_upload_csv_strategy_and_bad_files(widget):
    w, rec = widget
    idx = pd.date_range("2021-01-01", periods=50, freq="D")
    close = np.linspace(10, 20, 50)
    df = pd.DataFrame(
        {"Open": close, "High": close + 1, "Low": close - 1, "Close": close, "Volume": 1000},
        index=idx,
    )
    w._on_frontend(
        w, {"type": "upload", "name": "mysym.csv", "kind": "csv", "content": df.to_csv()}
    )
    note = rec.wait(lambda m: m.get("type") == "notice", 20, "upload notice")
    assert "MYSYM" in note["text"] and "50 bars" in note["text"]
    assert w.uploads["MYSYM"]["Close"].tolist() == close.tolist()
    bad = "Date,Open,Close\n2021-01-01,1,2\n"
    w._on_frontend(w, {"type": "upload", "name": "bad.csv", "kind": "csv", "content": bad})
    note = rec.wait(lambda m: m.get("type") == "notice" and "bad.csv" in m["text"], 20)
    assert "missing column(s) high, low, volume" in note["text"]
    spec = {"template": "sma_cross", "symbol": w.strategies[0]["symbol"], "params": {"fast": 7}}
    n = len(w.strategies)
    w._on_frontend(
        w, {"type": "upload", "name": "s.json", "kind": "strategy", "content": json.dumps(spec)}
    )
    deadline = time.monotonic() + 20
    while len(w.strategies) == n and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(w.strategies) == n + 1 and w.strategies[-1]["params"]["fast"] == 7
    w._on_frontend(w, {"type": "upload", "name": "x.json", "kind": "strategy", "content": "{"})
    note = rec.wait(lambda m: m.get("type") == "notice" and "x.json" in m["text"], 20)
    assert "not valid JSON" in note["text"]


def test_csv_upload_registers_the_symbol_for_commands(widget, client):
    w, rec = widget
    sym = f"W{uuid.uuid4().hex[:6].upper()}"
    idx = pd.bdate_range("2020-01-01", periods=120, name="Date")
    close = 50 + 5 * np.sin(np.linspace(0, 12, 120))
    df = pd.DataFrame(
        {"Open": close, "High": close + 1, "Low": close - 1, "Close": close, "Volume": 100.0},
        index=idx,
    )
    upload = {"type": "upload", "name": f"{sym.lower()}.csv", "kind": "csv", "content": df.to_csv()}
    w._on_frontend(w, upload)
    note = rec.wait(lambda m: m.get("type") == "notice" and sym in m["text"], 30, "notice")
    assert note["level"] == "info"
    assert f"120 bars as symbol {sym} (2020-01-01..2020-06-16)" in note["text"]
    # the session (and so the panel) gets the server's system message
    shown = rec.wait(
        lambda m: (
            m.get("type") == "message" and f"uploaded symbol {sym}" in m["message"]["content"]
        ),
        30,
        "system message",
    )
    assert shown["message"]["role"] == "system" and "120 daily bars" in shown["message"]["content"]
    # commands use it: the result is the engine's on the uploaded bars
    run = client.trigger_backtest("sma_cross", symbol=sym, fast=5, slow=20).result(60)
    local = engine.backtest(df, "sma_cross", {"fast": 5, "slow": 20})
    assert run.stats["total_return"] == pytest.approx(local.stats["total_return"])
    # the same file again: a clear error in the panel, nothing replaced
    w._on_frontend(w, upload)
    note = rec.wait(lambda m: m.get("type") == "notice" and "already exists" in m["text"], 30)
    assert note["level"] == "error" and "overwrite" in note["text"] and sym in note["text"]
    # ... with a button that replaces it with the file just sent (kept in the kernel)
    assert note["action"] == {
        "label": f"Replace {sym}", "send": {"type": "replace_upload", "symbol": sym}
    }  # fmt: skip
    longer = pd.DataFrame(
        {"Open": 60.0, "High": 61.0, "Low": 59.0, "Close": 60.0, "Volume": 100.0},
        index=pd.bdate_range("2020-01-01", periods=150, name="Date"),
    )
    w._on_frontend(w, {**upload, "content": longer.to_csv()})  # refused again: same symbol
    deadline = time.monotonic() + 30
    while len(w.uploads[sym]) != 150 and time.monotonic() < deadline:
        time.sleep(0.02)
    w._on_frontend(w, note["action"]["send"])  # the button: the latest file replaces it
    done = rec.wait(lambda m: m.get("type") == "notice" and "replacing" in m["text"], 30)
    assert done["level"] == "info" and "150 bars" in done["text"]
    assert client.trigger_backtest("buy_and_hold", symbol=sym).result(60).stats["bars"] == 150
    w._on_frontend(w, {"type": "replace_upload", "symbol": "NEVERSENT"})
    note = rec.wait(lambda m: m.get("type") == "notice" and "NEVERSENT" in m["text"], 30)
    assert "upload the file again" in note["text"]
    # bad bars (a NaN close) are refused before anything is sent
    bad = df.assign(Close=df["Close"].where(df.index != idx[3]))
    w._on_frontend(w, {**upload, "name": "nanny.csv", "content": bad.to_csv()})
    note = rec.wait(lambda m: m.get("type") == "notice" and "nanny.csv" in m["text"], 30)
    assert "NaN/inf Close at 2020-01-06" in note["text"]


def test_forwarded_client_methods(widget, client):
    w, _ = widget
    assert w.client is client
    assert w.url == client.url and w.current_session_id == client.current_session_id
    assert isinstance(w.history, pd.DataFrame)
    with pytest.raises(AttributeError, match="nor has its client"):
        w.no_such_method  # noqa: B018


def test_downsample_keeps_extremes_and_bounds():
    rng = np.random.default_rng(1)
    x = np.cumsum(rng.normal(size=200_000))
    dd = x - np.maximum.accumulate(x)
    idx = sync.downsample_indices([x, dd], 1000)
    assert len(idx) <= 1000 and idx[0] == 0 and idx[-1] == len(x) - 1
    assert np.all(np.diff(idx) > 0)
    assert x.argmax() in idx and x.argmin() in idx and dd.argmin() in idx
    assert len(sync.downsample_indices([np.arange(10.0)], 1000)) == 10


def test_history_chunks_and_strategy_command():
    msgs = [{"id": str(i)} for i in range(4500)]
    chunks = list(sync.history_chunks(msgs, "v", size=2000))
    assert [len(c["messages"]) for c in chunks] == [2000, 2000, 500]
    assert [c["reset"] for c in chunks] == [True, False, False] and chunks[-1]["final"]
    cmd = listing.strategy_command(
        {"template": "sma_cross", "symbol": "GOOG", "name": "my s", "fast": 5}
    )
    assert cmd == "/create_strategy sma_cross symbol=GOOG name='my s' fast=5"
    with pytest.raises(ValueError, match='needs "template"'):
        listing.strategy_command({"symbol": "GOOG"})


def test_in_place_update_travels_as_one_message(widget):
    w, rec = widget
    w._on_frontend(w, {"type": "ready", "clientId": "v"})
    sent = w.send_message("draft")
    updated = {**sent, "content": "final text"}
    w._on_message(updated)
    w._on_message(updated)  # the same again: nothing to send
    got = [m for m in rec.of("message") if m["message"]["id"] == sent["id"]]
    assert got[-1]["message"]["content"] == "final text"
    assert len([m for m in got if m["message"]["content"] == "final text"]) == 1


def test_comparison_and_sweep_results(widget):
    w, rec = widget
    w._on_frontend(w, {"type": "send", "text": "/compare_strategies strategy_1 strategy_2"})
    comp = rec.wait(lambda m: m.get("type") == "result" and m["kind"] == "comparison", 120)
    assert comp["strategies"] == ["strategy_1", "strategy_2"]
    assert set(comp["table"]["sharpe"]) == {"strategy_1", "strategy_2"}
    curves = comp["series"]["curves"]
    assert set(curves) == {"strategy_1", "strategy_2"}
    assert all(len(c) == len(comp["series"]["t"]) <= 1000 for c in curves.values())
    symbol = w.strategies[0]["symbol"]
    text = f"/sweep sma_cross symbol={symbol} fast=5:30:5 slow=40:100:20"
    w._on_frontend(w, {"type": "send", "text": text})
    sweep = rec.wait(lambda m: m.get("type") == "result" and m["kind"] == "sweep", 120)
    assert sweep["params"][:2] == ["fast", "slow"] and sweep["metric"] == "sharpe"
    cells = {(r["fast"], r["slow"]) for r in sweep["rows"]}
    assert len(cells) == len(sweep["rows"]) == sweep["count"] == 6 * 4  # one row per heatmap cell
    assert sweep.get("split") is None and "oos_sharpe" not in sweep["rows"][0]
    # the heatmap's minimum-trades filter: each cell's trades and the default to start from
    assert sweep["minTrades"] == sync.SWEEP_MIN_TRADES
    assert all(isinstance(r["num_trades"], int) for r in sweep["rows"])
    w._on_frontend(w, {"type": "send", "text": text + " split=2021-01-01"})
    split = rec.wait(lambda m: m.get("type") == "result" and m.get("split") == "2021-01-01", 120)
    assert {"sharpe", "oos_sharpe", "oos_total_return"} <= set(split["rows"][0])


def test_trade_rows_as_json_for_every_column_type():
    ny = pd.DatetimeIndex(["2020-03-02 09:30", "2020-03-03 00:00", "2020-03-04 15:59:30"],
                          tz="America/New_York")  # fmt: skip
    trades = pd.DataFrame({
        "entry_time": pd.to_datetime(["2020-01-02", "2020-01-03", "2020-01-06"]),
        "exit_time": ny, "direction": ["long", "short", "long"],
        "entry_price": [100.5, np.nan, 99.0], "exit_price": [np.inf, 101.25, -np.inf],
        "pnl": [12.5, -3.0, 0.0], "bars_held": np.array([3, 1, 7], dtype=np.int64),
        "exit_reason": pd.Series(["signal", None, "stop_loss"], dtype=object),
    })  # fmt: skip
    trades.loc[2, "entry_time"] = pd.NaT
    out = sync.trade_rows(trades, limit=3)
    assert out["columns"] == ["entry_time", "exit_time", "direction", "entry_price",
                              "exit_price", "pnl", "bars_held", "exit_reason"]  # fmt: skip
    assert out["rows"] == [
        ["2020-01-02", "2020-03-02T09:30:00-05:00", "long", 100.5, None, 12.5, 3, "signal"],
        ["2020-01-03", "2020-03-03", "short", None, 101.25, -3.0, 1, None],
        [None, "2020-03-04T15:59:30-05:00", "long", 99.0, None, 0.0, 7, "stop_loss"],
    ]
    json.dumps(out, allow_nan=False)  # plain JSON: no NaN, NaT or numpy scalars
    assert all(type(r[6]) is int for r in out["rows"])
    assert sync.trade_rows(trades, limit=1)["rows"] == out["rows"][-1:]
    assert sync.trade_rows(trades.iloc[:0]) == {"columns": out["columns"], "rows": [], "total": 0}


def test_chart_numbers_and_trade_times_equal_the_per_value_formatting():
    # vectorized: the same values as float(f"{v:.7g}") and Timestamp.isoformat(), value for value
    rng = np.random.default_rng(8)
    values = np.concatenate([rng.normal(0, 10.0**e, 2_000) for e in range(-8, 13, 2)])
    values = np.r_[values, 0.0, -0.0, np.nan, np.inf, -np.inf, 5e-324, 1.7e308]
    want = [float(f"{v:.7g}") if np.isfinite(v) else None for v in values.tolist()]
    assert sync._json_floats(values) == want
    text = ["2020-01-02", "2020-01-02 09:30", "2020-01-02 09:30:00.250", "1969-12-31 23:59:59.5"]
    times = pd.to_datetime([*text, None], format="ISO8601").to_numpy()
    want_times = [None if pd.isna(t) else pd.Timestamp(t).isoformat() for t in times]
    want_times[0] = "2020-01-02"  # a date alone at midnight
    assert sync._iso_times(times) == want_times


def test_a_result_the_panel_cannot_get_offers_a_retry(widget):
    w, rec = widget
    w._show_result("run_000000000000")  # no such run: the fetch fails
    note = rec.wait(lambda m: m.get("type") == "notice"
                    and m["text"].startswith("cannot show run_000000000000: "), 30)  # fmt: skip
    # the panel expected the card (its reply left the tables to it): one click asks again
    retry = {"type": "get_result", "runId": "run_000000000000"}
    assert note["action"] == {"label": "show result", "send": retry}


def test_commands_past_the_rate_limit_all_run_and_the_panel_says_so_once(tmp_path, monkeypatch):
    from chatops_widget.server import EmbeddedServer

    monkeypatch.setenv("CHATOPS_RATE_LIMITS", "commands=2/s:2")  # 2 at once, then 2 a second
    srv = EmbeddedServer(data_dir=tmp_path).start()
    client = ChatOpsClient(srv.url, srv.token)
    w = ChatOpsWidget(client=client)
    try:
        w.create_session()
        rec = Recorder(w)
        results: list[dict] = []
        client.on("commandResult", results.append)
        for _ in range(6):  # typed in the panel faster than the limit
            w._on_frontend(w, {"type": "send", "text": "/strategies"})
        deadline = time.monotonic() + 30
        while len(results) < 6 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(results) == 6 and all(r["ok"] for r in results)  # none lost: all ran
        notes = rec.of("notice")
        assert notes and all(n["level"] == "info" for n in notes), notes
        assert notes[0]["text"] == ("executeCommand: too many commands from this connection (at "
                                    "most 2 at once, then 2 a second); sent again automatically, "
                                    "in order")  # fmt: skip
        assert len(notes) <= 2  # once per 3 s, not one per refused request
    finally:
        w.close()
        client.close()
        srv.stop()


def test_malformed_front_end_messages_get_a_notice_and_change_nothing(widget):
    w, rec = widget
    before = len(w.history)
    for bad, fragment in [
        ({"type": "explode"}, "'explode'"),
        (["send", "hi"], "'list'"),
        ({"type": "send", "text": 123}, "'text' must be a string, got int"),
    ]:
        w._on_frontend(w, bad)
        note = rec.wait(lambda m, f=fragment: m.get("type") == "notice" and f in m["text"], 10)
        assert note["level"] == "error"
    assert len(w.history) == before


def test_sweep_cells_prefer_combinations_with_enough_trades():
    # three parameters: the cell (5, 20) holds a 1-trade "best" and a 30-trade runner-up
    table = pd.DataFrame(
        {
            "fast": [5, 5, 10, 10],
            "slow": [20, 20, 20, 20],
            "stop": [0.01, 0.02, 0.01, 0.02],
            "sharpe": [3.0, 1.0, 0.5, 0.4],
            "num_trades": [1, 30, 2, 3],
        }
    )
    cells = sync.sweep_cells(table, ["fast", "slow", "stop"], "sharpe", min_trades=5)
    picked = {(r["fast"], r["slow"]): (r["stop"], r["num_trades"]) for r in cells}
    assert picked[(5, 20)] == (0.02, 30)  # enough trades wins over a higher lucky sharpe
    assert picked[(10, 20)] == (0.01, 2)  # no combination has enough: the best of the rest
    unfiltered = sync.sweep_cells(table, ["fast", "slow", "stop"], "sharpe", min_trades=0)
    assert unfiltered[0]["stop"] == 0.01


def test_constants_traitlet_carries_the_protocol_constants(widget):
    from chatops_widget.protocol import (
        MAX_COMMAND_CHARS,
        MAX_CONTENT_CHARS,
        MAX_UPLOAD_BYTES,
        RESULT_KINDS,
        TERMINAL_STATUSES,
        ErrorCode,
    )

    w, _rec = widget
    state = w.get_state()  # what the front end receives when the view opens
    c = state["constants"]
    assert c == sync.frontend_constants() and w.trait_metadata("constants", "sync")
    assert set(c["terminalStatuses"]) == set(TERMINAL_STATUSES)
    assert set(c["resultKinds"]) == set(RESULT_KINDS)
    assert c["limits"] == {"maxContentChars": MAX_CONTENT_CHARS,
                           "maxCommandChars": MAX_COMMAND_CHARS,
                           "maxUploadBytes": MAX_UPLOAD_BYTES,
                           "maxPanelUploadBytes": sync.MAX_PANEL_UPLOAD_BYTES,
                           "maxPanelPartBytes": sync.PANEL_PART_BYTES}  # fmt: skip
    # the front end reads limits by name: every name it reads is sent, and nothing else is
    js_src = pathlib.Path(__file__).parents[2] / "js" / "src"
    calls = [
        a for f in js_src.rglob("*.js") for a in re.findall(r"\blimit\(([^)]*)\)", f.read_text())
    ]
    read = {name for a in calls for name in re.findall(r'"(max\w+)"', a)}  # limits: max...
    assert read == set(c["limits"])
    assert set(c["errorCodes"]) == {e.value for e in ErrorCode}
    assert {"total_return", "max_drawdown"} <= set(c["percentStats"])
    assert c["defaultCash"] == engine.DEFAULT_CASH
    assert c["defaultCash"] == inspect.signature(engine.backtest).parameters["cash"].default
    units = {s["name"]: s["unit"] for s in c["stats"]}
    assert units == {s.name: s.unit for s in engine.STATS}  # the engine's stat registry
    json.dumps(c)  # plain JSON: it travels as a traitlet


def test_styles_ship_as_the_widgets_css():
    text = str(ChatOpsWidget._css)  # anywidget's FileContents: the file's text
    assert ".cow-root" in text and ".cow-bubble" in text and ".cow-file" in text
    assert "--jp-layout-color1" in text  # JupyterLab's theme variables, with fallbacks


def test_a_client_or_theme_that_is_none_is_refused_saying_what_to_pass():
    with pytest.raises(TypeError, match="client must be a ChatOpsClient") as info:
        ChatOpsWidget(client="http://127.0.0.1:8500")  # (an address: that is url=...)
    assert "got str" in str(info.value) and "url=" in str(info.value)
    with pytest.raises(traitlets.TraitError, match=r"expected any of \['auto', 'light', 'dark'\]"):
        ChatOpsWidget(theme="solarized")
