"""Python strategies hosted in a kernel: two real ChatOpsClients on one served session.

Kernel A (alice) registers functions; kernel B (bob) runs them by chat command and from
Python, compares them with stored strategies and sweeps them; the code runs in A's worker
threads. Failures are A's and are reported to B without A's traceback; A keeps it.
"""

from __future__ import annotations

import logging
import threading
import time

import numpy as np
import pandas as pd
import pytest

from chatops_widget import ChatOpsClient, engine
from chatops_widget.client import Comparison, RunFailed
from chatops_widget.protocol import ErrorCode, ProtocolError
from chatops_widget.server import EmbeddedServer, standard_plugins
from chatops_widget.server.backtest.hosted import remote

ALPHA = engine.sample_catalog().get("ALPHA")
SEEN_THREADS: list[str] = []


def my_mom(data, lookback=60, z=1.0):
    """Momentum scaled by its own volatility, as a fraction of equity."""
    SEEN_THREADS.append(threading.current_thread().name)
    r = data.Close.pct_change(lookback)
    return (r / (z * r.rolling(250).std())).fillna(0.0).clip(-1, 1)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    srv = EmbeddedServer(
        data_dir=tmp_path_factory.mktemp("hosted-data"), plugins=standard_plugins(assistant=False)
    ).start()
    a = ChatOpsClient(srv.url, srv.token, timeout=20, name="alice")
    b = ChatOpsClient(srv.url, srv.token, timeout=20, name="bob")
    session = a.create_session("hosted")
    b.join_session(session)
    a.strategy(name="my_mom", params={"lookback": 60, "z": 1.0})(my_mom)
    yield srv, a, b
    a.close()
    b.close()
    srv.stop()


def _result_of(client, text, wait_until):
    before = set(client.results)
    client.execute_command(text)
    run_id = wait_until(lambda: next(iter(set(client.results) - before), None), 60)
    return run_id, client.results[run_id]


def test_bob_runs_alices_function_by_chat_and_gets_the_dataframes(served, wait_until):
    _, a, b = served
    SEEN_THREADS.clear()
    run_id, got = _result_of(b, "/run_backtest my_mom lookback=90", wait_until)
    threads = list(SEEN_THREADS)  # where alice's function ran
    want = engine.backtest(
        ALPHA, engine.FunctionStrategy(my_mom, {"lookback": 60, "z": 1.0}), {"lookback": 90}
    )
    pd.testing.assert_frame_equal(got.equity, want.equity)
    pd.testing.assert_frame_equal(got.trades, want.trades)
    assert got.stats["sharpe"] == pytest.approx(want.stats["sharpe"], rel=1e-12)
    assert got.params == {"lookback": 90, "z": 1.0} and got.symbol == "ALPHA"
    assert got.equity["position"].dtype == np.float64  # fractional positions
    assert threads and all(t.startswith("chatops-hosted") for t in threads)
    summary = b.results.summary(run_id)
    assert summary["hosted"] == {"owner": "alice", "hostedBy": "alice's notebook", "version": "v1"}
    row = b.runs.set_index("run_id").loc[run_id]
    assert row["started_by"] == "bob" and row["status"] == "completed"
    pd.testing.assert_frame_equal(a.results[run_id].equity, got.equity)  # A's card too
    history = b.history
    typed = history[history.content == "/run_backtest my_mom lookback=90"].iloc[0]
    assert typed["sender"] == "bob" and typed["metadata"]["sender"] == "bob"
    listed = b.hosted_strategies.loc["my_mom"]
    assert (listed["owner"], listed["version"], bool(listed["online"])) == ("alice", "v1", True)


def test_alices_notebook_stays_usable_while_the_run_goes(served):
    _, a, b = served
    release, started = threading.Event(), threading.Event()

    def slow(data, k=1):
        started.set()
        release.wait(30)
        return (data.Close > data.Close.rolling(20).mean()).astype(float)

    a.register_strategy("slow_one", slow, {"k": 1}, lookahead_check=False)
    run = b.trigger_backtest("slow_one")
    assert started.wait(20)
    # the run is in A's worker thread: A's "cells" go on (chat, a backtest of its own)
    a.send_message("still here")
    mine = engine.backtest(ALPHA, "sma_cross")
    assert run.status in {"queued", "running"} and mine.stats["num_trades"] > 0
    release.set()
    assert run.result(timeout=30).stats["num_trades"] > 0


