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
    "RATE_LIMITS",
    "RESULT_KINDS",
    "RUN_ID_PATTERN",
    "RUN_STATUSES",
    "SERVER_FAULTS",
    "SESSION_ID_PATTERN",
    "SOCKETIO_PATH",
    "SYMBOL_PATTERN",
    "TERMINAL_STATUSES",
    "UPLOAD_CHUNK_BYTES",
    "UPLOAD_ID_PATTERN",
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
#: Largest socket.io message (one WebSocket frame, one polling body) the server reads: up to it
#: an oversize field is answered ``too_large``; a bigger message closes that connection.
MAX_MESSAGE_BYTES = 32 * 1024 * 1024
#: Largest ``uploadData`` payload (the Arrow bytes): about 300,000 OHLCV bars. Bigger data goes
#: in the server's ``<data-dir>/data`` folder as ``<SYMBOL>.parquet`` or ``.csv``.
MAX_UPLOAD_BYTES = 15 * 1024 * 1024
#: A bigger frame goes in chunks (``uploadStart``, ``uploadChunk`` ..., ``uploadFinish``): the
#: Arrow IPC stream of the frame, one record batch (~``UPLOAD_CHUNK_BYTES``) per chunk, each
#: at most ``MAX_UPLOAD_CHUNK_BYTES`` -- well under the socket.io/WebSocket message limit
#: (32 MiB). The whole stream may be up to ``MAX_STREAM_BYTES`` (about 300M bars).
UPLOAD_CHUNK_BYTES = 4 * 1024 * 1024
MAX_UPLOAD_CHUNK_BYTES = 8 * 1024 * 1024
MAX_STREAM_BYTES = 16 * 1024**3
#: Upload ids (chosen by the client, so it can resume after a reconnect): ``up_`` + 8-64 of
#: ``[A-Za-z0-9]``.
UPLOAD_ID_PATTERN = r"^up_[A-Za-z0-9]{8,64}$"
#: Most strategies in one ``startRun`` (a comparison), and values of one swept parameter.
MAX_RUN_TARGETS = 20
MAX_GRID_VALUES = 10_000
#: Numbers in a run's parameters, grids and costs are finite and at most this in size.
MAX_PARAM_MAGNITUDE = 1e12
#: The largest message ``seq`` (SQLite's largest integer): ``lastSeq`` may not exceed it.
MAX_SEQ = 2**63 - 1
#: Seconds a connection has to authenticate (socket.io CONNECT with the token) before the
#: server closes it; ``CHATOPS_AUTH_TIMEOUT`` changes it.
AUTH_TIMEOUT = 10.0
#: Connections one client address may hold at once (authenticated or not); more are refused.
#: ``CHATOPS_MAX_CONNECTIONS`` changes it (behind a proxy every client has its address).
MAX_CONNECTIONS_PER_ADDRESS = 64
#: Per connection, a token bucket per kind of request: (refill per second, burst). Beyond it a
#: request is answered ``rate_limited`` with ``retryAfter`` (seconds). ``messages``:
#: ``sendMessage``; ``commands``: ``executeCommand``, ``startRun``; ``uploads``: ``uploadData``;
#: ``events``: every other event. ``CHATOPS_RATE_LIMITS`` changes them, e.g.
#: ``messages=50/s:200,uploads=off`` (``off`` alone: no limits).
RATE_LIMITS: dict[str, tuple[float, int]] = {
    "messages": (20.0, 100),
    "commands": (5.0, 30),
    "uploads": (0.5, 5),
    "events": (100.0, 300),
}
#: Most symbols in one universe comparison or portfolio (the engine's limit too).
MAX_RUN_SYMBOLS = 500
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
ResultKind = Literal["backtest", "comparison", "sweep", "walkforward", "universe", "portfolio"]
#: The kinds of run that leave a stored result (``getResult``).
RESULT_KINDS: tuple[str, ...] = (
    "backtest", "comparison", "sweep", "walkforward", "universe", "portfolio"
)  # fmt: skip


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
    GET_SESSIONS = "getSessions"
    UPLOAD_DATA = "uploadData"
    UPLOAD_START = "uploadStart"
    UPLOAD_CHUNK = "uploadChunk"
    UPLOAD_FINISH = "uploadFinish"
    UPLOAD_ABORT = "uploadAbort"
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


#: The kernel client's own event, never on the wire: a run of the session has its result in
#: hand (``{"runId", "sessionId"}``), fetched the moment it was stored (``client.on(...)``).
RESULT_READY = "resultReady"


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
    RATE_LIMITED = "rate_limited"  # too many requests from one connection; see retryAfter
    # the server's faults, not the request's (see SERVER_FAULTS):
    INTERNAL = "internal"  # a bug: logged with its traceback, never shown
    WORKER_DIED = "worker_died"  # the worker process running it died (retried once first)
    STORAGE = "storage"  # the data dir cannot be written (disk full, read-only)


#: Error codes that are the server's fault, not the request's: the same request may work later.
SERVER_FAULTS: frozenset[str] = frozenset(
    {ErrorCode.INTERNAL.value, ErrorCode.WORKER_DIED.value, ErrorCode.STORAGE.value}
)
