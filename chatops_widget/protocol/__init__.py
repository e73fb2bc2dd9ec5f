"""The ChatOps wire protocol: the one contract the server, the kernel client and the front end
share -- events, payload models, error codes, run statuses and kinds, id patterns and limits.

Event names are the seed's (``joinSession``, ``sendMessage``, ``executeCommand``,
``backtestProgress``, ``commandResult`` ...), so the seed's React front end can talk to our
server unchanged; ``startRun``, ``getResult``, ``getRuns``, ``getStrategies``, ``getSessions``,
``uploadData`` (and the chunked ``uploadStart``/``uploadChunk``/``uploadFinish``/``uploadAbort``)
and the hosted-strategy events are ours. Every client -> server event is acknowledged (socket.io
ack) with an :class:`Ack`: ``{"ok": true, ...}`` or ``{"ok": false, "error": {"code",
"message"}}``.

Payloads are validated with pydantic; :func:`parse` turns any validation failure into a
:class:`ProtocolError` whose message says what was wrong and what would be right.

- ``_constants.py`` -- names, codes, statuses, patterns and limits (plain data);
- ``_models.py`` -- the pydantic models of the events, :func:`parse`, :class:`ProtocolError`;
- ``_runs.py`` -- :class:`StartRun`, a run as a typed request;
- ``_uploads.py`` -- chunked uploads of a frame of any size (:class:`UploadStart` ...).
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
    AUTH_TIMEOUT,
    CLIENT_ID_PATTERN,
    DEFAULT_HOST,
    DEFAULT_PORT,
    GUEST_NAME,
    HOSTED_NAME_PATTERN,
    MAX_COMMAND_CHARS,
    MAX_CONNECTIONS_PER_ADDRESS,
    MAX_CONTENT_CHARS,
    MAX_DISPLAY_NAME,
    MAX_GRID_VALUES,
    MAX_HOSTED_PARAMS,
    MAX_HOSTED_TIMEOUT,
    MAX_MESSAGE_BYTES,
    MAX_PARAM_MAGNITUDE,
    MAX_RESULT_BYTES,
    MAX_RUN_SYMBOLS,
    MAX_RUN_TARGETS,
    MAX_SEQ,
    MAX_STREAM_BYTES,
    MAX_UPLOAD_BYTES,
    MAX_UPLOAD_CHUNK_BYTES,
    NAMESPACE,
    RATE_LIMITS,
    RESULT_KINDS,
    RESULT_READY,
    RUN_ID_PATTERN,
    RUN_STATUSES,
    SERVER_FAULTS,
    SESSION_ID_PATTERN,
    SOCKETIO_PATH,
    SYMBOL_PATTERN,
    TERMINAL_STATUSES,
    UPLOAD_CHUNK_BYTES,
    UPLOAD_ID_PATTERN,
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
from ._ids import new_message_id, new_run_id, new_session_id, utc_now
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
    GetSessions,
    GetStrategies,
    JoinSession,
    LeaveSession,
    ProtocolError,
    SendMessage,
    UploadData,
    check_symbol,
    parse,
)
from ._research import RESEARCH_KINDS, ResearchFields
from ._runs import ORDER_OPTIONS, RunOrders, StartRun
from ._uploads import UploadAbort, UploadChunk, UploadFinish, UploadStart, check_upload_id

ProtocolError.__module__ = __name__  # shown as chatops_widget.protocol.ProtocolError

__all__ = [
    "AUTH_TIMEOUT",
    "CLIENT_ID_PATTERN",
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "GUEST_NAME",
    "HOSTED_NAME_PATTERN",
    "MAX_COMMAND_CHARS",
    "MAX_CONNECTIONS_PER_ADDRESS",
    "MAX_CONTENT_CHARS",
    "MAX_DISPLAY_NAME",
    "MAX_GRID_VALUES",
    "MAX_HOSTED_PARAMS",
    "MAX_HOSTED_TIMEOUT",
    "MAX_MESSAGE_BYTES",
    "MAX_PARAM_MAGNITUDE",
    "MAX_RESULT_BYTES",
    "MAX_RUN_SYMBOLS",
    "MAX_RUN_TARGETS",
    "MAX_SEQ",
    "MAX_STREAM_BYTES",
    "MAX_UPLOAD_BYTES",
    "MAX_UPLOAD_CHUNK_BYTES",
    "NAMESPACE",
    "ORDER_OPTIONS",
    "RATE_LIMITS",
    "RESEARCH_KINDS",
    "RESULT_KINDS",
    "RESULT_READY",
    "RUN_ID_PATTERN",
    "RUN_STATUSES",
    "SERVER_FAULTS",
    "SESSION_ID_PATTERN",
    "SOCKETIO_PATH",
    "SYMBOL_PATTERN",
    "TERMINAL_STATUSES",
    "UPLOAD_CHUNK_BYTES",
    "UPLOAD_ID_PATTERN",
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
    "GetSessions",
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
    "ResearchFields",
    "ResultKind",
    "Role",
    "RunOrders",
    "RunStatus",
    "SendMessage",
    "ServerEvent",
    "StartRun",
    "UnregisterStrategy",
    "UploadAbort",
    "UploadChunk",
    "UploadData",
    "UploadFinish",
    "UploadStart",
    "check_client_id",
    "check_display_name",
    "check_hosted_name",
    "check_symbol",
    "check_upload_id",
    "frontend_constants",
    "new_message_id",
    "new_run_id",
    "new_session_id",
    "parse",
    "utc_now",
]


def frontend_constants() -> dict[str, Any]:
    """What the front end needs to know, from here (the widget syncs it as a traitlet).

    ``limits`` holds the limits the panel checks before it sends (the JS reads them by name
    with ``limit("maxUploadBytes")``): message and command length, the upload button's file
    size. Wire-only limits (chunked uploads' ``MAX_STREAM_BYTES``, ``UPLOAD_CHUNK_BYTES``,
    hosted results' ``MAX_RESULT_BYTES``) concern the kernel client, not the panel.

    >>> sorted(frontend_constants())
    ['errorCodes', 'limits', 'orderOptions', 'resultKinds', 'runStatuses', 'terminalStatuses']
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
        "orderOptions": [{"name": k, "doc": v} for k, v in ORDER_OPTIONS.items()],
    }
