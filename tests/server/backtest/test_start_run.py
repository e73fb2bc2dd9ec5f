"""``startRun``: the typed twin of the run commands (the kernel client's way to start a run).

A real server on loopback and raw socket.io clients: the request is validated before its ack
(a bad one starts nothing), echoed into the chat as the command it equals, runs the same code as
that command (the same stats), and a retry after a reconnect does not run it twice.
"""

from __future__ import annotations

import pytest

from chatops_widget.server import EmbeddedServer, standard_plugins


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = EmbeddedServer(
        data_dir=tmp_path_factory.mktemp("start-run-data"),
        plugins=standard_plugins(assistant=False),
    ).start()
    yield srv
    srv.stop()


async def _joined(raw_client_cls, srv, session_id):
    c = await raw_client_cls(srv.url, srv.token).connect()
    assert (await c.call("joinSession", session_id))["ok"]
    return c


def test_a_typed_backtest_equals_its_command(server, raw_client_cls, arun):
    async def scenario():
        sid = "session_start_run"
        c = await _joined(raw_client_cls, server, sid)
        req = {"sessionId": sid, "kind": "backtest", "targets": ["strategy_1"],
               "params": {"fast": 12}, "commission": 0.001, "runId": "run_typed1",
               "clientMessageId": "m1"}  # fmt: skip
        ack = await c.call("startRun", req)
        assert ack["ok"] and ack["runId"] == "run_typed1", ack
        text = "/run_backtest strategy_1 commission=0.001 fast=12"
        assert ack["message"]["content"] == text and ack["message"]["metadata"]["command"]
        typed = await c.wait_event("commandResult", lambda r: r["runId"] == "run_typed1")
        assert typed["ok"] and typed["command"] == text
        await c.call("executeCommand", {"sessionId": sid, "command": text})
        chat = await c.wait_event(
            "commandResult", lambda r: r["command"] == text and r["runId"] != "run_typed1"
        )
        assert chat["summary"]["stats"] == typed["summary"]["stats"]
        assert chat["summary"]["params"] == typed["summary"]["params"]
        # the same request again (a retry after a reconnect): not run a second time
        again = await c.call("startRun", req)
        assert again["ok"] and again["runId"] == "run_typed1" and again.get("duplicate")
        runs = (await c.call("getRuns", {"sessionId": sid}))["runs"]
        assert [r["runId"] for r in runs].count("run_typed1") == 1
        await c.close()

    arun(scenario(), timeout=90)


@pytest.mark.parametrize(
    "change,code,fragment",
    [
        ({"targets": ["strategy_99"]}, "not_found", "unknown strategy 'strategy_99'"),
        ({"symbol": "ALHPA"}, "not_found", "did you mean ALPHA"),
        ({"params": {"fast": 50, "slow": 10}}, "bad_argument", "fast"),
        ({"start": "2020-13-45"}, "bad_argument", "not a valid date"),
        ({"start": "2021-01-01", "end": "2020-01-01"}, "bad_argument", "start <= end"),
        ({"spread": 0.9}, "bad_argument", "spread"),
        ({"spread": "wide"}, "bad_request", "spread"),
        ({"kind": "walk"}, "bad_request", "kind"),
        ({"targets": []}, "bad_request", "targets"),
        ({"grid": {"fast": [5, 10]}}, "bad_argument", "ranges are for a sweep"),
        ({"kind": "comparison"}, "bad_argument", "two or more"),
        ({"kind": "sweep", "targets": ["sma_cross"]}, "bad_argument", "symbol="),
        ({"runId": "run_abc\n"}, "bad_request", "run id"),  # a trailing newline: fullmatch
        ({"extra": 1}, "bad_request", "unknown field 'extra'"),
    ],
)
def test_a_bad_request_fails_its_ack_and_starts_nothing(server, raw_client_cls, arun, change,
                                                        code, fragment):  # fmt: skip
    async def scenario():
        sid = "session_start_bad"
        c = await _joined(raw_client_cls, server, sid)
        before = (await c.call("getRuns", {"sessionId": sid}))["runs"]
        req = {"sessionId": sid, "kind": "backtest", "targets": ["strategy_1"], **change}
        ack = await c.call("startRun", req)
        assert not ack["ok"] and ack["error"]["code"] == code, ack
        assert fragment in ack["error"]["message"], ack
        after = (await c.call("getRuns", {"sessionId": sid}))["runs"]
        assert after == before and not c.of("commandResult")
        await c.close()

    arun(scenario(), timeout=60)


def test_start_run_needs_the_session_joined(server, raw_client_cls, arun):
    async def scenario():
        c = await raw_client_cls(server.url, server.token).connect()
        req = {"sessionId": "session_other", "kind": "backtest", "targets": ["strategy_1"]}
        ack = await c.call("startRun", req)
        assert not ack["ok"] and ack["error"]["code"] == "not_joined"
        await c.close()

    arun(scenario(), timeout=30)
