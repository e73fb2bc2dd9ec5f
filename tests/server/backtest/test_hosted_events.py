"""The hosted-strategy events on the wire, with raw socket.io clients playing the owner's
kernel: names at connect, registrations, answers only from the owner, frames checked and
stats recomputed, published results checked."""

from __future__ import annotations

import asyncio

import pytest

from chatops_widget import engine
from chatops_widget._serialization import from_arrow_bytes, to_arrow_bytes

OWNER = {"name": "mallory", "clientId": "m" * 24}
SPEC = [{"name": "n", "type": "int", "default": 20, "min": 2, "max": 200}]


async def _connect(raw_client_cls, server, session, **auth):
    c = await raw_client_cls(server.url, server.token).connect({"token": server.token, **auth})
    ack = await c.call("joinSession", {"sessionId": session})
    assert ack["ok"], ack
    return c


def test_names_at_connect(embedded_server, raw_client_cls, arun):
    async def scenario():
        bad = raw_client_cls(embedded_server.url, embedded_server.token)
        with pytest.raises(Exception):  # noqa: B017 (socketio's ConnectionError)
            await bad.connect({"token": embedded_server.token, "name": "<img src=x>"})
        assert bad.refused["message"].startswith("bad_request: name '<img src=x>' is not valid")
        c = await _connect(raw_client_cls, embedded_server, "session_names", name="Ada  L.")
        sent = await c.call("sendMessage", {"sessionId": "session_names", "content": "hi"})
        assert sent["message"]["metadata"] == {"sender": "Ada L."}
        anon = await _connect(raw_client_cls, embedded_server, "session_names")
        sent = await anon.call("sendMessage", {"sessionId": "session_names", "content": "yo"})
        assert sent["message"]["metadata"] == {"sender": "guest"}
        await c.close()
        await anon.close()

    arun(scenario())


def test_registrations_are_checked(embedded_server, raw_client_cls, arun):
    async def scenario():
        session = "session_reg"
        seed = await _connect(raw_client_cls, embedded_server, session, name="seed")
        ack = await seed.call("registerStrategy", {"sessionId": session, "name": "x1"})
        assert ack["error"]["code"] == "bad_request" and "clientId" in ack["error"]["message"]
        owner = await _connect(raw_client_cls, embedded_server, session, **OWNER)
        bad = [{"name": "n", "type": "int", "default": 500, "min": 2, "max": 200}]
        ack = await owner.call(
            "registerStrategy", {"sessionId": session, "name": "x1", "params": bad}
        )
        assert ack["error"]["code"] == "bad_argument" and "must be in [2, 200]" in str(ack)
        ack = await owner.call(
            "registerStrategy",
            {
                "sessionId": session,
                "name": "x1",
                "params": [{"name": "n", "type": "int", "default": 1.5}],
            },
        )
        assert ack["error"]["code"] == "bad_request" and "is not a int" in str(ack)
        ack = await owner.call("registerStrategy", {"sessionId": session, "name": "run_x"})
        assert "looks like a strategy, run or session id" in ack["error"]["message"]
        ack = await owner.call(
            "registerStrategy",
            {"sessionId": session, "name": "x1", "params": SPEC, "code": "import os"},
        )
        assert ack["error"]["code"] == "bad_request" and "unknown field 'code'" in str(ack)
        ok = await owner.call(
            "registerStrategy", {"sessionId": session, "name": "x1", "params": SPEC}
        )
        assert ok["ok"] and ok["version"] == "v1" and "clientId" not in str(ok)
        again = await owner.call(
            "registerStrategy",
            {"sessionId": session, "name": "x1", "params": SPEC, "version": "v1"},
        )
        assert again["ok"] and again["version"] == "v1" and not again["changed"]
        gone = await seed.call("unregisterStrategy", {"sessionId": session, "name": "x1"})
        assert gone["error"]["code"] == "forbidden"
        await seed.close()
        await owner.close()

    arun(scenario())


