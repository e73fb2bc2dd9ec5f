"""The protocol's vocabulary: event names, error codes, run statuses and kinds, id patterns and
limits. Plain data (no pydantic), shared by the server, the kernel client and the front end
(:func:`~chatops_widget.protocol.frontend_constants`).

Example:
    >>> ClientEvent.JOIN_SESSION.value, ServerEvent.BACKTEST_PROGRESS.value
    ('joinSession', 'backtestProgress')
    >>> sorted(TERMINAL_STATUSES)
    ['cancelled', 'completed', 'failed']
"""

from __future__ import annotations

from enum import Enum
from typing import Literal

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
    "ClientEvent",
    "ErrorCode",
    "ResultKind",
    "Role",
    "RunStatus",
    "ServerEvent",
]

SOCKETIO_PATH = "/ws/chatops"
NAMESPACE = "/"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8500

#: Session ids: the seed's ``session_<epoch ms>``, or any ``session_`` + 1-64 of ``[A-Za-z0-9_-]``.
SESSION_ID_PATTERN = r"^session_[A-Za-z0-9_-]{1,64}$"
#: Run ids: ``run_`` + 1-64 of ``[A-Za-z0-9_]`` (the server makes ``run_<12 hex>``).
RUN_ID_PATTERN = r"^run_[A-Za-z0-9_]{1,64}$"
#: Symbols a client may upload: 1-16 of ``A-Z 0-9 . _ -`` starting with a letter or digit
#: (upper-cased first, so ``"goog"`` is ``"GOOG"``).
SYMBOL_PATTERN = r"^[A-Z0-9][A-Z0-9._-]{0,15}$"

#: Hosted strategies (kept in a member's kernel): a letter, then letters, digits or ``_``.
HOSTED_NAME_PATTERN = r"^[A-Za-z][A-Za-z0-9_]{0,39}$"
#: The id a kernel client keeps for its lifetime (its hosted strategies are its own).
CLIENT_ID_PATTERN = r"^[A-Za-z0-9_-]{16,64}$"
#: Display names (``auth={"name"}``): at most this many characters; without one: ``guest``.
MAX_DISPLAY_NAME = 40
GUEST_NAME = "guest"

MAX_CONTENT_CHARS = 16_000
MAX_COMMAND_CHARS = 2_000
#: Largest ``uploadData`` payload (the Arrow bytes): about 300,000 OHLCV bars. It stays under
#: uvicorn's 16 MiB WebSocket message limit. Bigger data goes in the server's
#: ``<data-dir>/data`` folder as ``<SYMBOL>.parquet`` or ``.csv``.
MAX_UPLOAD_BYTES = 15 * 1024 * 1024
#: Most strategies in one ``startRun`` (a comparison), and values of one swept parameter.
MAX_RUN_TARGETS = 20
MAX_GRID_VALUES = 10_000
#: A hosted strategy: at most this many parameters; its runs time out after at most this
#: many seconds (its owner sets the timeout, default 300 s).
MAX_HOSTED_PARAMS = 32
MAX_HOSTED_TIMEOUT = 3600.0
#: Largest result a kernel uploads (``hostedResult``, ``publishResult``: all frames' bytes).
MAX_RESULT_BYTES = 15 * 1024 * 1024

Role = Literal["user", "assistant", "system"]
RunStatus = Literal["queued", "running", "completed", "failed", "cancelled"]
#: Every run status, in the order a run goes through them.
RUN_STATUSES: tuple[str, ...] = ("queued", "running", "completed", "failed", "cancelled")
#: A run in one of these has ended; its progress events stop.
TERMINAL_STATUSES: frozenset[str] = frozenset({"completed", "failed", "cancelled"})
ResultKind = Literal["backtest", "comparison", "sweep"]
#: The kinds of run that leave a stored result (``getResult``).
RESULT_KINDS: tuple[str, ...] = ("backtest", "comparison", "sweep")


class ClientEvent(str, Enum):
    """Events a client emits; each gets an :class:`~chatops_widget.protocol.Ack`."""

    JOIN_SESSION = "joinSession"
    LEAVE_SESSION = "leaveSession"
    SEND_MESSAGE = "sendMessage"
    EXECUTE_COMMAND = "executeCommand"
    START_RUN = "startRun"
    GET_RESULT = "getResult"
    GET_RUNS = "getRuns"
    GET_STRATEGIES = "getStrategies"
    UPLOAD_DATA = "uploadData"
    REGISTER_STRATEGY = "registerStrategy"
    UNREGISTER_STRATEGY = "unregisterStrategy"
    HOSTED_PROGRESS = "hostedProgress"
    HOSTED_RESULT = "hostedResult"
    PUBLISH_RESULT = "publishResult"


class ServerEvent(str, Enum):
    """Events the server emits to a session room (or to one connection, for ``error``)."""

    MESSAGE = "message"
    BACKTEST_PROGRESS = "backtestProgress"
    COMMAND_RESULT = "commandResult"
    ERROR = "error"
    #: to the owner's connection only: run a hosted strategy / stop that run
    HOSTED_RUN = "hostedRun"
    HOSTED_CANCEL = "hostedCancel"
    #: to every connection: the hosted strategies and whether their owners are connected
    HOSTED_STRATEGIES = "hostedStrategies"


class ErrorCode(str, Enum):
    """Machine-readable error codes carried by failed acks and ``error`` events."""

    BAD_REQUEST = "bad_request"
    INVALID_SESSION = "invalid_session"
    NOT_JOINED = "not_joined"
    TOO_LARGE = "too_large"
    UNKNOWN_COMMAND = "unknown_command"
    BAD_ARGUMENT = "bad_argument"
    NOT_FOUND = "not_found"
    ALREADY_EXISTS = "already_exists"
    #: a hosted strategy's owner is not connected (its kernel runs it, so it cannot run)
    UNAVAILABLE = "unavailable"
    #: a private hosted strategy, run by someone other than its owner
    FORBIDDEN = "forbidden"
    UNAUTHORIZED = "unauthorized"
    INTERNAL = "internal"
