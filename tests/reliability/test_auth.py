"""Auth and the cost of unauthenticated clients (issue 11, items 4 and 6).

Refused tokens (none, wrong, odd types, a lone surrogate) get an ``unauthorized:`` refusal fast;
an Engine.IO connection that does not authenticate within ``CHATOPS_AUTH_TIMEOUT`` seconds is
closed; one address holds at most ``CHATOPS_MAX_CONNECTIONS`` connections; refusals and
malformed frames cost one rate-limited log line, never a traceback per frame.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

import aiohttp
import pytest
import socketio
from reliability._harness import TOKEN, Serve, tracebacks
from reliability._peers import Peer, RawSocket, wait_for

from chatops_widget.protocol import SOCKETIO_PATH

AUTH_TIMEOUT = 2.0  # s, given to the server as CHATOPS_AUTH_TIMEOUT
MAX_CONNECTIONS = 12  # per address, given as CHATOPS_MAX_CONNECTIONS
ENV = {"CHATOPS_AUTH_TIMEOUT": str(AUTH_TIMEOUT), "CHATOPS_MAX_CONNECTIONS": str(MAX_CONNECTIONS)}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("auth")
    srv = Serve(tmp / "data", tmp / "serve.log", env=ENV).start()
    yield srv
    srv.stop()


WRONG = {
    "no-auth": None,
    "empty-auth": {},
    "auth-not-a-dict": "reliability-token",
    "token-none": {"token": None},
    "token-empty": {"token": ""},
    "token-wrong": {"token": "nope"},
    "token-prefix": {"token": TOKEN[:-1]},
    "token-suffix": {"token": TOKEN + "x"},
    "token-upper": {"token": TOKEN.upper()},
    "token-padded": {"token": f" {TOKEN} "},
    "token-nul": {"token": TOKEN + "\0"},
    "token-homoglyph": {"token": TOKEN.replace("e", "\u0435")},
    "token-100k": {"token": "x" * 100_000},
    "token-int": {"token": 12345},
    "token-list": {"token": [TOKEN]},
    "token-dict": {"token": {"token": TOKEN}},
    "token-lone-surrogate": {"token": "\ud800"},
    "token-with-surrogate": {"token": TOKEN + "\udfff"},
}


@pytest.mark.parametrize("auth", list(WRONG.values()), ids=list(WRONG))
def test_a_wrong_token_is_refused_with_unauthorized_at_once(server, arun, auth):
    async def go():
        peer = Peer(server.url)
        t0 = time.monotonic()
        with pytest.raises(socketio.exceptions.ConnectionError):
            await peer.connect(auth=auth, timeout=5)
        waited = time.monotonic() - t0
        assert isinstance(peer.refused, dict), f"no refusal came (waited {waited:.1f} s)"
        assert str(peer.refused.get("message", "")).startswith("unauthorized:"), peer.refused
        await peer.close()

    mark = len(server.log)
    arun(go())
    assert not tracebacks(server.log[mark:]), server.log[mark:][:3000]


def test_the_right_token_still_connects(server, arun):
    async def go():
        peer = await Peer(server.url).connect()
        ack = await peer.join("session_auth_ok")
        assert ack["sessionId"] == "session_auth_ok"
        await peer.close()

    arun(go())


def test_a_handshake_that_does_not_authenticate_in_time_is_closed(server, arun):
    async def go():
        silent = await RawSocket.open(server.url)  # Engine.IO open, never a CONNECT
        refused = await RawSocket.open(server.url)
        assert (await refused.authenticate("wrong")).startswith("44")
        slow = await RawSocket.open(server.url)
        await asyncio.sleep(AUTH_TIMEOUT / 2)
        assert (await slow.authenticate(TOKEN)).startswith("40")  # in time: it stays
        try:
            await asyncio.wait_for(silent.closed.wait(), AUTH_TIMEOUT + 3)
            await asyncio.wait_for(refused.closed.wait(), AUTH_TIMEOUT + 3)
        except asyncio.TimeoutError:
            raise AssertionError(
                f"unauthenticated connections still open {AUTH_TIMEOUT + 3} s later "
                f"(silent closed: {silent.closed.is_set()}, refused closed: "
                f"{refused.closed.is_set()})"
            ) from None
        (ack,) = await slow.emit("joinSession", "session_slow_but_in_time")
        assert ack["ok"] and not slow.closed.is_set(), ack
        for s in (silent, refused, slow):
            await s.close()

    arun(go(), 30)


async def _polling_handshake(http: aiohttp.ClientSession, url: str) -> str | None:
    """An Engine.IO long-polling session (the other transport); returns its sid."""
    async with http.get(f"{url}{SOCKETIO_PATH}/?EIO=4&transport=polling") as r:
        if r.status != 200:
            return None
        body = await r.text()
    import json

    return json.loads(body[1:])["sid"]


async def _polling_open(http: aiohttp.ClientSession, url: str, sid: str) -> bool:
    """Whether the server still knows a polling session (a poll waits or answers 200)."""
    try:
        async with http.get(
            f"{url}{SOCKETIO_PATH}/?EIO=4&transport=polling&sid={sid}",
            timeout=aiohttp.ClientTimeout(total=1.0),
        ) as r:
            return r.status == 200
    except asyncio.TimeoutError:
        return True  # a long poll held open: the session is alive


def test_a_connection_flood_from_one_address_is_capped_and_cleaned_up(server, arun):
    async def go():
        mark = len(server.log)
        attempts = MAX_CONNECTIONS * 4

        async def one() -> RawSocket | None:
            try:
                return await RawSocket.open(server.url, timeout=5)
            except Exception:
                return None

        opened = await asyncio.gather(*(one() for _ in range(attempts)))
        accepted = [s for s in opened if s is not None]
        await asyncio.sleep(0.3)
        alive = [s for s in accepted if not s.closed.is_set()]
        assert len(alive) <= MAX_CONNECTIONS, (
            f"{len(alive)} of {attempts} connections from one address are open; the cap is "
            f"{MAX_CONNECTIONS}"
        )
        async with aiohttp.ClientSession() as http:
            sids = [await _polling_handshake(http, server.url) for _ in range(5)]
            # all of them are closed once the auth timeout passes
            await wait_for(lambda: all(s.closed.is_set() for s in accepted), AUTH_TIMEOUT + 5)
            for sid in sids:
                if sid is not None:
                    assert not await _polling_open(http, server.url, sid), "polling session open"
        for s in accepted:
            await s.close()
        # a real client gets in afterwards
        peer = await Peer(server.url).connect()
        await peer.join("session_after_flood")
        await peer.close()
        log = server.log[mark:]
        assert not tracebacks(log), log[:3000]
        lines = [ln for ln in log.splitlines() if ln.strip()]
        assert len(lines) <= 5, f"{len(lines)} log lines for one flood:\n" + "\n".join(lines[:20])

    arun(go(), 60)


GARBAGE = [
    "42",
    '42["joinSession"',
    "42[1,2,3]",
    "42{}",
    '42["joinSession","session_x"]',
    "43",
    "451-",
    '451-["uploadData",{"_placeholder":true,"num":0}]',
    "4" + "[" * 10_000,
    "49",
    "4\0",
    "",
    "\0",
    "b",
    "bAAAA",
    "5",
    "1",
    "2probe",
    "44{}",
    '40{"token":',
    "40" + '{"token":"' + "\ud800" + '"}',
    b"\x00\x01\x02",
    b"",
    '42/nsp,["x"]',
    "42/,1[",
    "4-1",
    "42999999999999999999999999[]",
    '42["' + "e" * 100_000 + '"]',
    "4" + "9" * 1000,
    '40/admin,{"token":"x"}',
]


def test_malformed_frames_before_auth_cost_no_tracebacks_and_little_log(server, arun):
    async def go():
        mark = len(server.log)
        for frame in GARBAGE:
            sock = await RawSocket.open(server.url)
            with contextlib.suppress(Exception):
                await sock.send(frame)
                await asyncio.sleep(0.02)
            await sock.close()
        await asyncio.sleep(0.3)
        log = server.log[mark:]
        found = tracebacks(log)
        assert not found, f"{len(found)} tracebacks for {len(GARBAGE)} frames; first:\n{found[0]}"
        assert len(log) < 2000, f"{len(log)} bytes of log for {len(GARBAGE)} frames:\n{log[:2000]}"
        peer = await Peer(server.url).connect()  # and the server still serves
        await peer.join("session_after_garbage")
        await peer.close()

    arun(go(), 60)
