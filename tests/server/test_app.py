"""The server over the wire: a real server on loopback and raw python-socketio clients."""

from __future__ import annotations

import asyncio

import pytest
import socketio

from chatops_widget.protocol import MAX_CONTENT_CHARS, ChatMessage


def _session(name: str) -> str:
    return f"session_{name}"


async def _joined(raw_client_cls, srv, session_id, **join):
    c = await raw_client_cls(srv.url, srv.token).connect()
    ack = await c.call("joinSession", {"sessionId": session_id, **join})
    assert ack["ok"], ack
    return c, ack


@pytest.mark.parametrize("auth", [None, {}, {"token": ""}, {"token": "wrong"}, "nope"])
def test_connect_is_refused_without_the_right_token(demo_server, raw_client_cls, arun, auth):
    async def scenario():
        c = raw_client_cls(demo_server.url, demo_server.token)
        with pytest.raises(socketio.exceptions.ConnectionError):
            await c.connect(auth=auth)
        assert "unauthorized" in str(c.refused)
        # the right token still works afterwards
        ok = await raw_client_cls(demo_server.url, demo_server.token).connect()
        await ok.close()

    arun(scenario())


def test_join_send_broadcast_to_everyone_including_sender(demo_server, raw_client_cls, arun):
    async def scenario():
        sid = _session("broadcast")
        a, ack = await _joined(raw_client_cls, demo_server, sid)
        assert ack["sessionId"] == sid and ack["messages"] == [] and ack["lastSeq"] == 0
        assert "help" in [c["name"] for c in ack["commands"]]
        assert ack["strategies"] == [{"id": "strategy_1"}]  # join_extras hook
        b, _ = await _joined(raw_client_cls, demo_server, sid)
        sent = await a.call("sendMessage", {"sessionId": sid, "content": "hello"})
        assert sent["ok"] and sent["message"]["content"] == "hello"
        for c in (a, b):
            got = await c.wait_event("message", lambda m: m["content"] == "hello")
            msg = ChatMessage.model_validate(got)  # the seed's ChatMessage + seq
            assert (msg.role, msg.sessionId, msg.seq) == ("user", sid, 1)
            assert got["timestamp"].endswith("Z")
        await a.close()
        await b.close()

    arun(scenario())


def test_seq_is_monotonic_and_join_returns_the_backlog_after_last_seq(
    demo_server, raw_client_cls, arun
):
    async def scenario():
        sid = _session("backlog")
        a, _ = await _joined(raw_client_cls, demo_server, sid)
        seqs = []
        for i in range(5):
            ack = await a.call("sendMessage", {"sessionId": sid, "content": f"m{i}"})
            seqs.append(ack["message"]["seq"])
        assert seqs == [1, 2, 3, 4, 5]
        late, ack = await _joined(raw_client_cls, demo_server, sid, lastSeq=3)
        assert [m["seq"] for m in ack["messages"]] == [4, 5]
        assert [m["content"] for m in ack["messages"]] == ["m3", "m4"]
        assert ack["lastSeq"] == 5
        # the seed's plain-string join gets the whole history
        full = await late.call("joinSession", sid)
        assert [m["seq"] for m in full["messages"]] == [1, 2, 3, 4, 5]
        await a.close()
        await late.close()

    arun(scenario())


def test_client_message_id_makes_retries_idempotent(demo_server, raw_client_cls, arun):
    async def scenario():
        sid = _session("idempotent")
        a, _ = await _joined(raw_client_cls, demo_server, sid)
        payload = {"sessionId": sid, "content": "once", "clientMessageId": "c-1"}
        first = await a.call("sendMessage", payload)
        again = await a.call("sendMessage", payload)
        assert first["message"] == again["message"] and again["duplicate"] is True
        ack = await a.call("joinSession", {"sessionId": sid})
        assert [m["content"] for m in ack["messages"]] == ["once"]
        await a.close()

    arun(scenario())


