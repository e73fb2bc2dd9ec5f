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
from reliability._harness import TOKEN, NoAck, Peer, RawSocket, Serve, tracebacks

SESSION = "session_fuzz"
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


# ---------------------------------------------------------------------- payloads

HUGE_INTS = st.sampled_from(
    [2**31, 2**53 + 1, 2**63 - 1, 2**63, 2**64, -(2**63) - 1, 10**100, 10**101, -(10**300)]
)
INTS = st.one_of(st.integers(), HUGE_INTS, st.integers(min_value=-(10**400), max_value=10**400))
FLOATS = st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from([1e-320, -0.0, 1e308])
ANY_CHAR = st.characters(min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=())
TEXT = st.text(ANY_CHAR, max_size=40) | st.sampled_from(
    ["", "\0", "\ud800", "a\udfffb", "\n", "session_ok\n", " " * 5, "𝔘𝔫𝔦", "' OR 1=1 --", "%s%n"]
)
SCALARS = st.none() | st.booleans() | INTS | FLOATS | TEXT | st.binary(max_size=64)
KEYS = st.sampled_from(["sessionId", "content", "command", "data", "", "\ud800", "__proto__"])
JSONISH = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS | TEXT, inner, max_size=3),
    max_leaves=5,
)


def mostly(valid: Any, hostile: Any) -> Any:
    """``valid`` three times in four, else ``hostile``: deep enough to reach the handlers."""
    return st.integers(0, 3).flatmap(lambda i: hostile if i == 3 else valid)


SESSION_IDS = mostly(
    st.just(SESSION),
    st.sampled_from(["session_other", "session_", "session_x\n", "nope", "session_" + "a" * 65])
    | TEXT
    | JSONISH,
)
RUN_IDS = mostly(
    st.sampled_from(["run_1", "run_x", "run_fuzz1"]),
    st.sampled_from(["run_nl\n", "run_" + "9" * 80, "run_../../etc"]) | TEXT | JSONISH,
)

HOSTILE_VALUES = st.sampled_from(
    [
        "1:1e400:1", "nan:nan:1", "1:10:nan", "0:1:1e-320", "inf:inf:1", "-inf:5:1",
        "1:" + "9" * 400 + ":1", "9" * 400, "5,nan,10", "1e308", "-1", "0", "1:3:1", "2,3",
        "0000-01-01", "0099-05-06", "2020-02-30", "2020-01-01", "9999-12-31", "2020-01-01T25:00",
        "true", "yes", "", "ALPHA", "alpha", "NOPE", "strategy_99999999999999999999",
        "strategy_1", "run_nl", "\ud800", "x" * 300, "sharpe", "nosuch", "5", "20", "3:9:3",
    ]
)  # fmt: skip
COMMAND_NAMES = st.sampled_from(
    [
        "help", "status", "strategies", "templates", "data", "result", "cancel",
        "run_backtest", "compare_strategies", "create_strategy", "sweep", "nosuch", "HELP",
        "run-backtest", "", "😀",
    ]
)  # fmt: skip
ARGS = mostly(
    st.sampled_from(["strategy_1", "strategy_2", "sma_cross", "buy_and_hold", "run_x", "help"]),
    st.sampled_from(
        ["strategy_99999999999999999999", "run_nl\n", "nosuch", "'unclosed", '"', "a=b=c", "=x",
         "\\", "\0"]
    ) | TEXT,
)  # fmt: skip
OPTION_KEYS = st.sampled_from(
    ["symbol", "start", "end", "fast", "slow", "cash", "commission", "spread", "sort", "split",
     "run_id", "name", "k", "window", "x" * 50, "1bad"]
)  # fmt: skip


@st.composite
def commands(draw: Any) -> str:
    name = draw(COMMAND_NAMES)
    parts = [f"/{name}", *draw(st.lists(ARGS, max_size=3))]
    for key in draw(st.lists(OPTION_KEYS, max_size=4, unique=True)):
        parts.append(f"{key}={draw(HOSTILE_VALUES | TEXT)}")
    if draw(st.booleans()):
        return " ".join(parts)
    return " ".join(p if " " not in p else f'"{p}"' for p in parts)


def _shaped(required: dict[str, Any], optional: dict[str, Any] | None = None) -> Any:
    """Mostly ``required`` fields plus some ``optional`` ones; sometimes a field missing or an
    unknown one added (each value drawn from its strategy)."""
    base = st.fixed_dictionaries(required, optional=optional or {})
    broken = st.tuples(base, st.dictionaries(TEXT, JSONISH, max_size=2), st.booleans()).map(
        lambda t: {**t[1], **t[0]} if t[2] else dict(list(t[0].items())[1:])
    )
    return mostly(base, broken | JSONISH)


def _arrow(n: int) -> bytes:
    import numpy as np
    import pandas as pd

    from chatops_widget._serialization import to_arrow_bytes

    close = 100 + np.cumsum(np.sin(np.arange(n) / 5))
    idx = pd.date_range("2020-01-01", periods=n, freq="D")
    frame = {"Open": close, "High": close + 1, "Low": close - 1, "Close": close}
    return to_arrow_bytes(pd.DataFrame(frame, index=idx))


