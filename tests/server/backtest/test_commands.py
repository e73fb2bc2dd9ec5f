"""The backtest commands over the wire: a real server (worker pool, result store) on loopback and
raw python-socketio clients, checked against the engine run locally."""

from __future__ import annotations

import asyncio

import pandas as pd
import pytest

from chatops_widget import engine
from chatops_widget._serialization import from_arrow_bytes
from chatops_widget.server import EmbeddedServer, standard_plugins

CONTRACT_BACKTEST = {"kind", "runId", "strategyId", "template", "symbol", "params", "stats"}
# a grid big enough (~16k combinations) that a cancel lands long before the end
LONG_SWEEP = "/sweep sma_cross symbol=ALPHA fast=2:100:1 slow=10:110:1 short=true,false"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = EmbeddedServer(
        data_dir=tmp_path_factory.mktemp("bt-data"), plugins=standard_plugins(assistant=False)
    ).start()
    yield srv
    srv.stop()


async def _joined(raw_client_cls, srv, session_id):
    c = await raw_client_cls(srv.url, srv.token).connect()
    ack = await c.call("joinSession", session_id)
    assert ack["ok"], ack
    return c, ack


async def _run(c, session_id, text, timeout=30.0):
    """Send a command; return its (new) commandResult."""
    before = [r for r in c.of("commandResult") if r["command"] == text]
    ack = await c.call("executeCommand", {"sessionId": session_id, "command": text})
    assert ack["ok"], ack
    return await c.wait_event(
        "commandResult", lambda r: r["command"] == text and r not in before, timeout=timeout
    )


def _progress(c, run_id):
    return [p for p in c.of("backtestProgress") if p["runId"] == run_id]


def test_join_ack_lists_seeded_strategies_templates_and_runs(server, raw_client_cls, arun):
    async def scenario():
        c, ack = await _joined(raw_client_cls, server, "session_bt_join")
        ids = [s["id"] for s in ack["strategies"]]
        assert ids[:5] == [f"strategy_{i}" for i in range(1, 6)]
        templates = {s["template"] for s in ack["strategies"]}
        assert {"sma_cross", "ema_cross", "rsi_reversion", "bollinger", "buy_and_hold"} <= templates
        assert {t["name"] for t in ack["templates"]} == set(engine.templates())
        assert ack["runs"] == []
        names = {c["name"] for c in ack["commands"]}
        assert {"run_backtest", "compare_strategies", "sweep", "status", "cancel", "result",
                "strategies", "data", "create_strategy"} <= names  # fmt: skip
        await c.close()

    arun(scenario())


def test_run_backtest_streams_progress_to_everyone_and_matches_the_engine(
    server, raw_client_cls, arun
):
    async def scenario():
        sid = "session_bt_run"
        a, _ = await _joined(raw_client_cls, server, sid)
        b, _ = await _joined(raw_client_cls, server, sid)
        res = await _run(a, sid, "/run_backtest strategy_1 fast=12 start=2018-01-01")
        assert res["ok"], res
        s = res["summary"]
        assert set(s) >= CONTRACT_BACKTEST
        assert (s["kind"], s["strategyId"], s["template"], s["symbol"]) == (
            "backtest", "strategy_1", "sma_cross", "ALPHA"
        )  # fmt: skip
        assert s["params"] == {"fast": 12, "slow": 30, "short": False}
        run_id = res["runId"]
        assert run_id == s["runId"] and run_id.startswith("run_")
        for c in (a, b):  # the whole session sees progress, monotonic, ending at 100/completed
            await c.wait_event("backtestProgress", lambda p: p["runId"] == run_id
                               and p["status"] == "completed")  # fmt: skip
            prog = _progress(c, run_id)
            assert prog[0]["status"] == "queued" and prog[0]["strategyId"] == "strategy_1"
            values = [p["progress"] for p in prog]
            assert values == sorted(values) and values[-1] == 100
        # the result: Arrow IPC bytes, equal to the engine run locally
        got = await b.call("getResult", {"sessionId": sid, "runId": run_id})
        assert got["ok"] and got["kind"] == "backtest" and isinstance(got["equity"], bytes)
        want = engine.backtest(
            engine.sample_catalog().get("ALPHA", "2018-01-01"), "sma_cross", {"fast": 12}
        )
        pd.testing.assert_frame_equal(from_arrow_bytes(got["equity"]), want.equity)
        pd.testing.assert_frame_equal(from_arrow_bytes(got["trades"]), want.trades)
        assert got["stats"]["sharpe"] == pytest.approx(want.stats["sharpe"])
        assert s["stats"]["num_trades"] == want.stats["num_trades"]
        # the chat shows the command and an assistant summary
        msg = await b.wait_event("message", lambda m: m["role"] == "assistant"
                                 and run_id in m["content"])  # fmt: skip
        assert msg["metadata"]["commandResult"]["runId"] == run_id
        # /result repeats the summary; /status lists the run
        again = await _run(b, sid, f"/result {run_id}")
        assert again["summary"]["stats"] == s["stats"]
        status = await _run(a, sid, "/status")
        assert [r["runId"] for r in status["summary"]["runs"]] == [run_id]
        assert status["summary"]["runs"][0]["status"] == "completed"
        await a.close()
        await b.close()

    arun(scenario())