def test_retried_execute_command_runs_once(demo_server, raw_client_cls, arun):
    async def scenario():
        sid = _session("cmdonce")
        a, _ = await _joined(raw_client_cls, demo_server, sid)
        payload = {"sessionId": sid, "command": "/run_demo s1", "clientMessageId": "k-1"}
        first = await a.call("executeCommand", payload)
        again = await a.call("executeCommand", payload)
        assert first["message"] == again["message"]
        await a.wait_event("commandResult")
        # a later command's result arrives after any second result of the first would have
        await a.call("executeCommand", {"sessionId": sid, "command": "/help"})
        await a.wait_event("commandResult", lambda r: r["command"] == "/help")
        assert [r["command"] for r in a.of("commandResult")] == ["/run_demo s1", "/help"]
        await a.close()

    arun(scenario())


def test_leave_session_stops_delivery(demo_server, raw_client_cls, arun):
    async def scenario():
        sid = _session("leave")
        a, _ = await _joined(raw_client_cls, demo_server, sid)
        b, _ = await _joined(raw_client_cls, demo_server, sid)
        assert (await b.call("leaveSession", sid))["ok"]
        await a.call("sendMessage", {"sessionId": sid, "content": "after leave"})
        await a.wait_event("message", lambda m: m["content"] == "after leave")
        # b sends to another session it is in; once that echo arrives, anything from `sid`
        # would have arrived before it (one ordered connection per client).
        other = _session("leave_other")
        await b.call("joinSession", other)
        await b.call("sendMessage", {"sessionId": other, "content": "marker"})
        await b.wait_event("message", lambda m: m["content"] == "marker")
        assert [m for m in b.of("message") if m["sessionId"] == sid] == []
        # and b may no longer post into the session it left
        ack = await b.call("sendMessage", {"sessionId": sid, "content": "x"})
        assert ack["error"]["code"] == "not_joined" and "joinSession" in ack["error"]["message"]
        await a.close()
        await b.close()

    arun(scenario())


def test_help_lists_commands_and_details_one(demo_server, raw_client_cls, arun):
    async def scenario():
        sid = _session("help")
        a, _ = await _joined(raw_client_cls, demo_server, sid)
        ack = await a.call("executeCommand", {"sessionId": sid, "command": "/help"})
        assert ack["ok"] and ack["message"]["content"] == "/help"
        assert ack["message"]["metadata"] == {"command": True, "sender": "guest"}
        res = await a.wait_event("commandResult", lambda r: r["command"] == "/help")
        assert res["ok"] and res["summary"]["kind"] == "help"
        names = [c["name"] for c in res["summary"]["commands"]]
        assert names == ["run_demo", "crash_demo", "help"]  # as registered, /help last
        text = await a.wait_event("message", lambda m: m["role"] == "assistant")
        assert "/run_demo <strategy_id> [fast=<int>]" in text["content"]
        assert text["metadata"]["commandResult"]["command"] == "/help"

        await a.call("executeCommand", {"sessionId": sid, "command": "/help run_demo"})
        res = await a.wait_event("commandResult", lambda r: r["command"] == "/help run_demo")
        assert res["summary"]["command"]["usage"] == "/run_demo <strategy_id> [fast=<int>]"
        assert "backtestProgress 50 and 100" in res["summary"]["command"]["details"]
        await a.close()

    arun(scenario())


def test_command_runs_emits_progress_and_result(demo_server, raw_client_cls, arun):
    async def scenario():
        sid = _session("run")
        a, _ = await _joined(raw_client_cls, demo_server, sid)
        b, _ = await _joined(raw_client_cls, demo_server, sid)
        await a.call("executeCommand", {"sessionId": sid, "command": "/run_demo strategy_7 fast=5"})
        for c in (a, b):  # everyone sees who ran what, the progress and the result
            await c.wait_event("message", lambda m: m["content"].startswith("/run_demo"))
            await c.wait_event("backtestProgress", lambda p: p["progress"] == 100)
            res = await c.wait_event("commandResult")
            assert res["ok"] and res["runId"] == "run_1"
            assert res["summary"] == {"kind": "demo", "args": ["strategy_7"], "fast": 5}
            reply = await c.wait_event("message", lambda m: m["role"] == "assistant")
            assert reply["content"] == "ran **strategy_7** with fast=5"
        await a.close()
        await b.close()

    arun(scenario())