def test_only_the_owner_answers_and_what_it_sends_is_checked(embedded_server, raw_client_cls, arun):
    async def scenario():
        session = "session_raw_owner"
        owner = await _connect(raw_client_cls, embedded_server, session, **OWNER)
        bob = await _connect(raw_client_cls, embedded_server, session, name="bob")
        eve = await _connect(
            raw_client_cls, embedded_server, session, name="eve", clientId="e" * 24
        )
        ok = await owner.call(
            "registerStrategy", {"sessionId": session, "name": "raw_sma", "params": SPEC}
        )
        assert ok["ok"]

        async def run_once(answer):
            ack = await bob.call(
                "startRun",
                {
                    "sessionId": session,
                    "kind": "backtest",
                    "targets": ["raw_sma"],
                    "params": {"n": 30},
                },
            )
            assert ack["ok"], ack
            run_id = ack["runId"]
            req = await owner.wait_event("hostedRun", lambda p: p["runId"] == run_id)
            assert req["params"] == {"n": 30} and req["startedBy"] == "bob"
            forged = await eve.call(
                "hostedResult",
                {"runId": run_id, "ok": False, "error": {"type": "X", "message": "y"}},
            )
            assert forged["error"]["code"] == "not_found"
            await answer(run_id, from_arrow_bytes(req["data"]))
            end = await bob.wait_event(
                "backtestProgress",
                lambda p: p["runId"] == run_id and p["status"] in ("completed", "failed"),
                timeout=30,
            )
            if end["status"] == "failed":
                return {"ok": False, "error": end["message"], "runId": run_id}
            return await bob.wait_event("commandResult", lambda r: r.get("runId") == run_id)

        async def short_curve(run_id, data):
            res = engine.backtest(data.iloc[:100], "sma_cross")
            frames = {"equity": to_arrow_bytes(res.equity), "trades": to_arrow_bytes(res.trades)}
            await owner.call("hostedResult", {"runId": run_id, "ok": True, "frames": frames})

        result = await run_once(short_curve)
        assert not result["ok"] and "it must cover the data it was sent" in str(result["error"])

        async def inflated(run_id, data):
            res = engine.backtest(data, "sma_cross", {"slow": 30})
            frames = {"equity": to_arrow_bytes(res.equity), "trades": to_arrow_bytes(res.trades)}
            await owner.call(
                "hostedResult",
                {"runId": run_id, "ok": True, "frames": frames, "stats": {"sharpe": 99.0}},
            )

        result = await run_once(inflated)
        assert result["ok"], result
        want = engine.backtest(engine.sample_catalog().get("ALPHA"), "sma_cross", {"slow": 30})
        assert result["summary"]["stats"]["sharpe"] == pytest.approx(want.stats["sharpe"])

        async def not_arrow(run_id, data):
            frames = {"equity": b"\x00" * 64, "trades": b"{}"}
            await owner.call("hostedResult", {"runId": run_id, "ok": True, "frames": frames})

        result = await run_once(not_arrow)
        assert "equity is not a readable Arrow IPC stream" in str(result["error"])
        late = await owner.call("hostedProgress", {"runId": result["runId"], "progress": 50})
        assert late["error"]["code"] == "not_found"
        for c in (owner, bob, eve):
            await c.close()

    arun(scenario(), timeout=120)


def test_published_frames_are_checked(embedded_server, raw_client_cls, arun):
    async def scenario():
        session = "session_pub_raw"
        c = await _connect(raw_client_cls, embedded_server, session, name="pat")
        bad = await c.call(
            "publishResult",
            {"sessionId": session, "name": "mine", "frames": {"equity": b"nope", "trades": b"no"}},
        )
        assert bad["error"]["code"] == "bad_argument"
        res = engine.backtest(engine.sample_catalog().get("BRAVO"), "sma_cross")
        frames = {"equity": to_arrow_bytes(res.equity), "trades": to_arrow_bytes(res.trades)}
        big = {**frames, "trades": b"\x00" * (16 * 2**20)}
        huge = await c.call("publishResult", {"sessionId": session, "name": "mine", "frames": big})
        assert huge["error"]["code"] == "too_large"
        ok = await c.call(
            "publishResult",
            {"sessionId": session, "name": "mine", "frames": frames, "stats": {"sharpe": 42.0}},
        )
        assert ok["ok"]
        done = await c.wait_event("commandResult", lambda r: r.get("runId") == ok["runId"])
        assert done["summary"]["stats"]["sharpe"] == pytest.approx(res.stats["sharpe"])
        await asyncio.sleep(0)
        await c.close()

    arun(scenario())