def test_template_run_with_params_and_a_chosen_run_id(server, raw_client_cls, arun):
    async def scenario():
        sid = "session_bt_template"
        a, _ = await _joined(raw_client_cls, server, sid)
        text = "/run_backtest bollinger symbol=bravo window=15 k=1.5 commission=0.001 run_id=run_t1"
        res = await _run(a, sid, text)
        assert res["ok"], res
        assert res["runId"] == "run_t1" and res["summary"]["symbol"] == "BRAVO"
        assert res["summary"]["params"] == {"window": 15, "k": 1.5, "short": False}
        assert res["summary"]["stats"]["commission"] == 0.001
        dup = await _run(a, sid, text)  # the same run id again is refused
        assert not dup["ok"] and "already used" in dup["error"]["message"]
        await a.close()

    arun(scenario())


def test_compare_strategies_gives_a_side_by_side_table(server, raw_client_cls, arun):
    async def scenario():
        sid = "session_bt_compare"
        a, _ = await _joined(raw_client_cls, server, sid)
        res = await _run(a, sid, "/compare_strategies strategy_1 strategy_2 strategy_5")
        assert res["ok"], res
        s = res["summary"]
        assert s["kind"] == "comparison" and s["strategies"] == [
            "strategy_1", "strategy_2", "strategy_5"
        ]  # fmt: skip
        assert set(s["table"]["sharpe"]) == {"strategy_1", "strategy_2", "strategy_5"}
        bh = engine.backtest(engine.sample_catalog().get("ALPHA"), "buy_and_hold")
        assert s["table"]["total_return"]["strategy_5"] == pytest.approx(bh.stats["total_return"])
        got = await a.call("getResult", {"sessionId": sid, "runId": res["runId"]})
        equity = from_arrow_bytes(got["equity"])
        table = from_arrow_bytes(got["table"])
        assert list(equity.columns) == ["strategy_1", "strategy_2", "strategy_5"]
        assert equity["strategy_5"].iloc[-1] == pytest.approx(bh.equity["equity"].iloc[-1])
        assert "sharpe" in table.index and list(table.columns) == list(equity.columns)
        await a.close()

    arun(scenario())


def test_sweep_returns_one_row_per_valid_combination(server, raw_client_cls, arun):
    async def scenario():
        sid = "session_bt_sweep"
        a, _ = await _joined(raw_client_cls, server, sid)
        res = await _run(a, sid, "/sweep sma_cross symbol=ALPHA fast=5:25:5 slow=10:40:10")
        assert res["ok"], res
        s = res["summary"]
        combos, skipped = engine.expand_grid(
            engine.templates()["sma_cross"],
            {"fast": range(5, 26, 5), "slow": range(10, 41, 10)},
            2608,
        )
        assert (s["count"], s["skipped"]) == (len(combos), skipped)
        sharpe = [r["sharpe"] for r in s["rows"]]
        assert sharpe == sorted(sharpe, reverse=True)
        table = from_arrow_bytes(
            (await a.call("getResult", {"sessionId": sid, "runId": res["runId"]}))["table"]
        )
        got = {(r.fast, r.slow) for r in table.itertuples()}
        assert got == {(c["fast"], c["slow"]) for c in combos} and len(table) == len(combos)
        prog = [p["progress"] for p in _progress(a, res["runId"])]
        # a small grid is one task (splitting would not pay): progress 0, then 100 (smooth
        # progress of long sweeps: tests/server/backtest/test_scale_jobs.py)
        assert prog == sorted(prog) and prog[0] == 0 and prog[-1] == 100
        await a.close()

    arun(scenario())