@pytest.mark.parametrize(
    "command,code,fragment",
    [
        ("/hlep", "unknown_command", "Did you mean /help?"),
        ("/run_dmeo x", "unknown_command", "Did you mean /run_demo?"),
        ("help", "bad_argument", "starts with '/'"),
        ('/run_demo "unclosed', "bad_argument", "close every quote"),
        ("/run_demo x fast=1 fast=2", "bad_argument", "given twice"),
        ("/run_demo x =3", "bad_argument", "no name before '='"),
        ("/help nosuch", None, None),
    ],
)
def test_bad_commands_get_error_and_failed_ack(
    demo_server, raw_client_cls, arun, command, code, fragment
):
    async def scenario():
        sid = _session("badcmd")
        a, _ = await _joined(raw_client_cls, demo_server, sid)
        ack = await a.call("executeCommand", {"sessionId": sid, "command": command})
        if code is None:  # parses and exists, but the handler refuses: commandResult ok=false
            assert ack["ok"]
            res = await a.wait_event("commandResult", lambda r: r["command"] == command)
            assert not res["ok"] and res["error"]["code"] == "not_found"
            err = await a.wait_event("error")
            assert err["code"] == "not_found" and err["sessionId"] == sid
        else:
            assert ack == {"ok": False, "error": {"code": code, "message": ack["error"]["message"]}}
            assert fragment in ack["error"]["message"]
            err = await a.wait_event("error")
            assert err["code"] == code and err["sessionId"] == sid
        # the connection still works
        ok = await a.call("sendMessage", {"sessionId": sid, "content": "still here"})
        assert ok["ok"]
        await a.close()

    arun(scenario())


def test_handler_failures_become_failed_command_results(demo_server, raw_client_cls, arun):
    async def scenario():
        sid = _session("handlerfail")
        a, _ = await _joined(raw_client_cls, demo_server, sid)
        for command, code in [
            ("/run_demo", "bad_argument"),
            ("/run_demo x fast=abc", "bad_argument"),
            ("/crash_demo", "internal"),
        ]:
            assert (await a.call("executeCommand", {"sessionId": sid, "command": command}))["ok"]
            res = await a.wait_event("commandResult", lambda r, c=command: r["command"] == c)
            assert not res["ok"] and res["error"]["code"] == code, res
        assert len(a.of("error")) == 3
        assert (await a.call("sendMessage", {"sessionId": sid, "content": "alive"}))["ok"]
        await a.close()

    arun(scenario())


@pytest.mark.parametrize(
    "event,payload,code,fragment",
    [
        ("sendMessage", None, "bad_request", "expected an object"),
        ("sendMessage", 42, "bad_request", "expected an object"),
        ("sendMessage", {"sessionId": "session_bad"}, "bad_request", "'content' is required"),
        ("sendMessage", {"sessionId": "session_bad", "content": 5}, "bad_request", "content"),
        ("sendMessage", {"sessionId": "nope", "content": "x"}, "invalid_session", "session_"),
        (
            "sendMessage",
            {"sessionId": "session_bad", "content": "x", "extra": 1},
            "bad_request",
            "unknown field",
        ),
        (
            "sendMessage",
            {"sessionId": "session_bad", "content": "x" * (MAX_CONTENT_CHARS + 1)},
            "too_large",
            "limit",
        ),
        ("joinSession", {"sessionId": "session_bad", "lastSeq": "x"}, "bad_request", "lastSeq"),
        ("joinSession", ["session_bad"], "bad_request", "expected an object"),
        ("joinSession", "../../etc", "invalid_session", "expected 'session_'"),
        ("leaveSession", 3.5, "bad_request", "expected an object"),
        (
            "executeCommand",
            {"sessionId": "session_bad", "command": ["/help"]},
            "bad_request",
            "command",
        ),
        ("noSuchEvent", {}, "bad_request", "unknown event 'noSuchEvent'"),
    ],
)
def test_malformed_payloads_get_error_and_the_connection_survives(
    demo_server, raw_client_cls, arun, event, payload, code, fragment
):
    async def scenario():
        a, _ = await _joined(raw_client_cls, demo_server, "session_bad")
        ack = await a.call(event, payload)
        assert ack["ok"] is False and ack["error"]["code"] == code, ack
        assert fragment in ack["error"]["message"], ack
        err = await a.wait_event("error")
        assert err["code"] == code
        ok = await a.call("sendMessage", {"sessionId": "session_bad", "content": "fine"})
        assert ok["ok"]
        await a.close()

    arun(scenario())


