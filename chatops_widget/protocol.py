"""The ChatOps wire protocol: the one schema both the server and the clients use.

Event names are the seed's (``joinSession``, ``sendMessage``, ``executeCommand``,
``backtestProgress``, ``commandResult`` ...), so the seed's React front end can talk to our
server unchanged. Every client -> server event is acknowledged (socket.io ack) with an
:class:`Ack`: ``{"ok": true, ...}`` or ``{"ok": false, "error": {"code", "message"}}``.

Payloads are validated with pydantic; :func:`parse` turns any validation failure into a
:class:`ProtocolError` whose message says what was wrong and what would be right.

Example:
    >>> parse(JoinSession, "session_1697472000000")
    JoinSession(sessionId='session_1697472000000', lastSeq=0)
    >>> parse(SendMessage, {"sessionId": "session_1", "content": "hi"}).content
    'hi'
"""

from __future__ import annotations

import re
import time
import uuid
from datetime import datetime, timezone
from enum import Enum
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_serializer,
    field_validator,
)

__all__ = [
    "NAMESPACE",
    "SOCKETIO_PATH",
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "SESSION_ID_PATTERN",
    "MAX_CONTENT_CHARS",
    "MAX_COMMAND_CHARS",
    "SYMBOL_PATTERN",
    "MAX_UPLOAD_BYTES",
    "check_symbol",
    "ClientEvent",
    "ServerEvent",
    "ErrorCode",
    "ProtocolError",
    "Role",
    "RunStatus",
    "ChatMessage",
    "JoinSession",
    "LeaveSession",
    "SendMessage",
    "ExecuteCommand",
    "GetResult",
    "UploadData",
    "BacktestProgress",
    "CommandResult",
    "ErrorInfo",
    "ErrorEvent",
    "Ack",
    "parse",
    "new_session_id",
    "new_message_id",
    "utc_now",
]

SOCKETIO_PATH = "/ws/chatops"
NAMESPACE = "/"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8500

#: Session ids: the seed's ``session_<epoch ms>``, or any ``session_`` + 1-64 of ``[A-Za-z0-9_-]``.
SESSION_ID_PATTERN = r"^session_[A-Za-z0-9_-]{1,64}$"
_SESSION_RE = re.compile(SESSION_ID_PATTERN)

MAX_CONTENT_CHARS = 16_000
MAX_COMMAND_CHARS = 2_000

#: Symbols a client may upload: 1-16 of ``A-Z 0-9 . _ -`` starting with a letter or digit
#: (upper-cased first, so ``"goog"`` is ``"GOOG"``).
SYMBOL_PATTERN = r"^[A-Z0-9][A-Z0-9._-]{0,15}$"
_SYMBOL_RE = re.compile(SYMBOL_PATTERN)

#: Largest ``uploadData`` payload (the Arrow bytes): about 300,000 OHLCV bars. It stays under
#: uvicorn's 16 MiB WebSocket message limit. Bigger data goes in the server's
#: ``<data-dir>/data`` folder as ``<SYMBOL>.parquet`` or ``.csv``.
MAX_UPLOAD_BYTES = 15 * 1024 * 1024


class ClientEvent(str, Enum):
    """Events a client emits; each gets an :class:`Ack`."""

    JOIN_SESSION = "joinSession"
    LEAVE_SESSION = "leaveSession"
    SEND_MESSAGE = "sendMessage"
    EXECUTE_COMMAND = "executeCommand"
    GET_RESULT = "getResult"
    UPLOAD_DATA = "uploadData"


class ServerEvent(str, Enum):
    """Events the server emits to a session room (or to one connection, for ``error``)."""

    MESSAGE = "message"
    BACKTEST_PROGRESS = "backtestProgress"
    COMMAND_RESULT = "commandResult"
    ERROR = "error"


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
    UNAUTHORIZED = "unauthorized"
    INTERNAL = "internal"


class ProtocolError(Exception):
    """A request the server (or client) cannot honour; carries a code and a readable message."""

    def __init__(self, code: ErrorCode | str, message: str, session_id: str | None = None):
        super().__init__(message)
        self.code = ErrorCode(code)
        self.message = message
        self.session_id = session_id

    def info(self) -> ErrorInfo:
        return ErrorInfo(code=self.code.value, message=self.message)

    def event(self) -> ErrorEvent:
        return ErrorEvent(code=self.code.value, message=self.message, sessionId=self.session_id)


Role = Literal["user", "assistant", "system"]
RunStatus = Literal["queued", "running", "completed", "failed", "cancelled"]
TERMINAL_STATUSES: frozenset[str] = frozenset({"completed", "failed", "cancelled"})


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    def wire(self) -> dict[str, Any]:
        """The JSON-ready dict sent over socket.io."""
        return self.model_dump(mode="json", exclude_none=True)


def _check_session_id(value: str) -> str:
    if not _SESSION_RE.match(value):
        raise ValueError(
            f"session id {value!r} is not valid; expected 'session_' followed by 1-64 letters, "
            "digits, '_' or '-', e.g. 'session_1697472000000'"
        )
    return value