def test_compare_a_hosted_strategy_with_a_stored_one(served, wait_until):
    _, _, b = served
    _, cmp = _result_of(b, "/compare_strategies my_mom strategy_1", wait_until)
    assert isinstance(cmp, Comparison) and cmp.strategies == ["my_mom", "strategy_1"]
    want = engine.backtest(ALPHA, engine.FunctionStrategy(my_mom, {"lookback": 60, "z": 1.0}))
    assert cmp.stats.loc["sharpe", "my_mom"] == pytest.approx(want.stats["sharpe"], rel=1e-12)
    stored = b.trigger_backtest("strategy_1").result(timeout=30)
    assert cmp.stats.loc["sharpe", "strategy_1"] == pytest.approx(stored.stats["sharpe"])
    assert list(cmp.equity.columns) == ["my_mom", "strategy_1"]
    # the facts every comparison carries: each strategy's symbol, period and bars, buy & hold
    assert list(cmp.info.index) == ["my_mom", "strategy_1"]
    assert cmp.info.loc["my_mom", "symbol"] == "ALPHA"
    assert cmp.info.loc["my_mom", "bars"] == len(ALPHA)
    assert cmp.benchmark is not None and "ALPHA" in cmp.benchmark.columns
    again = b.compare_strategies("my_mom", "strategy_1")  # from Python: the same
    pd.testing.assert_frame_equal(again.stats, cmp.stats)


def test_sweep_a_hosted_strategy(served):
    _, _, b = served
    table = b.sweep("my_mom", "ALPHA", lookback=range(20, 201, 20), timeout=120)
    assert sorted(table["lookback"]) == list(range(20, 201, 20)) and len(table) == 10
    fn = engine.FunctionStrategy(my_mom, {"lookback": 60, "z": 1.0})
    want = engine.sweep(ALPHA, fn, {"lookback": list(range(20, 201, 20))})
    got = table.set_index("lookback").sort_index()["sharpe"]
    np.testing.assert_allclose(got.to_numpy(), want.set_index("lookback")["sharpe"], rtol=1e-12)


def test_parameters_outside_the_spec_are_refused_before_alices_kernel(served):
    _, a, b = served
    runs = a.hosted["my_mom"].runs
    with pytest.raises(ProtocolError, match=r"'lookback' must be in \[0, 100000\], got -5"):
        b.trigger_backtest("my_mom", lookback=-5)
    with pytest.raises(ProtocolError, match=r"unknown parameter 'lookbak' \(did you mean"):
        b.trigger_backtest("my_mom", lookbak=5)
    with pytest.raises(ProtocolError, match=r"parameter 'z' must be float, got 'lots'"):
        b.trigger_backtest("my_mom", z="lots")
    assert a.hosted["my_mom"].runs == runs  # nothing reached A


def test_versions_and_an_unknown_version(served):
    _, a, b = served
    with pytest.raises(ProtocolError, match=r"my_mom@v9: alice's notebook has my_mom at v1") as e:
        b.trigger_backtest("my_mom@v9")
    assert e.value.code is ErrorCode.NOT_FOUND
    assert b.trigger_backtest("my_mom@v1").result(timeout=60).stats["bars"] == len(ALPHA)

    def my_mom2(data, lookback=60, z=1.0):
        return my_mom(data, lookback, z) / 2

    hs = a.register_strategy("bumped", my_mom, {"lookback": 60, "z": 1.0})
    assert hs.version == "v1"
    hs = a.register_strategy("bumped", my_mom2, {"lookback": 60, "z": 1.0})
    assert hs.version == "v2"
    with pytest.raises(ProtocolError, match="has bumped at v2"):
        b.trigger_backtest("bumped@v1")
    run = b.trigger_backtest("bumped")
    run.result(timeout=60)
    assert run.summary["hosted"]["version"] == "v2"