def test_cancel_stops_a_long_sweep_and_chat_stays_responsive(server, raw_client_cls, arun):
    async def scenario():
        sid = "session_bt_cancel"
        a, _ = await _joined(raw_client_cls, server, sid)
        ack = await a.call("executeCommand", {"sessionId": sid, "command": LONG_SWEEP})
        assert ack["ok"]
        first = await a.wait_event("backtestProgress", lambda p: p["progress"] > 0)
        run_id = first["runId"]
        # chat works while the sweep runs in the worker pool
        sent = await a.call("sendMessage", {"sessionId": sid, "content": "still there?"})
        assert sent["ok"]
        assert _progress(a, run_id)[-1]["status"] == "running"
        res = await _run(a, sid, f"/cancel {run_id}")
        assert res["ok"] and res["summary"]["status"] == "cancelling"
        end = await a.wait_event("commandResult", lambda r: r["command"] == LONG_SWEEP)
        assert end["summary"]["status"] == "cancelled" and end["runId"] == run_id
        last = _progress(a, run_id)[-1]
        assert last["status"] == "cancelled" and last["progress"] < 100
        # terminal: no result, a second cancel is refused, the session keeps working
        nope = await a.call("getResult", {"sessionId": sid, "runId": run_id})
        assert not nope["ok"] and nope["error"]["code"] == "not_found"
        again = await _run(a, sid, f"/cancel {run_id}")
        assert not again["ok"] and "already cancelled" in again["error"]["message"]
        ok = await _run(a, sid, "/run_backtest strategy_5")
        assert ok["ok"] and ok["summary"]["stats"]["num_trades"] == 1
        await a.close()

    arun(scenario(), timeout=120)


BAD_INPUTS = [
    ("/run_backtest strategy_99", "not_found", "unknown strategy 'strategy_99'"),
    ("/run_backtest sma_crss", "not_found", "did you mean"),
    ("/run_backtest sma_cross symbol=ALPA", "not_found", "did you mean ALPHA"),
    ("/run_backtest strategy_1 start=2020-13-45", "bad_argument", "YYYY-MM-DD"),
    ("/run_backtest strategy_1 start=yesterday", "bad_argument", "YYYY-MM-DD"),
    ("/run_backtest strategy_1 start=2021-01-01 end=2020-01-01", "bad_argument", "after end"),
    ("/run_backtest strategy_1 fast=abc", "bad_argument", "'fast' must be"),
    ("/run_backtest strategy_1 fast=40", "bad_argument", "fast"),
    ("/run_backtest strategy_1 fats=5", "bad_argument", "did you mean 'fast'"),
    ("/run_backtest strategy_1 cash=-5", "bad_argument", "cash"),
    ("/run_backtest", "bad_argument", "Usage"),
    ("/run_backtest strategy_1 start=2024-12-31", "bad_argument", "only 1 bar"),
    ("/compare_strategies strategy_1", "bad_argument", "two or more"),
    ("/compare_strategies strategy_1 strategy_1", "bad_argument", "more than once"),
    ("/compare_strategies strategy_1 strategy_42", "not_found", "strategy_42"),
    ("/sweep sma_cross fast=5:10", "bad_argument", "symbol= is required"),
    ("/sweep sma_cross symbol=ALPHA fast=10:5", "bad_argument", "lo must be <= hi"),
    ("/sweep sma_cross symbol=ALPHA fast=1:x:1", "bad_argument", "range"),
    ("/sweep sma_cross symbol=ALPHA fast=50:60 slow=10:20", "bad_argument", "none of the"),
    ("/sweep sma_cross symbol=ALPHA fast=1:1000 slow=2:1000", "bad_argument", "limit"),
    ("/cancel run_nope", "not_found", "no run 'run_nope'"),
    ("/cancel strategy_1", "bad_argument", "not a run id"),
    ("/result run_nope", "not_found", "/status"),
    ("/create_strategy sma_cross fast=5", "bad_argument", "symbol= is required"),
    ("/create_strategy sma_cross symbol=ALPHA slow=1", "bad_argument", "slow"),
    ("/run_backtest strategy_1 run_id=bad", "bad_argument", "not a run id"),
]