SessionId = Field(min_length=1, max_length=80)


# ---------------------------------------------------------------- server -> client


class ChatMessage(_Model):
    """One chat message, as the seed's ``ChatMessage`` plus a per-session monotonic ``seq``."""

    id: str
    sessionId: str
    role: Role
    content: str
    timestamp: datetime
    metadata: dict[str, Any] = Field(default_factory=dict)
    seq: int = Field(ge=1)

    @field_serializer("timestamp")
    def _iso_utc(self, ts: datetime) -> str:
        ts = ts if ts.tzinfo else ts.replace(tzinfo=timezone.utc)
        return ts.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class BacktestProgress(_Model):
    """Progress of one run, sent to the whole session; ``progress`` is 0-100 and monotonic."""

    runId: str
    sessionId: str
    strategyId: str | None = None
    progress: float = Field(ge=0, le=100)
    status: RunStatus
    message: str | None = None


class ErrorInfo(_Model):
    """What went wrong: a machine-readable ``code`` (:class:`ErrorCode`) and a readable message."""

    code: str
    message: str


class CommandResult(_Model):
    """The outcome of an ``executeCommand``: the command, ``ok``, the run id and a summary."""

    sessionId: str
    command: str
    ok: bool
    runId: str | None = None
    summary: dict[str, Any] = Field(default_factory=dict)
    error: ErrorInfo | None = None


class ErrorEvent(_Model):
    """The ``error`` event sent to the connection whose request failed."""

    code: str
    message: str
    sessionId: str | None = None


class Ack(_Model):
    """The acknowledgement of every client event."""

    model_config = ConfigDict(extra="allow")
    ok: bool
    error: ErrorInfo | None = None


# ---------------------------------------------------------------- client -> server


class JoinSession(_Model):
    """``joinSession``: a plain session id string (as the seed emits it) or this object.

    The ack carries ``messages`` with ``seq > lastSeq``, so a joiner misses nothing.
    """

    sessionId: str = SessionId
    lastSeq: int = Field(default=0, ge=0)
    name: str | None = Field(default=None, max_length=200)

    @classmethod
    def coerce(cls, data: Any) -> Any:
        return {"sessionId": data} if isinstance(data, str) else data


class LeaveSession(_Model):
    """``leaveSession``: a session id string or ``{"sessionId"}``."""

    sessionId: str = SessionId

    @classmethod
    def coerce(cls, data: Any) -> Any:
        return {"sessionId": data} if isinstance(data, str) else data


class SendMessage(_Model):
    """``sendMessage``: text for the session; ``clientMessageId`` makes retries idempotent."""

    sessionId: str = SessionId
    content: str = Field(min_length=1, max_length=MAX_CONTENT_CHARS)
    clientMessageId: str | None = Field(default=None, max_length=100)


class ExecuteCommand(_Model):
    """``executeCommand``: the full slash text, e.g. ``"/run_backtest strategy_1 fast=10"``."""

    sessionId: str = SessionId
    command: str = Field(min_length=1, max_length=MAX_COMMAND_CHARS)
    clientMessageId: str | None = Field(default=None, max_length=100)


class GetResult(_Model):
    """``getResult``: fetch a stored run's result (Arrow IPC bytes in the ack)."""

    sessionId: str = SessionId
    runId: str = Field(min_length=1, max_length=100)


def check_symbol(value: Any) -> str:
    """An upload's symbol, upper-cased; ``ValueError`` saying what a good one looks like.

    >>> check_symbol(" btc-usd ")
    'BTC-USD'
    """
    sym = value.strip().upper() if isinstance(value, str) else value
    if not isinstance(sym, str) or not _SYMBOL_RE.match(sym):
        raise ValueError(
            f"symbol {value!r} is not valid; use 1-16 letters, digits, '.', '_' or '-' starting "
            "with a letter or digit, e.g. 'GOOG' or 'BTC-USD'"
        )
    return sym


class UploadData(_Model):
    """``uploadData``: OHLCV bars for a new symbol, as Arrow IPC stream bytes (never pickle).

    ``data`` is what ``chatops_widget._serialization.to_arrow_bytes(df)`` makes of a frame with
    Open, High, Low, Close (Volume optional) on a sorted DatetimeIndex; at most
    :data:`MAX_UPLOAD_BYTES`. An existing symbol is replaced only with ``overwrite=True``.
    The ack: ``{"ok": true, "symbol", "bars", "start", "end", "frequency", "overwritten",
    "message"}``; everyone in the session gets a ``system`` message about it.
    """

    sessionId: str = SessionId
    symbol: str
    data: bytes = Field(strict=True, repr=False)
    overwrite: bool = Field(default=False, strict=True)
    uploadedBy: str | None = Field(default=None, max_length=40)

    @field_validator("symbol")
    @classmethod
    def _symbol(cls, value: str) -> str:
        return check_symbol(value)


_SESSION_MODELS = (JoinSession, LeaveSession, SendMessage, ExecuteCommand, GetResult, UploadData)


