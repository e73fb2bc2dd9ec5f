"""Research runs on a real server: /walkforward, /compare_strategies ... symbols=, /run_backtest
... symbols= (and their typed startRun twins) -- one job each, progress, results equal to the
engine's, bad input refused before any job, a cancelled walk-forward keeping its windows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from chatops_widget import engine
from chatops_widget._serialization import from_arrow_bytes
from chatops_widget.server import EmbeddedServer, standard_plugins

CAT = engine.sample_catalog()
WF = "/walkforward sma_cross symbol=ALPHA fast=5:25:5 slow=30:90:30 train=2y test=1y"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = EmbeddedServer(
        data_dir=tmp_path_factory.mktemp("research-data"),
        plugins=standard_plugins(assistant=False),
    ).start()
    yield srv
    srv.stop()


async def _joined(raw_client_cls, srv, session_id):
    c = await raw_client_cls(srv.url, srv.token).connect()
    assert (await c.call("joinSession", session_id))["ok"]
    return c


async def _run(c, session_id, text, timeout=90.0):
    ack = await c.call("executeCommand", {"sessionId": session_id, "command": text})
    assert ack["ok"], ack
    return await c.wait_event("commandResult", lambda r: r["command"] == text, timeout=timeout)


async def _frames(c, session_id, run_id):
    ack = await c.call("getResult", {"sessionId": session_id, "runId": run_id})
    assert ack["ok"], ack
    return ack, {name: from_arrow_bytes(ack[name]) for name in ack["frames"]}


def _statuses(c, run_id):
    return [(p["status"], p["progress"]) for p in c.of("backtestProgress") if p["runId"] == run_id]


def test_walkforward_is_one_job_with_progress_per_window_and_equals_the_engine(
    server, raw_client_cls, arun
):
    async def scenario():
        sid = "session_wf"
        c = await _joined(raw_client_cls, server, sid)
        res = await _run(c, sid, WF)
        assert res["ok"], res
        s = res["summary"]
        assert s["kind"] == "walkforward" and s["windowCount"] == 8 and s["metric"] == "sharpe"
        steps = _statuses(c, res["runId"])
        assert steps[0] == ("queued", 0.0) and steps[-1] == ("completed", 100.0)
        progress = [p for _, p in steps]
        assert progress == sorted(progress) and len({p for p in progress if 0 < p < 100}) >= 6
        ack, frames = await _frames(c, sid, res["runId"])
        assert ack["kind"] == "walkforward" and sorted(frames) == ["equity", "trades", "windows"]
        local = engine.walk_forward(CAT.get("ALPHA"), "sma_cross",
                                    {"fast": [5, 10, 15, 20, 25], "slow": [30, 60, 90]},
                                    train="2y", test="1y")  # fmt: skip
        assert frames["windows"][["fast", "slow"]].values.tolist() == (
            local.windows[["fast", "slow"]].values.tolist()
        )
        assert np.allclose(frames["equity"]["equity"], local.equity["equity"], rtol=1e-12)
        for k in ("total_return", "sharpe", "wfe", "param_changes", "num_trades"):
            assert ack["stats"][k] == pytest.approx(local.stats[k], rel=1e-12)
        assert "walk-forward of `sma_cross` on ALPHA: 8 windows" in c.of("message")[-1]["content"]
        await c.close()

    arun(scenario(), timeout=150)


def test_typed_walkforward_equals_its_command(server, raw_client_cls, arun):
    async def scenario():
        sid = "session_wf_typed"
        c = await _joined(raw_client_cls, server, sid)
        req = {"sessionId": sid, "kind": "walkforward", "targets": ["strategy_1"],
               "grid": {"fast": [5, 10]}, "train": 500, "test": 250, "anchored": True,
               "metric": "sortino", "minTrades": 2, "runId": "run_wftyped"}  # fmt: skip
        ack = await c.call("startRun", req)
        text = ("/walkforward strategy_1 train=500 test=250 anchored=true metric=sortino "
                "min_trades=2 fast=5,10")  # fmt: skip
        assert ack["ok"] and ack["message"]["content"] == text, ack
        typed = await c.wait_event("commandResult", lambda r: r["runId"] == "run_wftyped", 120)
        chat = await _run(c, sid, text)
        assert typed["ok"] and chat["ok"]
        assert typed["summary"]["stats"] == chat["summary"]["stats"]
        assert typed["summary"]["symbol"] == "ALPHA"  # strategy_1's own symbol
        _, frames = await _frames(c, sid, "run_wftyped")
        assert (frames["windows"]["train_start"] == CAT.get("ALPHA").index[0]).all()
        assert set(frames["windows"]["slow"]) == {30}  # strategy_1's stored slow
        await c.close()

    arun(scenario(), timeout=200)


def test_compare_strategies_over_symbols_is_one_job_and_equals_the_engine(
    server, raw_client_cls, arun
):
    async def scenario():
        sid = "session_universe"
        c = await _joined(raw_client_cls, server, sid)
        text = "/compare_strategies strategy_1 strategy_2 buy_and_hold symbols=* commission=0.001"
        res = await _run(c, sid, text)
        assert res["ok"], res
        s = res["summary"]
        assert s["kind"] == "universe" and s["count"] == 15 and s["symbolCount"] == 5
        assert {r["strategy"] for r in s["ranking"]} == set(s["strategies"])
        runs = (await c.call("getRuns", {"sessionId": sid}))["runs"]
        assert [r["kind"] for r in runs] == ["universe"]  # one job, one progress bar
        _, frames = await _frames(c, sid, res["runId"])
        table = frames["table"]
        local = engine.compare_universe(
            CAT, {"strategy_1": ("sma_cross", {"fast": 10, "slow": 30}),
                  "strategy_2": ("ema_cross", {"fast": 12, "slow": 26}),
                  "buy_and_hold": "buy_and_hold"}, commission=0.001)  # fmt: skip
        mine = table.set_index(["strategy", "symbol"]).sort_index()
        theirs = local.table.set_index(["strategy", "symbol"]).sort_index()
        for col in engine.STAT_NAMES:
            assert np.allclose(mine[col], theirs[col], equal_nan=True, rtol=1e-12), col
        await c.close()

    arun(scenario(), timeout=150)


def test_portfolio_by_command_and_startrun_equals_the_engine(server, raw_client_cls, arun):
    async def scenario():
        sid = "session_portfolio"
        c = await _joined(raw_client_cls, server, sid)
        req = {"sessionId": sid, "kind": "portfolio", "targets": ["sma_cross"],
               "symbols": ["ALPHA", "bravo", "CHARLIE"], "weights": [0.5, 0.3, 0.2],
               "rebalance": "monthly", "params": {"fast": 5}, "commission": 0.001,
               "runId": "run_portfolio1"}  # fmt: skip
        ack = await c.call("startRun", req)
        text = ("/run_backtest sma_cross commission=0.001 symbols=ALPHA,BRAVO,CHARLIE "
                "weights=0.5,0.3,0.2 rebalance=monthly fast=5")  # fmt: skip
        assert ack["ok"] and ack["message"]["content"] == text, ack
        res = await c.wait_event("commandResult", lambda r: r["runId"] == "run_portfolio1", 90)
        assert res["ok"] and res["summary"]["kind"] == "portfolio"
        _, frames = await _frames(c, sid, "run_portfolio1")
        assert sorted(frames) == ["contributions", "equity", "positions", "rebalances",
                                  "sleeves", "trades"]  # fmt: skip
        local = engine.backtest_portfolio(CAT, "sma_cross", {"fast": 5},
                                          symbols=["ALPHA", "BRAVO", "CHARLIE"],
                                          weights=[0.5, 0.3, 0.2], rebalance="monthly",
                                          commission=0.001)  # fmt: skip
        assert np.allclose(frames["equity"]["equity"], local.equity["equity"], rtol=1e-12)
        assert frames["trades"]["symbol"].tolist() == local.trades["symbol"].tolist()
        assert res["summary"]["stats"]["sharpe"] == pytest.approx(local.stats["sharpe"])
        again = await _run(c, sid, text)  # the chat command runs the same
        assert again["summary"]["stats"] == res["summary"]["stats"]
        await c.close()

    arun(scenario(), timeout=150)


MANY = ",".join(f"S{i}" for i in range(1000))  # longer than a command may be
# 520 two-letter names fit in a command (1,559 characters) and are more than a run may take
SHORT_MANY = ",".join(
    f"{a}{b}" for a in "ABCDEFGHIJKLMNOPQRST" for b in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
)
BAD = [
    ("/walkforward sma_cross symbol=ALPHA fast=5:20:5 train=9y test=2y", "do not fit the data"),
    ("/walkforward sma_cross symbol=ALPHA fast=5:20:5 train=2y", "test= is required"),
    ("/walkforward buy_and_hold symbol=ALPHA train=2y test=6m", "no parameters to optimize"),
    ("/walkforward sma_cross fast=5:20:5 train=2y test=6m", "needs symbol="),
    (
        "/walkforward sma_cross symbol=ALPHA fast=5:20:5 train=2y test=6m metric=sharp",
        "did you mean 'sharpe'",
    ),
    ("/walkforward sma_cross symbol=ALPHA fast=5:20:5 train=2y test=6m min_trades=-1", ">= 0"),
    (
        "/walkforward sma_cross symbol=ALPHA fast=5:20:5 train=2y test=6m anchored=maybe",
        "true or false",
    ),
    (
        "/walkforward sma_cross symbol=ALPHA slow=400:500:50 train=300 test=250",
        "fits window 1's training period",
    ),
    (
        '/walkforward sma_cross symbol=ALPHA fast=5:20:5 train="2 fortnights" test=6m',
        "not a period",
    ),
    (
        "/compare_strategies strategy_1 strategy_2 symbols=ALPHA,BRAOV,ZULU",
        "unknown symbols BRAOV (did you mean BRAVO?), ZULU",
    ),
    ("/compare_strategies strategy_1 strategy_1 symbols=*", "more than once"),
    ("/compare_strategies strategy_1 symbols=ALPHA fast=5", "unknown option 'fast'"),
    ("/run_backtest strategy_1 symbols=ALPHA,BRAVO weights=0.5,0.6", "weights sum to 1.1"),
    ("/run_backtest strategy_1 symbols=ALPHA,BRAVO weights=1", "1 weights for 2 symbols"),
    ("/run_backtest strategy_1 symbols=ALPHA,BRAVO rebalance=daily", "rebalance must be one of"),
    ("/run_backtest strategy_1 symbols=ALPHA,ALPHA", "more than once"),
    ("/run_backtest strategy_1 symbols=*,ALPHA", "do not mix"),
    ("/run_backtest strategy_1 symbols=ALPHA slow=5000", "needs more than 5000 bars"),
    (f"/run_backtest strategy_1 symbols={MANY}", "the limit is 2000"),
    pytest.param(
        f"/run_backtest strategy_1 symbols={SHORT_MANY}",
        "520 symbols given; the limit is 500 per run",
        id="portfolio-520-symbols",
    ),
    pytest.param(
        f"/compare_strategies strategy_1 symbols={SHORT_MANY}",
        "520 symbols given; the limit is 500 per run",
        id="universe-520-symbols",
    ),
    ("/walkforward sma_cross symbol=ZULU fast=5:20:5 train=2y test=6m", "ZULU"),
    (
        "/walkforward sma_cross symbol=ALPHA fast=5:20:5 train=2y test=6m start=2024-06-01",
        "do not fit the data",
    ),
    ("/run_backtest strategy_1 symbols=ALPHA,BRAVO weights=0.5,0.5,0.5", "3 weights for 2"),
]


@pytest.mark.parametrize(("text", "fragment"), BAD)
def test_bad_research_input_is_refused_before_any_job(server, raw_client_cls, arun, text,
                                                      fragment):  # fmt: skip
    async def scenario():
        sid = "session_research_bad"
        c = await _joined(raw_client_cls, server, sid)
        before = (await c.call("getRuns", {"sessionId": sid}))["runs"]
        ack = await c.call("executeCommand", {"sessionId": sid, "command": text})
        if ack["ok"]:
            res = await c.wait_event("commandResult", lambda r: r["command"] == text)
            assert not res["ok"] and fragment in res["error"]["message"], res
        else:
            assert fragment in ack["error"]["message"], ack
        assert (await c.call("getRuns", {"sessionId": sid}))["runs"] == before
        await c.close()

    arun(scenario(), timeout=60)


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"symbols": [f"S{i}" for i in range(1000)]}, "1,000 symbols given; the limit is 500"),
        ({"symbols": ["ALPHA", "NOPE"]}, "unknown symbol NOPE"),
        ({"weights": [0.9, 0.2]}, "weights sum to 1.1"),
        ({"weights": "half"}, "weights"),
        ({"symbols": ["bad symbol"]}, "is not a symbol"),
        (
            {
                "kind": "walkforward",
                "symbols": None,
                "symbol": "ALPHA",
                "grid": {"fast": [5]},
                "train": "2y",
                "test": "50y",
            },
            "do not fit",
        ),
    ],
)
def test_bad_typed_research_requests_fail_their_ack(server, raw_client_cls, arun, change,
                                                    fragment):  # fmt: skip
    async def scenario():
        sid = "session_research_typed_bad"
        c = await _joined(raw_client_cls, server, sid)
        req = {"sessionId": sid, "kind": "portfolio", "targets": ["strategy_1"],
               "symbols": ["ALPHA", "BRAVO"], **change}  # fmt: skip
        req = {k: v for k, v in req.items() if v is not None}
        ack = await c.call("startRun", req)
        assert not ack["ok"] and fragment in ack["error"]["message"], ack
        assert (await c.call("getRuns", {"sessionId": sid}))["runs"] == []
        await c.close()

    arun(scenario(), timeout=60)


def test_cancel_keeps_the_finished_windows(server, raw_client_cls, arun):
    long_wf = ("/walkforward sma_cross symbol=BRAVO fast=2:60:2 slow=10:300:5 train=400 "
               "test=20 min_trades=1")  # fmt: skip

    async def scenario():
        sid = "session_wf_cancel"
        c = await _joined(raw_client_cls, server, sid)
        ack = await c.call("executeCommand", {"sessionId": sid, "command": long_wf})
        assert ack["ok"], ack
        first = await c.wait_event("backtestProgress", lambda p: p["progress"] >= 3, 120)
        run_id = first["runId"]
        assert (await _run(c, sid, f"/cancel {run_id}"))["ok"]
        end = await c.wait_event("commandResult", lambda r: r["command"] == long_wf, 120)
        s = end["summary"]
        assert s["status"] == "cancelled" and s["partial"] and 0 < s["windowsDone"] < 110
        said = f"{s['windowsDone']} of {s['windowsTotal']} windows had finished"
        await c.wait_event("message", lambda m: said in m["content"])
        ack, frames = await _frames(c, sid, run_id)
        assert ack["meta"]["partial"] and len(frames["windows"]) == s["windowsDone"]
        w = frames["windows"]
        assert frames["equity"].index[-1] == pd.Timestamp(w["test_end"].iloc[-1])
        await c.close()

    arun(scenario(), timeout=240)