def test_each_bad_input_gets_a_clear_error_and_the_session_keeps_working(
    server, raw_client_cls, arun
):
    async def scenario():
        sid = "session_bt_bad"
        a, _ = await _joined(raw_client_cls, server, sid)
        for text, code, needle in BAD_INPUTS:
            res = await _run(a, sid, text)
            assert not res["ok"], text
            assert res["error"]["code"] == code, (text, res["error"])
            assert needle in res["error"]["message"], (text, res["error"]["message"])
            err = await a.wait_event(
                "error", lambda e, m=res["error"]["message"]: e["message"] == m
            )
            assert err["sessionId"] == sid
        # bad grammar is refused at the ack
        ack = await a.call("executeCommand", {"sessionId": sid, "command": "/run_backtest =5"})
        assert not ack["ok"] and "no name before '='" in ack["error"]["message"]
        # getResult: unknown run, another session's run, malformed payload
        for payload, code in [
            ({"sessionId": sid, "runId": "run_missing"}, "not_found"),
            ({"sessionId": sid, "runId": 5}, "bad_request"),
            ({"sessionId": "session_elsewhere", "runId": "run_x"}, "not_joined"),
        ]:
            got = await a.call("getResult", payload)
            assert not got["ok"] and got["error"]["code"] == code, (payload, got)
        ok = await _run(a, sid, "/run_backtest strategy_2")
        assert ok["ok"], ok
        other, _ = await _joined(raw_client_cls, server, "session_bt_other")
        got = await other.call("getResult", {"sessionId": "session_bt_other", "runId": ok["runId"]})
        assert not got["ok"] and got["error"]["code"] == "not_found"
        await a.close()
        await other.close()

    arun(scenario(), timeout=120)


def test_strategies_data_and_create_strategy(server, raw_client_cls, arun):
    async def scenario():
        sid = "session_bt_strat"
        a, _ = await _joined(raw_client_cls, server, sid)
        data = await _run(a, sid, "/data")
        syms = [d["symbol"] for d in data["summary"]["symbols"]]
        assert syms == engine.sample_catalog().symbols()
        assert data["summary"]["symbols"][0]["bars"] == 2608
        made = await _run(
            a, sid, '/create_strategy ema_cross symbol=echo fast=5 slow=20 name="quick EMA"'
        )
        assert made["ok"], made
        new_id = made["summary"]["strategyId"]
        info = made["summary"]["strategy"]
        assert (info["name"], info["symbol"], info["params"]["fast"]) == ("quick EMA", "ECHO", 5)
        listed = await _run(a, sid, "/strategies")
        assert new_id in [s["id"] for s in listed["summary"]["strategies"]]
        run = await _run(a, sid, f"/run_backtest {new_id}")
        assert run["ok"] and run["summary"]["symbol"] == "ECHO"
        await a.close()

    arun(scenario())


def test_results_and_strategies_survive_a_restart(tmp_path, raw_client_cls, arun):
    async def first(srv):
        a, _ = await _joined(raw_client_cls, srv, "session_bt_persist")
        made = await _run(a, "session_bt_persist", "/create_strategy momentum symbol=DELTA")
        run = await _run(a, "session_bt_persist", f"/run_backtest {made['summary']['strategyId']}")
        got = await a.call("getResult", {"sessionId": "session_bt_persist", "runId": run["runId"]})
        await a.close()
        return made["summary"]["strategyId"], run["runId"], from_arrow_bytes(got["equity"])

    async def second(srv, sid_, run_id):
        a, ack = await _joined(raw_client_cls, srv, "session_bt_persist")
        assert sid_ in [s["id"] for s in ack["strategies"]]
        assert [r["runId"] for r in ack["runs"]] == [run_id]
        got = await a.call("getResult", {"sessionId": "session_bt_persist", "runId": run_id})
        await a.close()
        return got

    with EmbeddedServer(data_dir=tmp_path, plugins=standard_plugins(assistant=False)) as srv:
        strategy_id, run_id, equity = arun(first(srv))
    assert (tmp_path / "results" / run_id / "equity.parquet").exists()
    with EmbeddedServer(data_dir=tmp_path, plugins=standard_plugins(assistant=False)) as srv:
        got = arun(second(srv, strategy_id, run_id))
    assert got["ok"] and got["meta"]["summary"]["strategyId"] == strategy_id
    pd.testing.assert_frame_equal(from_arrow_bytes(got["equity"]), equity)