def test_extra_arguments_and_plugin_events(demo_server, raw_client_cls, arun):
    async def scenario():
        a = await raw_client_cls(demo_server.url, demo_server.token).connect()
        ack = await a.call("joinSession", "session_x", "surplus")
        assert ack["error"]["code"] == "bad_request" and "one payload" in ack["error"]["message"]
        echo = await a.call("echoDemo", {"a": 1})
        assert echo == {"ok": True, "echo": {"a": 1}, "binary": b"\x00\x01"}
        bad = await a.call("echoDemo", "x")
        assert bad["error"] == {"code": "bad_request", "message": "echoDemo: expected an object"}
        await a.close()

    arun(scenario())


def test_many_concurrent_senders_get_distinct_ordered_seqs(demo_server, raw_client_cls, arun):
    async def scenario():
        sid = _session("concurrent")
        clients = [(await _joined(raw_client_cls, demo_server, sid))[0] for _ in range(4)]
        acks = await asyncio.gather(
            *[
                c.call("sendMessage", {"sessionId": sid, "content": f"{i}-{j}"})
                for i, c in enumerate(clients)
                for j in range(10)
            ]
        )
        seqs = sorted(a["message"]["seq"] for a in acks)
        assert seqs == list(range(1, 41))
        for c in clients:
            await c.wait_event("message", lambda m: m["seq"] == 40)
            got = [m["seq"] for m in c.of("message")]
            assert got == sorted(got) and len(got) == 40
            await c.close()

    arun(scenario())


def test_http_root_describes_the_server(demo_server):
    import json
    import urllib.request

    body = json.loads(urllib.request.urlopen(demo_server.url + "/", timeout=10).read())
    assert body["socketio_path"] == "/ws/chatops" and body["name"] == "chatops-widget"


def test_an_unordered_event_waits_beside_the_rest_and_is_stopped_at_shutdown(
    tmp_path, raw_client_cls, arun
):
    from chatops_widget.server import EmbeddedServer

    class Parking:
        name = "parking"

        def __init__(self) -> None:
            self.parked, self.stopped, self.stopped_before_hooks = 0, 0, None

        def register(self, host) -> None:
            host.on_event("parkDemo", self.park, ordered=False)
            host.on_shutdown(self.closing)

        async def closing(self):  # the plugin's stores close here: no handler may still run
            self.stopped_before_hooks = self.stopped

        async def park(self, sid, data):
            self.parked += 1
            try:
                await asyncio.Event().wait()  # until the server stops
            finally:
                self.stopped += 1
            return {}

    plugin = Parking()
    srv = EmbeddedServer(data_dir=tmp_path, plugins=[plugin]).start()

    async def scenario():
        a = await raw_client_cls(srv.url, srv.token).connect()
        await a.sio.emit("parkDemo", {}, callback=lambda *_: None)
        ack = await a.call("joinSession", {"sessionId": "session_park"})  # not held back
        assert ack["ok"] and plugin.parked == 1 and plugin.stopped == 0, ack
        # the parked handler is stopped with the server, before the plugins' shutdown hooks
        await asyncio.to_thread(srv.stop)
        assert plugin.stopped == plugin.stopped_before_hooks == 1
        await a.close()

    arun(scenario())
