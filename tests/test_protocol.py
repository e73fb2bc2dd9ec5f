"""The shared schema: seed names, coercions and readable errors."""

import pytest

from chatops_widget.protocol import (
    ChatMessage,
    ErrorCode,
    ExecuteCommand,
    JoinSession,
    LeaveSession,
    ProtocolError,
    SendMessage,
    new_session_id,
    parse,
    utc_now,
)


def test_join_accepts_plain_string_as_the_seed_emits_it():
    assert parse(JoinSession, "session_1697472000000") == JoinSession(
        sessionId="session_1697472000000", lastSeq=0
    )
    assert parse(JoinSession, {"sessionId": "session_1", "lastSeq": 7}).lastSeq == 7
    assert parse(LeaveSession, "session_1").sessionId == "session_1"


def test_new_session_id_matches_seed_format():
    sid = new_session_id()
    assert sid.startswith("session_") and sid[len("session_") :].isdigit()
    parse(JoinSession, sid)


@pytest.mark.parametrize(
    "model,payload,code,fragment",
    [
        (ExecuteCommand, {"sessionId": "session_1"}, ErrorCode.BAD_REQUEST, "is required"),
        (SendMessage, {"sessionId": "nope", "content": "x"}, ErrorCode.INVALID_SESSION, "session_"),
        (SendMessage, {"sessionId": "session_1", "content": 5}, ErrorCode.BAD_REQUEST, "content"),
        (SendMessage, {"sessionId": "session_1", "content": "x" * 20_000}, "too_large", "limit"),
        (SendMessage, ["session_1"], ErrorCode.BAD_REQUEST, "expected an object"),
        (
            ExecuteCommand,
            {"sessionId": "session_1", "command": "/x " + "y" * 2_000},
            "too_large",
            "command is 2003 characters; the limit is 2000",
        ),
        (SendMessage, {"sessionId": "session_1", "content": "x", "x": 1}, "bad_request", "unknown"),
        (JoinSession, {"sessionId": "session_1", "lastSeq": -1}, ErrorCode.BAD_REQUEST, "lastSeq"),
    ],
)
def test_bad_payloads_get_clear_errors(model, payload, code, fragment):
    with pytest.raises(ProtocolError) as info:
        parse(model, payload)
    assert info.value.code == code
    assert fragment in info.value.message


def test_chat_message_timestamp_is_iso_utc_with_z():
    msg = ChatMessage(
        id="m1", sessionId="session_1", role="user", content="hi", timestamp=utc_now(), seq=1
    )
    wire = msg.wire()
    assert wire["timestamp"].endswith("Z")
    assert set(wire) == {"id", "sessionId", "role", "content", "timestamp", "metadata", "seq"}