def test_get_result_with_wait_is_answered_as_the_run_completes(server, raw_client_cls, arun):
    async def scenario():
        sid = "session_bt_wait"
        a, _ = await _joined(raw_client_cls, server, sid)
        b, _ = await _joined(raw_client_cls, server, sid)
        assert (await _run(a, sid, "/run_backtest strategy_5"))["ok"]  # the workers are up
        text = "/run_backtest strategy_1 fast=7 run_id=run_waitdemo1"
        ack = await a.call("executeCommand", {"sessionId": sid, "command": text})
        assert ack["ok"], ack
        await a.wait_event("backtestProgress", lambda p: p["runId"] == "run_waitdemo1")
        # asked before the run ends: the answer comes when the result exists
        got = await a.call("getResult", {"sessionId": sid, "runId": "run_waitdemo1", "wait": True})
        assert got["ok"] and not got.get("pending"), got
        assert got["meta"]["summary"]["params"]["fast"] == 7
        local = engine.backtest(engine.sample_catalog().get("ALPHA"), "sma_cross", {"fast": 7})
        pd.testing.assert_frame_equal(from_arrow_bytes(got["equity"]), local.equity)
        # the rest of the contract is unchanged: everyone gets completed, commandResult, summary
        res = await a.wait_event("commandResult", lambda r: r["command"] == text)
        assert res["ok"] and res["summary"]["stats"] == got["stats"]
        for c in (a, b):
            statuses = [p["status"] for p in _progress(c, "run_waitdemo1")]
            assert statuses[0] == "queued" and statuses[-1] == "completed", statuses
            await c.wait_event("message", lambda m: m["role"] == "assistant")
        plain = await b.call("getResult", {"sessionId": sid, "runId": "run_waitdemo1"})
        assert plain["equity"] == got["equity"] and plain["trades"] == got["trades"]

        # still running when the wait ends: a "pending" answer (ask again), then it is cancelled
        sweep, run_id = f"{LONG_SWEEP} run_id=run_waitsweep1", "run_waitsweep1"
        ack = await a.call("executeCommand", {"sessionId": sid, "command": sweep})
        await a.wait_event(
            "backtestProgress", lambda p: p["runId"] == run_id and p["status"] == "running"
        )
        got = await a.call("getResult", {"sessionId": sid, "runId": run_id, "wait": 0.05})
        assert got["ok"] and got["pending"] and got["status"] == "running", got
        # a parked wait holds back none of the connection's later events: a chat message sent
        # after it is stored, announced and acked while the wait still runs
        parked = asyncio.ensure_future(
            a.call("getResult", {"sessionId": sid, "runId": run_id, "wait": True})
        )
        await asyncio.sleep(0.05)  # the getResult is on the wire first
        sent = await a.call("sendMessage", {"sessionId": sid, "content": "meanwhile"})
        assert sent["ok"] and not parked.done(), (sent, parked)
        got = await parked
        assert got["ok"] and got["pending"], got  # the sweep outlasts the wait (WAIT_MAX)
        assert (await _run(a, sid, f"/cancel {run_id}"))["ok"]
        await a.wait_event("commandResult", lambda r: r["command"] == sweep, timeout=60)

        bad = await a.call("getResult", {"sessionId": sid, "runId": "run_waitdemo1", "wait": "x"})
        assert not bad["ok"] and bad["error"]["code"] == "bad_request"
        assert "wait must be" in bad["error"]["message"]
        for c in (a, b):
            await c.close()

    arun(scenario(), timeout=120)