ARROW = _arrow(60)
UPLOADS = mostly(
    st.just(ARROW),
    st.binary(max_size=256)
    | st.integers(0, len(ARROW) - 1).map(lambda n: ARROW[:n])  # truncated
    | st.integers(0, len(ARROW) - 1).map(lambda n: ARROW[:n] + b"\xff" + ARROW[n + 1 :])
    | JSONISH,
)
NUMBERS = mostly(st.integers(1, 60) | st.floats(0, 0.01), INTS | FLOATS | TEXT)
SCALAR_VALUES = mostly(st.integers(2, 60), INTS | FLOATS | TEXT | st.booleans())

PAYLOADS: dict[str, Any] = {
    "joinSession": mostly(SESSION_IDS, JSONISH)
    | _shaped({"sessionId": SESSION_IDS}, {"lastSeq": mostly(st.integers(10**6, 10**7), INTS),
                                           "name": TEXT | JSONISH}),
    "leaveSession": SESSION_IDS | _shaped({"sessionId": SESSION_IDS}),
    "sendMessage": _shaped(
        {"sessionId": SESSION_IDS,
         "content": mostly(st.text(min_size=1, max_size=60),
                           TEXT | JSONISH | st.integers(15_990, 16_010).map(lambda n: "é" * n))},
        {"clientMessageId": mostly(st.uuids().map(str), TEXT | JSONISH)},
    ),
    "executeCommand": _shaped(
        {"sessionId": SESSION_IDS, "command": mostly(commands(), JSONISH)},
        {"clientMessageId": mostly(st.uuids().map(str), TEXT)},
    ),
    "startRun": _shaped(
        {"sessionId": SESSION_IDS,
         "kind": mostly(st.sampled_from(["backtest", "comparison", "sweep"]), TEXT | JSONISH),
         "targets": mostly(st.lists(ARGS, min_size=1, max_size=3), JSONISH)},
        {"symbol": mostly(st.sampled_from(["ALPHA", "BRAVO"]), TEXT),
         "start": HOSTILE_VALUES, "end": HOSTILE_VALUES,
         "cash": NUMBERS, "commission": NUMBERS, "spread": NUMBERS,
         "params": st.dictionaries(OPTION_KEYS, SCALAR_VALUES, max_size=3),
         "grid": st.dictionaries(OPTION_KEYS, st.lists(SCALAR_VALUES, max_size=4), max_size=2),
         "split": HOSTILE_VALUES, "sort": HOSTILE_VALUES | SCALARS,
         "runId": RUN_IDS, "clientMessageId": TEXT},
    ),
    "getResult": _shaped(
        {"sessionId": SESSION_IDS, "runId": RUN_IDS}, {"wait": mostly(st.booleans(), FLOATS | INTS)}
    ),
    "getRuns": SESSION_IDS | _shaped({"sessionId": SESSION_IDS}),
    "getStrategies": SESSION_IDS | _shaped({"sessionId": SESSION_IDS}),
    "uploadData": _shaped(
        {"sessionId": SESSION_IDS,
         "symbol": mostly(st.sampled_from(["FUZZ", "fuzz.x", "ALPHA"]), TEXT | JSONISH),
         "data": UPLOADS},
        {"overwrite": mostly(st.booleans(), JSONISH), "uploadedBy": TEXT | JSONISH},
    ),
}  # fmt: skip
NAMES = mostly(
    st.sampled_from(list(PAYLOADS)),
    st.sampled_from(
        ["connect", "disconnect", "*", "message", "error", "connect_error", "backtestProgress",
         "commandResult", "", "joinsession", "__proto__", "constructor"]
    ) | TEXT,
)  # fmt: skip


@st.composite
def events(draw: Any) -> tuple[str, tuple[Any, ...]]:
    name = draw(NAMES)
    payload = draw(PAYLOADS.get(name, JSONISH))
    arity = draw(st.sampled_from([1] * 12 + [0, 2, 3]))
    if arity == 0:
        return name, ()
    if arity == 1:
        return name, (payload,)
    return name, (payload, *draw(st.lists(JSONISH, min_size=arity - 1, max_size=arity - 1)))


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


def _keeps_the_connection(frame: Any) -> bool:
    """Not a frame by which a client legitimately ends its session: an Engine.IO close (``1``),
    a socket.io connect or disconnect of a namespace (``40``/``41``)."""
    return not (isinstance(frame, str) and (frame == "1" or frame[:2] in ("40", "41")))


JSON_TEXT = JSONISH.map(lambda v: json.dumps(v, default=lambda b: b.hex())) | st.text(max_size=30)
FRAMES = st.one_of(
    st.text(ANY_CHAR, max_size=30),
    st.binary(max_size=30),
    st.builds(lambda t, d: f"4{t}{d}", st.sampled_from("0123456789"), JSON_TEXT),
    st.builds(lambda i, d: f"42{i}{d}", st.integers(0, 10**30), JSON_TEXT),
    st.builds(
        lambda i, n, a: f"42{i}" + json.dumps([n, *a], default=lambda b: b.hex()),
        st.integers(0, 10**6),
        JSONISH,
        st.lists(JSONISH, max_size=2),
    ),
    st.sampled_from(["", "\0", "2", "3", "5", "6", "451-", "b", "bAAAA", "4", "42", "43"]),
).filter(_keeps_the_connection)


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