def test_a_private_strategy_runs_only_for_its_owner(served):
    _, a, b = served
    a.register_strategy("secret", my_mom, {"lookback": 60}, private=True)
    with pytest.raises(ProtocolError, match="secret is private to alice's notebook") as e:
        b.trigger_backtest("secret")
    assert e.value.code is ErrorCode.FORBIDDEN
    with pytest.raises(ProtocolError, match="secret is private to alice's notebook"):
        b.sweep("secret", "ALPHA", lookback=[20, 40])
    with pytest.raises(ProtocolError, match="secret is private to alice's notebook"):
        b.compare_strategies("secret", "strategy_1")
    runs = a.hosted["secret"].runs
    assert a.trigger_backtest("secret").result(timeout=60).stats["num_trades"] >= 0
    assert a.hosted["secret"].runs == runs + 1  # only alice's own run reached her kernel


def test_parameters_outside_the_spec_typed_in_the_chat_are_refused(served, wait_until):
    _, a, b = served
    runs = a.hosted["my_mom"].runs
    results: list[dict] = []
    b.on("commandResult", results.append)
    try:
        for text, says in (
            ("/run_backtest my_mom lookback=-5", "'lookback' must be in [0, 100000], got -5"),
            (
                "/sweep my_mom symbol=ALPHA lookback=-20:200:20",
                "'lookback' must be in [0, 100000], got -20",
            ),
            ("/run_backtest my_mom z=lots", "parameter 'z' must be float, got 'lots'"),
            ("/run_backtest my_mom@v9", "my_mom@v9: alice's notebook has my_mom at v1"),
        ):
            b.execute_command(text)
            got = wait_until(
                lambda t=text: next((r for r in results if r["command"] == t), None), 20
            )
            assert not got["ok"] and says in got["error"]["message"], (text, got)
            assert got["error"]["code"] != "internal"
    finally:
        b.off("commandResult", results.append)
    assert a.hosted["my_mom"].runs == runs  # nothing reached A


def test_failures_are_reported_to_others_and_kept_in_the_owners_kernel(served, caplog):
    _, a, b = served
    caplog.set_level(logging.ERROR, logger="chatops_widget.client.hosted")

    def boom(data, k=1):
        return data.Close / (k - 1) * 0 + 1 / (k - 1)

    a.register_strategy("boom", boom, {"k": 1})
    with pytest.raises(RunFailed, match="boom failed in alice's notebook: ZeroDivisionError"):
        b.trigger_backtest("boom").result(timeout=60)
    failure = a.hosted["boom"].failures[-1]
    assert failure["startedBy"] == "bob" and "Traceback" in failure["traceback"]
    assert "1 / (k - 1)" in failure["traceback"]
    row = b.runs.iloc[-1]
    assert row["status"] == "failed" and "Traceback" not in row["error"]
    assert "ZeroDivisionError" in row["error"] and "1 / (k - 1)" not in row["error"]
    logged = [r.getMessage() for r in caplog.records if "boom failed" in r.getMessage()]
    assert logged and "Traceback" in logged[-1] and "1 / (k - 1)" in logged[-1]  # A's log

    wrong = {
        "short": (lambda data, k=1: data.Close.iloc[:-5] * 0, "5 bars of the data"),
        "holes": (lambda data, k=1: data.Close.pct_change(), r"NaN/inf positions at 1 bar"),
    }
    for name, (fn, says) in wrong.items():
        a.register_strategy(name, fn, {"k": 1}, lookahead_check=False)
        with pytest.raises(RunFailed, match=f"StrategyOutputError: .*{says}"):
            b.trigger_backtest(name).result(timeout=60)

    a.register_strategy("wild", lambda data, k=2.0: data.Close * 0 + k, {"k": 2.0})
    with pytest.raises(RunFailed, match=r"StrategyOutputError: .*outside \[-1, 1\]"):
        b.trigger_backtest("wild").result(timeout=60)


def test_a_slow_function_is_cancelled_at_its_timeout(served):
    _, a, b = served

    def sleepy(data, k=1):
        time.sleep(3)
        return data.Close * 0

    a.register_strategy("sleepy", sleepy, {"k": 1}, timeout=1, lookahead_check=False)
    t0 = time.monotonic()
    with pytest.raises(RunFailed, match=r"sleepy did not finish within 1 s .*cancelled"):
        b.trigger_backtest("sleepy").result(timeout=60)
    assert time.monotonic() - t0 < 3


