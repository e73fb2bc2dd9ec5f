"""What the fuzz sends: hypothesis strategies for socket.io events (names and payloads shaped
like the protocol's, three times in four valid, else hostile) and for raw Engine.IO frames.

``events()`` draws ``(name, args)``; ``FRAMES`` draws one websocket frame.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

SESSION = "session_fuzz"


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
