"""``backtestProgress`` events always say what runs: ``strategyId`` is the stored strategy's id,
the template name for a sweep, and the ids joined by "," for a comparison. A real server on
loopback and a raw python-socketio client."""

from __future__ import annotations

import pytest

from chatops_widget.server import EmbeddedServer, standard_plugins


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = EmbeddedServer(
        data_dir=tmp_path_factory.mktemp("progress-data"), plugins=standard_plugins(assistant=False)
    ).start()
    yield srv
    srv.stop()


@pytest.mark.parametrize(
    "text,strategy_id",
    [
        ("/sweep sma_cross symbol=ALPHA fast=5:20:5 slow=30:60:10", "sma_cross"),
        ("/sweep ema_cross symbol=BRAVO fast=5,8", "ema_cross"),
        ("/compare_strategies strategy_1 strategy_2", "strategy_1,strategy_2"),
        ("/run_backtest strategy_3", "strategy_3"),
    ],
)
def test_every_progress_event_carries_the_strategy_id(
    server, raw_client_cls, arun, text, strategy_id
):
    async def scenario():
        sid = "session_progress_ids"
        c = await raw_client_cls(server.url, server.token).connect()
        assert (await c.call("joinSession", sid))["ok"]
        ack = await c.call("executeCommand", {"sessionId": sid, "command": text})
        assert ack["ok"], ack
        res = await c.wait_event("commandResult", lambda r: r["command"] == text, timeout=60)
        assert res["ok"], res
        run_id = res["runId"]
        events = [p for p in c.of("backtestProgress") if p["runId"] == run_id]
        assert events[0]["status"] == "queued" and events[-1]["status"] == "completed"
        assert [e["strategyId"] for e in events] == [strategy_id] * len(events), events
        status = await c.call("executeCommand", {"sessionId": sid, "command": "/status"})
        assert status["ok"]
        rows = await c.wait_event("commandResult", lambda r: r["command"] == "/status")
        by_run = {r["runId"]: r for r in rows["summary"]["runs"]}
        assert by_run[run_id]["strategyId"] == strategy_id  # /status and client.runs too
        await c.close()

    arun(scenario(), timeout=90)