def test_offline_owner_then_back(served, monkeypatch, wait_until):
    srv, _, b = served
    monkeypatch.setattr(remote, "RECONNECT_GRACE", 0.5)
    carol = ChatOpsClient(srv.url, srv.token, timeout=20, name="carol")
    carol.join_session(b.current_session_id)
    carol.register_strategy("carols", my_mom, {"lookback": 60})
    assert b.trigger_backtest("carols").result(timeout=60).stats["bars"] == len(ALPHA)
    # a dropped connection: the client reconnects by itself and registers again (same version)
    carol._loop.run(carol._conn._sio.eio.disconnect(abort=True), 10)
    wait_until(lambda: carol.reconnect_attempt > 0 or not carol.is_connected, 10)
    wait_until(lambda: carol.is_connected, 30)
    wait_until(lambda: b.hosted_strategies.loc["carols", "online"], 10)
    run = b.trigger_backtest("carols")
    assert run.result(timeout=60).stats["bars"] == len(ALPHA)
    assert run.summary["hosted"]["version"] == "v1"
    carol.close()  # the kernel is gone
    with pytest.raises(
        ProtocolError, match="carols is hosted by carol's notebook, which is not connected"
    ) as e:
        b.trigger_backtest("carols")
    assert e.value.code is ErrorCode.UNAVAILABLE
    results: list[dict] = []
    b.on("commandResult", results.append)
    b.execute_command("/run_backtest carols")  # by chat: refused the same way
    failed = wait_until(
        lambda: next((r for r in results if r["command"] == "/run_backtest carols"), None), 20
    )
    b.off("commandResult", results.append)
    assert not failed["ok"] and failed["error"]["code"] == "unavailable"
    assert "carol's notebook, which is not connected" in failed["error"]["message"]
    assert not bool(b.hosted_strategies.loc["carols", "online"])
    # carol's kernel restarts: the same name takes its strategy back, as a new version
    carol = ChatOpsClient(srv.url, srv.token, timeout=20, name="carol")
    carol.join_session(b.current_session_id)
    assert carol.register_strategy("carols", my_mom, {"lookback": 60}).version == "v2"
    assert b.trigger_backtest("carols").result(timeout=60).stats["bars"] == len(ALPHA)
    # a run in flight when the kernel goes: failed after the grace, saying why
    release = threading.Event()

    def hang(data, k=1):
        release.wait(30)
        return data.Close * 0

    carol.register_strategy("hang", hang, {"k": 1}, lookahead_check=False)
    run = b.trigger_backtest("hang")
    wait_until(lambda: run.status == "running", 20)
    carol.close()
    release.set()
    with pytest.raises(RunFailed, match="carol's notebook disconnected while running hang"):
        run.result(timeout=30)


def test_names_are_checked_and_taken_names_refused(served, wait_until):
    srv, _, b = served
    with pytest.raises(ProtocolError, match="is a template or a stored strategy"):
        b.register_strategy("sma_cross", my_mom, {"lookback": 60})
    with pytest.raises(ProtocolError, match=r"my_mom is hosted by alice's notebook \(connected\)"):
        b.register_strategy("my_mom", my_mom, {"lookback": 60})
    with pytest.raises(ValueError, match="strategy name 'my mom' is not valid"):
        b.register_strategy("my mom", my_mom)
    with pytest.raises(ValueError, match="is not valid: '<' is not allowed"):
        ChatOpsClient(srv.url, srv.token, name="<script>")

    def reply(word):
        said = [m for m in b.messages if m["role"] == "assistant" and word in m["content"]]
        return said[-1]["content"] if said else None

    b.execute_command("/strategies")
    listed = wait_until(lambda: reply("Python strategies"), 20)
    assert "`my_mom(lookback=60, z=1.0) -- hosted by alice's notebook, v1, connected`" in listed
    b.execute_command("/help")
    assert "hosted by alice's notebook" in wait_until(lambda: reply("**Commands**"), 20)
