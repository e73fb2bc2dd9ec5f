"""Runs from the kernel: two real ChatOpsClients in one session on a real server (loopback)."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from chatops_widget import ChatOpsClient, engine
from chatops_widget.client import Comparison, RunFailed
from chatops_widget.client._requests import command_text, run_fields
from chatops_widget.protocol import ProtocolError, StartRun
from chatops_widget.server import EmbeddedServer, standard_plugins

LONG_GRID = {"fast": range(2, 101), "slow": range(10, 111), "short": [True, False]}


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    srv = EmbeddedServer(
        data_dir=tmp_path_factory.mktemp("runs-data"), plugins=standard_plugins(assistant=False)
    ).start()
    a = ChatOpsClient(srv.url, srv.token, timeout=20)
    b = ChatOpsClient(srv.url, srv.token, timeout=20)
    session = a.create_session("runs")
    b.join_session(session)
    yield a, b
    a.close()
    b.close()
    srv.stop()


class Recorder:
    def __init__(self) -> None:
        self.events: list[dict] = []
        self.lock = threading.Lock()

    def __call__(self, payload: dict) -> None:
        with self.lock:
            self.events.append(payload)

    def of(self, run_id: str) -> list[dict]:
        with self.lock:
            return [e for e in self.events if e.get("runId") == run_id]


def test_kernel_arguments_become_typed_requests_and_readable_commands():
    text = command_text(
        "create_strategy", ["sma_cross"], {"name": "two words", "short": True, "x": None}
    )
    assert text == "/create_strategy sma_cross name='two words' short=true"
    fields = run_fields("sweep", ["t"], {"k": [1.5, 2], "w": range(5, 51, 5), "short": True})
    assert fields["grid"] == {"k": [1.5, 2], "w": list(range(5, 51, 5))}
    assert fields["params"] == {"short": True}
    req = StartRun(sessionId="session_1", **fields)
    assert req.command_text() == "/sweep t short=true k=1.5,2 w=5:50:5"
    with pytest.raises(ValueError, match="ranges are for sweep"):
        run_fields("backtest", ["strategy_1"], {"fast": range(5, 10)})
    with pytest.raises(TypeError, match="expected a number"):
        run_fields("backtest", ["strategy_1"], {"fast": object()})


def test_chat_run_by_a_is_seen_by_b_with_the_same_dataframes(pair, wait_until):
    a, b = pair
    progress = Recorder()
    b.on("backtestProgress", progress)
    a.execute_command("/run_backtest strategy_1 fast=12")
    run_id = wait_until(lambda: next(iter(b.results), None))
    events = progress.of(run_id)
    values = [e["progress"] for e in events]
    assert values == sorted(values) and values[-1] == 100
    assert events[0]["status"] == "queued" and events[-1]["status"] == "completed"
    rb = b.results[run_id]
    ra = a.results[run_id]
    assert isinstance(rb, engine.BacktestResult)
    want = engine.backtest(engine.sample_catalog().get("ALPHA"), "sma_cross", {"fast": 12})
    for got in (ra, rb):
        pd.testing.assert_frame_equal(got.equity, want.equity)
        pd.testing.assert_frame_equal(got.trades, want.trades)
        assert got.stats["sharpe"] == pytest.approx(want.stats["sharpe"])
        assert got.info["start"] == want.info["start"]
        assert (got.strategy, got.params, got.symbol) == ("sma_cross", want.params, "ALPHA")
    assert b.results[run_id] is rb  # fetched once, then cached
    b.off("backtestProgress", progress)


def test_result_ready_hands_over_every_session_result_as_it_is_stored(pair, wait_until):
    a, b = pair
    seen: list[tuple[str, str]] = []  # (event, run id) in the order b was told
    lock = threading.Lock()

    def note(event):
        def record(payload):
            with lock:
                seen.append((event, payload.get("runId")))

        return record

    ready, result = note("resultReady"), note("commandResult")
    b.on("resultReady", ready)
    b.on("commandResult", result)
    try:
        assert b._runs.follow
        # a chat run by another member: b asked as it started, the server answered on store
        a.execute_command("/run_backtest strategy_1 fast=9")
        run_id = wait_until(lambda: next((r for e, r in seen if e == "commandResult"), None))
        wait_until(lambda: ("resultReady", run_id) in seen)
        # told once, from the answer to the wait sent as the run started (no second fetch on
        # "completed"); which of resultReady and commandResult comes first is not promised --
        # the panel places a reply above its card in either order (js/test/store.test.js)
        answer = b._runs._prefetch[run_id]  # (kept until decoded)
        assert run_id in b._runs._asked and answer.done() and not answer.result().get("pending")
        want = engine.backtest(engine.sample_catalog().get("ALPHA"), "sma_cross", {"fast": 9})
        pd.testing.assert_frame_equal(b.results[run_id].equity, want.equity)
        assert b.results.meta(run_id)["command"] == "/run_backtest strategy_1 fast=9"
        # a run that outlasts the wait (a "pending" answer) is handed over once it completes
        sweep = a.sweep("sma_cross", "ALPHA", block=False, **LONG_GRID)  # ~2 s: > WAIT_MAX
        assert sweep.wait(timeout=60) == "completed"
        wait_until(lambda: ("resultReady", sweep.run_id) in seen)
        assert sweep.run_id in b._runs._asked  # asked with wait as it started
        assert len(b.results[sweep.run_id]) == len(a.results[sweep.run_id]) > 10_000
        # one signal per run, and nothing followed once nobody listens
        assert [r for e, r in seen if e == "resultReady"] == [run_id, sweep.run_id]
    finally:
        b.off("resultReady", ready)
        b.off("commandResult", result)
    assert not b._runs.follow
    other = a.trigger_backtest("strategy_2")
    other.result(timeout=30)
    wait_until(lambda: other.run_id in b._runs._runs and b._runs.state(other.run_id).summary)
    assert other.run_id not in b._runs._prefetch and b._runs.cached(other.run_id) is None


def test_trigger_backtest_returns_a_handle_at_once(pair):
    a, b = pair
    run = a.trigger_backtest("strategy_2", slow=40, start="2019-01-01")
    assert run.run_id.startswith("run_") and run.status in {"queued", "running", "completed"}
    res = run.result(timeout=30)
    assert run.status == "completed" and run.progress == 100
    assert res.params["slow"] == 40 and res.equity.index[0] >= pd.Timestamp("2019-01-01")
    assert run.summary["stats"]["sharpe"] == pytest.approx(res.stats["sharpe"])
    # B sees it too (started by another member)
    pd.testing.assert_frame_equal(b.results[run.run_id].equity, res.equity)
    runs = a.runs
    row = runs.set_index("run_id").loc[run.run_id]
    assert (row["kind"], row["status"], row["strategy"]) == ("backtest", "completed", "strategy_2")


def test_costs_reach_the_engine_spread_and_commission(pair):
    a, _ = pair
    run = a.trigger_backtest("strategy_1", commission=0.001, spread=0.0005).result(timeout=30)
    want = engine.backtest(
        engine.sample_catalog().get("ALPHA"), "sma_cross", run.params,
        commission=0.001, spread=0.0005,
    )  # fmt: skip
    pd.testing.assert_frame_equal(run.trades, want.trades)
    assert (run.stats["spread"], run.stats["commission"]) == (0.0005, 0.001)
    free = a.trigger_backtest("strategy_1").result(timeout=30)
    assert run.stats["total_return"] < free.stats["total_return"]  # costs cost
    fast, slow = run.params["fast"], run.params["slow"]
    table = a.sweep(
        "sma_cross", "ALPHA", fast=[fast, fast + 1], slow=[slow], commission=0.001, spread=0.0005
    )
    row = table.set_index("fast").loc[fast]
    assert row["total_return"] == pytest.approx(run.stats["total_return"], rel=1e-9)
    with pytest.raises(ProtocolError, match=r"spread is the bid-ask spread .*got 0\.2"):
        a.trigger_backtest("strategy_1", spread=0.2)
    with pytest.raises(ProtocolError, match="spread"):
        a.trigger_backtest("strategy_1", spread="wide")


def test_results_are_cached_within_a_byte_budget_and_fetched_again_after(pair):
    a, _ = pair
    run7 = a.trigger_backtest("strategy_1", fast=7)
    first = run7.result(timeout=30)
    run8 = a.trigger_backtest("strategy_1", fast=8)
    second = run8.result(timeout=30)  # the most recently used result
    assert a.results.cache_bytes == 2**30 and a.results[run7.run_id] is first  # cached
    calls = []
    tracker = a._runs  # counts what the run tracker asks the server
    tracker._call = lambda event, *args, **kw: (
        calls.append(getattr(event, "value", event))
        or type(tracker)._call(tracker, event, *args, **kw)
    )
    try:
        a.results[run8.run_id]  # now run8 is the most recently used
        a.results.cache_bytes = 1  # keeps only that one
        assert a.results[run8.run_id] is second and calls == []
        again = a.results[run7.run_id]  # dropped: fetched once more, the same data
        assert calls == ["getResult"] and again is not first
        pd.testing.assert_frame_equal(again.equity, first.equity)
        with pytest.raises(ValueError, match="cache_bytes must be an int >= 0"):
            a.results.cache_bytes = -1
    finally:
        del tracker._call
        a.results.cache_bytes = 2**30


def test_compare_strategies_gives_stats_and_equity_frames(pair):
    a, _ = pair
    cmp = a.compare_strategies("strategy_1", "strategy_5")
    assert isinstance(cmp, Comparison) and cmp.strategies == ["strategy_1", "strategy_5"]
    assert {"sharpe", "total_return", "max_drawdown"} <= set(cmp.stats.index)
    assert list(cmp.equity.columns) == ["strategy_1", "strategy_5"]
    bh = engine.backtest(engine.sample_catalog().get("ALPHA"), "buy_and_hold")
    assert cmp.stats.loc["total_return", "strategy_5"] == pytest.approx(bh.stats["total_return"])
    pd.testing.assert_series_equal(
        cmp.equity["strategy_5"], bh.equity["equity"], check_names=False, check_freq=False
    )


def test_sweep_gives_one_row_per_combination(pair):
    a, _ = pair
    table = a.sweep("ema_cross", "CHARLIE", fast=range(5, 30, 5), slow=[20, 40, 60])
    combos, _ = engine.expand_grid(
        engine.templates()["ema_cross"], {"fast": range(5, 30, 5), "slow": [20, 40, 60]}, 2608
    )
    assert len(table) == len(combos)
    assert {(r.fast, r.slow) for r in table.itertuples()} == {
        (c["fast"], c["slow"]) for c in combos
    }
    assert table["sharpe"].is_monotonic_decreasing


def test_sweep_with_a_split_adds_out_of_sample_stats(pair):
    a, _ = pair
    grid = {"fast": [5, 10, 20], "slow": [50, 100]}
    table = a.sweep("sma_cross", "ALPHA", split="2021-01-01", **grid)
    want = engine.sweep(engine.sample_catalog().get("ALPHA"), "sma_cross", grid, split="2021-01-01")
    assert len(table) == len(want) == 6 and table["sharpe"].is_monotonic_decreasing
    got = table.set_index(["fast", "slow"]).sort_index()
    ref = want.set_index(["fast", "slow"]).sort_index()
    for name in ("sharpe", "oos_sharpe", "oos_total_return", "oos_num_trades"):
        np.testing.assert_allclose(got[name], ref[name], rtol=1e-9, equal_nan=True)
    run = a.runs.iloc[-1]
    summary = a._runs.state(run["run_id"]).summary
    assert summary["split"] == "2021-01-01" and summary["outOfSample"][1] == "2024-12-31"
    assert "oos_sharpe" in summary["rows"][0]
    with pytest.raises(ProtocolError, match="split=1990-01-01 leaves 0 bars before it"):
        a.sweep("sma_cross", "ALPHA", split="1990-01-01", fast=[5], slow=[50])
    with pytest.raises(ProtocolError, match="split='soon' is not a date"):
        a.sweep("sma_cross", "ALPHA", split="soon", fast=[5], slow=[50])


def test_cancel_stops_a_long_sweep(pair, wait_until):
    a, b = pair
    run = a.sweep("sma_cross", "ALPHA", block=False, **LONG_GRID)
    wait_until(lambda: run.progress > 0)
    assert a.send_message("chat still works")["content"] == "chat still works"
    run.cancel()
    assert run.wait(timeout=30) == "cancelled"
    assert run.progress < 100
    with pytest.raises(RunFailed) as info:
        run.result()
    assert info.value.status == "cancelled"
    assert run.run_id not in b.results


def test_strategies_and_create_strategy(pair):
    a, b = pair
    before = a.strategies
    assert list(before.index[:5]) == [f"strategy_{i}" for i in range(1, 6)]
    new_id = a.create_strategy("donchian_breakout", "DELTA", name="breakout", window=30)
    after = b.strategies
    assert new_id in after.index and new_id not in before.index
    assert after.loc[new_id, "name"] == "breakout"
    assert after.loc[new_id, "params"]["window"] == 30
    res = b.trigger_backtest(new_id).result(timeout=30)
    assert res.symbol == "DELTA" and res.strategy == "donchian_breakout"


def test_bad_input_raises_clear_errors_and_the_client_keeps_working(pair):
    a, _ = pair
    with pytest.raises(ProtocolError, match="unknown strategy 'strategy_404'"):
        a.trigger_backtest("strategy_404")
    with pytest.raises(ProtocolError, match="did you mean 'fast'"):
        a.trigger_backtest("strategy_1", fats=3)
    with pytest.raises(ProtocolError, match="YYYY-MM-DD"):
        a.trigger_backtest("strategy_1", start="last week")
    with pytest.raises(ProtocolError, match="unknown symbol"):
        a.create_strategy("sma_cross", "NOPE")
    with pytest.raises(ProtocolError, match="two or more"):
        a.compare_strategies("strategy_1")
    with pytest.raises(KeyError, match="no completed run"):
        a.results["run_doesnotexist"]
    assert a.trigger_backtest("strategy_5").result(timeout=30).stats["num_trades"] == 1


def _serve(port: int, data_dir, wait_until) -> subprocess.Popen:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "chatops_widget",
            "serve",
            "--port",
            str(port),
            "--token",
            "t",
            "--data-dir",
            str(data_dir),
        ],
        stdout=subprocess.DEVNULL,
    )

    def up() -> bool:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return True
        except OSError:
            return proc.poll() is not None

    wait_until(up, 60)
    assert proc.poll() is None
    return proc


def test_runs_settle_after_a_server_restart(tmp_path, wait_until):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = _serve(port, tmp_path, wait_until)
    client = ChatOpsClient(f"http://127.0.0.1:{port}", "t", timeout=20)
    try:
        client.create_session("restart")
        done = client.trigger_backtest("strategy_5")
        before = done.result(timeout=60)
        wait_until(lambda: (tmp_path / "results" / done.run_id / "record.json").exists(), 10)
        long = client.sweep("sma_cross", "ALPHA", block=False, **LONG_GRID)
        wait_until(lambda: long.progress > 0, 60)
        workers = subprocess.run(["pgrep", "-P", str(server.pid)], capture_output=True, text=True)
        server.send_signal(signal.SIGKILL)  # the server only: its workers must exit by themselves
        server.wait(30)
        wait_until(lambda: not client.is_connected, 30)
        server = _serve(port, tmp_path, wait_until)
        # the reconnected client learns that the sweep died with the old server
        assert long.wait(timeout=60) == "failed"
        with pytest.raises(RunFailed, match="server restarted"):
            long.result()
        # the finished run is still there (Parquet), for this client and the session
        again = client.results[done.run_id]
        pd.testing.assert_frame_equal(again.equity, before.equity)
        deadline = time.monotonic() + 10
        pids = [int(p) for p in workers.stdout.split()]
        while time.monotonic() < deadline and any(_alive(p) for p in pids):
            time.sleep(0.1)
        assert not [p for p in pids if _alive(p)], "worker processes outlived their server"
    finally:
        client.close()
        server.terminate()
        server.wait(30)


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False
