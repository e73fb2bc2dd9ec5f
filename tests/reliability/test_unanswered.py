"""Every client event gets an ack or a documented error (issue 11, item 5).

Reserved names (``connect``, ``disconnect``, ``*``) sent as client events, integers too long for
python-engineio's JSON, payloads between uvicorn's 16 MiB WebSocket default and the documented
32 MB, empty and NUL frames: each used to go unanswered (the client waits forever) or to close
the connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import json

import pytest
import websockets
from reliability._harness import TOKEN, Serve, tracebacks
from reliability._peers import NoAck, Peer, RawSocket

from chatops_widget.protocol import MAX_UPLOAD_BYTES

SESSION = "session_unanswered"
MiB = 1024 * 1024


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("unanswered")
    srv = Serve(tmp / "data", tmp / "serve.log").start()
    yield srv
    srv.stop()


def _bad_request(ack, *codes: str) -> dict:
    assert isinstance(ack, dict) and ack.get("ok") is False, f"not a failed ack: {ack!r}"
    assert ack["error"]["code"] in (codes or ("bad_request",)), ack["error"]
    return ack["error"]


async def _raw(server: Serve, **kw) -> RawSocket:
    sock = await RawSocket.open(server.url, **kw)
    assert (await sock.authenticate(TOKEN)).startswith("40")
    (ack,) = await sock.emit("joinSession", SESSION)
    assert ack["ok"], ack
    return sock


async def _still_answers(sock: RawSocket) -> None:
    (ack,) = await sock.emit("sendMessage", {"sessionId": SESSION, "content": "still here"})
    assert ack["ok"], ack


@pytest.mark.parametrize("event", ["connect", "disconnect", "*", "message", "error"])
def test_reserved_event_names_sent_by_a_client_get_a_bad_request_ack(server, arun, event):
    async def go():
        peer = await Peer(server.url).connect()
        try:
            await peer.join(SESSION)
            for payload in ({"sessionId": SESSION}, "x", None):
                try:
                    ack = await peer.call(event, payload, timeout=5)
                except NoAck:
                    raise AssertionError(f"{event!r} ({payload!r}) was never acked") from None
                err = _bad_request(ack)
                assert repr(event) in err["message"] or f'"{event}"' in err["message"], err
            assert peer.connected
            ack = await peer.call("sendMessage", {"sessionId": SESSION, "content": "after"})
            assert ack["ok"], ack
        finally:
            await peer.close()

    arun(go())


@pytest.mark.parametrize(
    "frame",
    [
        f'["sendMessage",{{"sessionId":"{SESSION}","content":"x","n":{"7" * 101}}}]',
        f'["sendMessage",{{"sessionId":"{SESSION}","content":"x","n":{"7" * 5000}}}]',
        f'["joinSession",{{"sessionId":"{SESSION}","lastSeq":{"9" * 200}}}]',
        '["sendMessage",' + "[" * 50_000 + "]" * 50_000 + "]",
        f'["sendMessage",{{"sessionId":"{SESSION}","content":1e999}}]',
        f'["sendMessage",{{"sessionId":"{SESSION}","content":NaN}}]',
    ],
    ids=["int-101-digits", "int-5000-digits", "lastSeq-200-digits", "nested-50k", "1e999", "NaN"],
)
def test_payloads_json_cannot_hold_still_get_an_ack(server, arun, frame):
    async def go():
        sock = await _raw(server)
        try:
            await sock.send("42777" + frame)
            ack = await sock.wait_packet(
                lambda p: isinstance(p, str) and p.startswith("43777"), timeout=5
            )
            (body,) = json.loads(ack[5:])
            _bad_request(body)
            await _still_answers(sock)
        finally:
            await sock.close()

    mark = len(server.log)
    arun(go())
    assert not tracebacks(server.log[mark:]), server.log[mark:][:3000]


def test_a_message_between_16_mib_and_the_documented_32_mb_is_answered_too_large(server, arun):
    async def go():
        sock = await _raw(server)
        try:
            (ack,) = await sock.emit(
                "sendMessage", {"sessionId": SESSION, "content": "x" * (17 * MiB)}, timeout=30
            )
            err = _bad_request(ack, "too_large")
            assert "16000" in err["message"].replace(",", ""), err
            await _still_answers(sock)
        finally:
            await sock.close()

    arun(go(), 90)


def test_an_upload_over_the_limit_is_answered_too_large_over_websocket(server, arun):
    async def go():
        peer = await Peer(server.url).connect()
        try:
            await peer.join(SESSION)
            data = b"\0" * (MAX_UPLOAD_BYTES + 5 * MiB)  # 20 MB: over uvicorn's 16 MiB default
            ack = await peer.call(
                "uploadData", {"sessionId": SESSION, "symbol": "BIG", "data": data}, timeout=15
            )
            _bad_request(ack, "too_large")
            assert peer.connected
        finally:
            await peer.close()

    arun(go(), 90)


def test_a_message_over_32_mb_closes_only_that_connection(server, arun):
    """The one documented exception: Engine.IO closes a connection whose packet is too big."""

    async def go():
        sock = await _raw(server)
        other = await _raw(server)
        try:
            with contextlib.suppress(websockets.ConnectionClosed, OSError):
                await sock.send("42" + json.dumps(["sendMessage", {"content": "x" * (33 * MiB)}]))
            await asyncio.wait_for(sock.closed.wait(), 30)
            await _still_answers(other)
        finally:
            await sock.close()
            await other.close()

    arun(go(), 90)
    assert server.alive


JUNK = {
    "empty-text": "",
    "nul": "\0",
    "three-nul": "\0\0\0",
    "empty-binary": b"",
    "nul-binary": b"\0",
    "del": "\x7f",
    "space": " ",
    "type-9": "9",
    "event-without-data": "42",
    "message-without-packet": "4",
    "noop": "6",
    "second-connect": "40",
    "message-nul": "4\0",
    "b64-marker-only": "b",
    "binary-without-event": b"\x01\x02",
}


@pytest.mark.parametrize("frame", list(JUNK.values()), ids=list(JUNK))
def test_empty_nul_and_junk_frames_do_not_close_the_connection(server, arun, frame):
    async def go():
        sock = await _raw(server)
        try:
            await sock.send(frame)
            await _still_answers(sock)
            assert not sock.closed.is_set()
        finally:
            await sock.close()

    mark = len(server.log)
    arun(go())
    assert not tracebacks(server.log[mark:]), server.log[mark:][:3000]
