"""Fuzz: thousands of generated payloads across every event (issue 11, "Done when": >= 5,000;
0 tracebacks in the server log, 0 missing acks, 0 ``internal`` acks).

Hypothesis generates events -- every client event of the protocol and the backtest plugin, plus
unknown and reserved names (``connect``, ``disconnect``, ``*``, ``message``, ...) -- with
payloads shaped like the real ones but with hostile values: huge integers, inf/NaN, lone
surrogates, NUL, deep nesting, wrong types, extra arguments, binary where text belongs, and
slash commands whose arguments are hostile ranges, dates and ids. A second part sends generated
raw Engine.IO/socket.io frames over a websocket. Every socket.io event must be acknowledged with
``{"ok": ...}`` and never ``internal``; no traceback may reach the server log.

The server runs with generous rate limits (``CHATOPS_RATE_LIMITS``) so that the handlers, not
the limiter, answer most of the fuzz; the limiter has tests of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import threading
from collections import Counter
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir
from reliability._fuzz_payloads import FRAMES, PAYLOADS, SESSION, events
from reliability._harness import TOKEN, Serve, tracebacks
from reliability._peers import NoAck, Peer, RawSocket

EXAMPLES = 600  # batches of 12-20 events, until TARGET events were sent
TARGET = 5200
RAW_EXAMPLES = 150
GIVE_UP = 12  # failures: then stop (a broken server would keep the fuzz waiting for minutes)
ACK_TIMEOUT = 3.0  # s; the server answers in milliseconds


class GiveUp(Exception):
    """Stops hypothesis (the settings have no shrink phase) once enough failures are seen."""


FUZZ_SETTINGS = settings(
    deadline=None,
    database=None,
    phases=[Phase.generate],  # no shrinking: every failure is tallied and reported at the end
    suppress_health_check=list(HealthCheck),
)

ENV = {
    "CHATOPS_RATE_LIMITS": "messages=10000/s:10000,commands=10000/s:10000,uploads=10000/s:10000",
    "CHATOPS_MAX_CONNECTIONS": "1000",
}


class LoopThread:
    """An event loop in a thread, so hypothesis (synchronous) can drive async peers."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Any, timeout: float = 60.0) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fuzz")
    set_hypothesis_home_dir(str(tmp / "hypothesis"))  # its caches stay out of the work tree
    srv = Serve(tmp / "data", tmp / "serve.log", env=ENV).start()
    loop = LoopThread()
    yield srv, loop
    loop.stop()
    srv.stop()


# ---------------------------------------------------------------------- the test


class Tally:
    def __init__(self) -> None:
        self.sent = 0
        self.no_ack: list[str] = []
        self.internal: list[str] = []
        self.malformed: list[str] = []
        self.answers: Counter[str] = Counter()  # "event: ok" or "event: <code>"


def _check(tally: Tally, name: str, args: tuple[Any, ...], ack: Any) -> None:
    where = f"{name!r} {str(args)[:200]}"
    if not isinstance(ack, dict) or not isinstance(ack.get("ok"), bool):
        tally.malformed.append(f"{where} -> {ack!r:.200}")
    elif not ack["ok"] and (ack.get("error") or {}).get("code") == "internal":
        tally.internal.append(f"{where} -> {ack['error']}")
    else:
        what = "ok" if ack["ok"] else (ack.get("error") or {}).get("code")
        tally.answers[f"{name if name in PAYLOADS else 'other'}: {what}"] += 1


async def _batch(peer: Peer, batch: list[tuple[str, tuple[Any, ...]]], tally: Tally) -> None:
    async def one(name: str, args: tuple[Any, ...]) -> None:
        try:
            ack = await peer.call(name, *args, timeout=ACK_TIMEOUT)
        except NoAck as exc:
            tally.no_ack.append(f"{name!r} {str(args)[:200]}: {exc}")
            return
        _check(tally, name, args, ack)

    tally.sent += len(batch)
    # a fuzzed leaveSession may have left it (no backlog: the load tests read those)
    await peer.call("joinSession", {"sessionId": SESSION, "lastSeq": 2**63 - 1})
    await asyncio.gather(*(one(n, a) for n, a in batch))