#: (field, limit, advice) checked by :func:`parse` before the model: a long text gets ``too_large``
_TEXT_LIMITS = (
    ("content", MAX_CONTENT_CHARS, "Split it into several messages."),
    ("command", MAX_COMMAND_CHARS, "Shorten it (long data goes in a file or an upload)."),
)


def parse(model: type[_Model], data: Any) -> Any:
    """Validate ``data`` as ``model``; raise :class:`ProtocolError` with a readable message.

    >>> parse(ExecuteCommand, {"sessionId": "session_1"})
    Traceback (most recent call last):
    ...
    chatops_widget.protocol.ProtocolError: executeCommand: 'command' is required
    """
    coerce = getattr(model, "coerce", None)
    if coerce is not None:
        data = coerce(data)
    name = _EVENT_NAMES.get(model, model.__name__)
    if not isinstance(data, dict):
        raise ProtocolError(
            ErrorCode.BAD_REQUEST,
            f"{name}: expected an object with fields {sorted(model.model_fields)}, "
            f"got {type(data).__name__}",
        )
    for key, limit, advice in _TEXT_LIMITS:
        if isinstance(data.get(key), str) and len(data[key]) > limit:
            raise ProtocolError(
                ErrorCode.TOO_LARGE,
                f"{name}: {key} is {len(data[key])} characters; the limit is {limit}. {advice}",
                data.get("sessionId") if isinstance(data.get("sessionId"), str) else None,
            )
    try:
        obj = model.model_validate(data)
    except ValidationError as exc:
        raise ProtocolError(ErrorCode.BAD_REQUEST, f"{name}: {_explain(exc, model)}") from None
    if model in _SESSION_MODELS:
        try:
            _check_session_id(obj.sessionId)
        except ValueError as exc:
            raise ProtocolError(ErrorCode.INVALID_SESSION, f"{name}: {exc}") from None
    return obj


def _explain(exc: ValidationError, model: type[_Model]) -> str:
    parts = []
    for err in exc.errors():
        field = ".".join(str(p) for p in err["loc"]) or "payload"
        if err["type"] == "missing":
            parts.append(f"'{field}' is required")
        elif err["type"] == "extra_forbidden":
            parts.append(f"unknown field '{field}' (allowed: {', '.join(model.model_fields)})")
        else:
            parts.append(f"'{field}': {err['msg']} (got {err.get('input')!r:.60})")
    return "; ".join(parts)


_EVENT_NAMES: dict[type, str] = {
    JoinSession: ClientEvent.JOIN_SESSION.value,
    LeaveSession: ClientEvent.LEAVE_SESSION.value,
    SendMessage: ClientEvent.SEND_MESSAGE.value,
    ExecuteCommand: ClientEvent.EXECUTE_COMMAND.value,
    GetResult: ClientEvent.GET_RESULT.value,
    UploadData: ClientEvent.UPLOAD_DATA.value,
}


def new_session_id() -> str:
    """A new session id in the seed's format, ``session_<epoch ms>``."""
    return f"session_{int(time.time() * 1000)}"


def new_message_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


#: What a run's result can be (``summary.kind`` of a finished run that has a stored result).
RESULT_KINDS: frozenset[str] = frozenset({"backtest", "comparison", "sweep"})


def _stat_metadata() -> list[dict[str, str]]:
    """``[{"name", "unit"}]`` of the stats the front end formats specially (``unit`` is
    ``"fraction"`` for stats shown as percent). The one place to switch to a stat registry."""
    from .engine import _result  # the engine's formatter holds the list (no import at load)

    return [{"name": name, "unit": "fraction"} for name in sorted(_result._PCT)]


def frontend_constants() -> dict[str, Any]:
    """Every constant the chat panel's front end needs, from its one Python source (sent to the
    browser as the widget's ``constants`` traitlet, so the JS keeps no copies).

    >>> c = frontend_constants()
    >>> c["terminalStatuses"], c["resultKinds"]
    (['cancelled', 'completed', 'failed'], ['backtest', 'comparison', 'sweep'])
    >>> c["limits"]["maxUploadBytes"] == MAX_UPLOAD_BYTES, c["defaultCash"]
    (True, 1000000.0)
    >>> "total_return" in c["percentStats"], "sharpe" in c["percentStats"]
    (True, False)
    """
    import inspect

    from . import engine

    stats = _stat_metadata()
    return {
        "runStatuses": list(RunStatus.__args__),  # type: ignore[attr-defined]
        "terminalStatuses": sorted(TERMINAL_STATUSES),
        "resultKinds": sorted(RESULT_KINDS),
        "errorCodes": [code.value for code in ErrorCode],
        "limits": {
            "maxContentChars": MAX_CONTENT_CHARS,
            "maxCommandChars": MAX_COMMAND_CHARS,
            "maxUploadBytes": MAX_UPLOAD_BYTES,
        },
        "stats": stats,
        "percentStats": [s["name"] for s in stats if s["unit"] == "fraction"],
        "defaultCash": float(inspect.signature(engine.backtest).parameters["cash"].default),
    }
