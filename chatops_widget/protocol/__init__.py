"""The ChatOps wire protocol: the one contract the server, the kernel client and the front end
share -- events, payload models, error codes, run statuses and kinds, id patterns and limits.

Event names are the seed's (``joinSession``, ``sendMessage``, ``executeCommand``,
``backtestProgress``, ``commandResult`` ...), so the seed's React front end can talk to our
server unchanged; ``startRun``, ``getResult``, ``getRuns``, ``getStrategies``,
``uploadData`` and the hosted-strategy events are ours. Every client -> server event is
acknowledged (socket.io ack) with an :class:`Ack`: ``{"ok": true, ...}`` or ``{"ok": false,
"error": {"code", "message"}}``.

Payloads are validated with pydantic; :func:`parse` turns any validation failure into a
:class:`ProtocolError` whose message says what was wrong and what would be right.

- ``_constants.py`` -- names, codes, statuses, patterns and limits (plain data);
- ``_models.py`` -- the pydantic models of the events, :func:`parse`, :class:`ProtocolError`;
- ``_runs.py`` -- :class:`StartRun`, a run as a typed request;
- ``_hosted.py`` -- identity (display names) and strategies hosted in a member's kernel.

Example:
    >>> parse(ExecuteCommand, {"sessionId": "session_1", "command": "/help"}).command
    '/help'
    >>> parse(ExecuteCommand, {"sessionId": "session_1"})
    Traceback (most recent call last):
    ...
    chatops_widget.protocol.ProtocolError: executeCommand: 'command' is required
    >>> frontend_constants()["limits"]["maxCommandChars"]
    2000
"""

from __future__ import annotations

from typing import Any

from ._constants import (
    CLIENT_ID_PATTERN,
    DEFAULT_HOST,
    DEFAULT_PORT,
    GUEST_NAME,
    HOSTED_NAME_PATTERN,
    MAX_COMMAND_CHARS,
    MAX_CONTENT_CHARS,
    MAX_DISPLAY_NAME,
    MAX_GRID_VALUES,
    MAX_HOSTED_PARAMS,
    MAX_HOSTED_TIMEOUT,
    MAX_RESULT_BYTES,
    MAX_RUN_TARGETS,
    MAX_UPLOAD_BYTES,
    NAMESPACE,
    RESULT_KINDS,
    RUN_ID_PATTERN,
    RUN_STATUSES,
    SESSION_ID_PATTERN,
    SOCKETIO_PATH,
    SYMBOL_PATTERN,
    TERMINAL_STATUSES,
    ClientEvent,
    ErrorCode,
    ResultKind,
    Role,
    RunStatus,
    ServerEvent,
)
from ._hosted import (
    HostedParam,
    HostedProgress,
    HostedResult,
    HostedRun,
    PublishResult,
    RegisterStrategy,
    UnregisterStrategy,
    check_client_id,
    check_display_name,
    check_hosted_name,
)
from ._models import (
    Ack,
    BacktestProgress,
    ChatMessage,
    CommandResult,
    ErrorEvent,
    ErrorInfo,
    ExecuteCommand,
    GetResult,
    GetRuns,
    GetStrategies,
    JoinSession,
    LeaveSession,
    ProtocolError,
    SendMessage,
    UploadData,
    check_symbol,
    new_message_id,
    new_run_id,
    new_session_id,
    parse,
    utc_now,
)
from ._runs import StartRun

ProtocolError.__module__ = __name__  # shown as chatops_widget.protocol.ProtocolError

__all__ = [
    "CLIENT_ID_PATTERN",
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "GUEST_NAME",
    "HOSTED_NAME_PATTERN",
    "MAX_COMMAND_CHARS",
    "MAX_CONTENT_CHARS",
    "MAX_DISPLAY_NAME",
    "MAX_GRID_VALUES",
    "MAX_HOSTED_PARAMS",
    "MAX_HOSTED_TIMEOUT",
    "MAX_RESULT_BYTES",
    "MAX_RUN_TARGETS",
    "MAX_UPLOAD_BYTES",
    "NAMESPACE",
    "RESULT_KINDS",
    "RUN_ID_PATTERN",
    "RUN_STATUSES",
    "SESSION_ID_PATTERN",
    "SOCKETIO_PATH",
    "SYMBOL_PATTERN",
    "TERMINAL_STATUSES",
    "Ack",
    "BacktestProgress",
    "ChatMessage",
    "ClientEvent",
    "CommandResult",
    "ErrorCode",
    "ErrorEvent",
    "ErrorInfo",
    "ExecuteCommand",
    "GetResult",
    "GetRuns",
    "GetStrategies",
    "HostedParam",
    "HostedProgress",
    "HostedResult",
    "HostedRun",
    "JoinSession",
    "LeaveSession",
    "ProtocolError",
    "PublishResult",
    "RegisterStrategy",
    "ResultKind",
    "Role",
    "RunStatus",
    "SendMessage",
    "ServerEvent",
    "StartRun",
    "UnregisterStrategy",
    "UploadData",
    "check_client_id",
    "check_display_name",
    "check_hosted_name",
    "check_symbol",
    "frontend_constants",
    "new_message_id",
    "new_run_id",
    "new_session_id",
    "parse",
    "utc_now",
]


def frontend_constants() -> dict[str, Any]:
    """What the front end needs to know, from here (the widget syncs it as a traitlet).

    >>> sorted(frontend_constants())
    ['errorCodes', 'limits', 'resultKinds', 'runStatuses', 'terminalStatuses']
    """
    return {
        "limits": {
            "maxContentChars": MAX_CONTENT_CHARS,
            "maxCommandChars": MAX_COMMAND_CHARS,
            "maxUploadBytes": MAX_UPLOAD_BYTES,
        },
        "runStatuses": list(RUN_STATUSES),
        "terminalStatuses": sorted(TERMINAL_STATUSES),
        "resultKinds": list(RESULT_KINDS),
        "errorCodes": [c.value for c in ErrorCode],
    }