def test_fuzzed_socketio_events_are_all_acked_and_never_internal(fuzzed):
    srv, loop = fuzzed
    tally = Tally()
    peers: list[Peer] = []

    async def fresh() -> Peer:
        peer = await Peer(srv.url).connect()
        await peer.join(SESSION)
        return peer

    peers.append(loop.run(fresh()))

    @settings(FUZZ_SETTINGS, max_examples=EXAMPLES)
    @given(st.lists(events(), min_size=12, max_size=20))
    def send(batch: list[tuple[str, tuple[Any, ...]]]) -> None:
        if len(tally.no_ack) + len(tally.internal) + len(tally.malformed) > GIVE_UP:
            raise GiveUp
        if tally.sent >= TARGET:
            return
        try:
            if not peers[-1].connected:  # a connection the fuzz closed is a failure, noted
                tally.no_ack.append("the connection was closed by the server")
                peers.append(loop.run(fresh()))
            loop.run(_batch(peers[-1], batch, tally), 120)
        except Exception as exc:
            tally.no_ack.append(f"{batch!r:.200}: {exc!r:.200}")

    mark = len(srv.log)
    with contextlib.suppress(GiveUp):
        send()
    for peer in peers:
        loop.run(peer.close())
    command_results = [e for p in peers for e in p.of("commandResult")]
    internal_results = [
        r for r in command_results if (r.get("error") or {}).get("code") == "internal"
    ]
    errors = [e for p in peers for e in p.of("error") if e.get("code") == "internal"]
    log = srv.log[mark:]
    found = tracebacks(log)
    print(f"\nfuzz: {tally.sent} socket.io events, {len(command_results)} command results")
    print("fuzz answers:", ", ".join(f"{k} {v}" for k, v in sorted(tally.answers.items())))
    assert not tally.no_ack, f"{len(tally.no_ack)} events got no ack, e.g. {tally.no_ack[:3]}"
    assert tally.sent >= 5_000, tally.sent  # TARGET, unless hypothesis ran out of examples
    assert not tally.malformed, f"{len(tally.malformed)} malformed acks: {tally.malformed[:3]}"
    assert not tally.internal, f"{len(tally.internal)} internal acks: {tally.internal[:3]}"
    assert not internal_results, f"{len(internal_results)}: {internal_results[:3]}"
    assert not errors, errors[:3]
    assert not found, f"{len(found)} tracebacks in the server log; first:\n{found[0]}"
    assert srv.alive


# ---------------------------------------------------------------------- raw frames


def _wants_ack(frame: Any) -> int | None:
    """The ack id a frame asks for: ``42<id>`` followed by a JSON list starting with a name."""
    if not isinstance(frame, str):
        return None
    m = re.fullmatch(r"42(\d{1,15})(\[.*)", frame, re.S)
    if not m:
        return None
    try:
        body = json.loads(m.group(2))
    except ValueError:
        return None
    return int(m.group(1)) if isinstance(body, list) and body else None


def test_fuzzed_raw_frames_cost_no_traceback_and_events_with_an_id_are_acked(fuzzed):
    srv, loop = fuzzed
    missing: list[str] = []
    count = 0

    async def open_socket() -> RawSocket:
        sock = await RawSocket.open(srv.url)
        assert (await sock.authenticate(TOKEN)).startswith("40")
        return sock

    socks = [loop.run(open_socket())]

    @settings(FUZZ_SETTINGS, max_examples=RAW_EXAMPLES)
    @given(st.lists(FRAMES, min_size=4, max_size=8))
    def send(frames: list[Any]) -> None:
        nonlocal count
        if len(missing) > GIVE_UP:
            raise GiveUp

        async def go() -> None:
            nonlocal count
            sock = socks[-1]
            if sock.closed.is_set():
                missing.append(f"connection closed after {sock.packets[-3:]}")
                socks.append(await open_socket())
                sock = socks[-1]
            for frame in frames:
                count += 1
                await sock.send(frame)
                ack_id = _wants_ack(frame)
                if ack_id is None:
                    continue
                try:
                    await sock.wait_packet(
                        lambda p, i=ack_id: isinstance(p, str) and p.startswith(f"43{i}["),
                        ACK_TIMEOUT,
                    )
                except (AssertionError, ConnectionError) as exc:
                    missing.append(f"{frame[:120]!r}: {exc!s:.200}")

        try:  # never raises: a failure is noted (hypothesis would shrink it for minutes)
            loop.run(go(), 120)
        except Exception as exc:
            missing.append(f"{frames!r:.200}: {exc!r:.200}")

    mark = len(srv.log)
    with contextlib.suppress(GiveUp):
        send()
    for sock in socks:
        loop.run(sock.close())
    found = tracebacks(srv.log[mark:])
    print(f"\nfuzz: {count} raw frames")
    assert not missing, f"{len(missing)} frames unanswered or closing: {missing[:3]}"
    assert not found, f"{len(found)} tracebacks in the server log; first:\n{found[0]}"
    assert srv.alive
