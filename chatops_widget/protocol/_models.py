"""The protocol's payloads: pydantic models of every event, :func:`parse` and the error type.

Example:
    >>> parse(JoinSession, "session_1697472000000")
    JoinSession(sessionId='session_1697472000000', lastSeq=0, name=None)
    >>> parse(SendMessage, {"sessionId": "session_1", "content": "hi"}).content
    'hi'
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any, ClassVar, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_serializer,
    field_validator,
)

from ._constants import (
    MAX_COMMAND_CHARS,
    MAX_CONTENT_CHARS,
    MAX_SEQ,
    SESSION_ID_PATTERN,
    SYMBOL_PATTERN,
    ClientEvent,
    ErrorCode,
    Role,
    RunStatus,
)

__all__ = [
    "Ack",
    "BacktestProgress",
    "ChatMessage",
    "CommandResult",
    "ErrorEvent",
    "ErrorInfo",
    "ExecuteCommand",
    "GetResult",
    "GetRuns",
    "GetStrategies",
    "JoinSession",
    "LeaveSession",
    "ProtocolError",
    "SendMessage",
    "UploadData",
    "check_symbol",
    "parse",
]

_SESSION_RE = re.compile(SESSION_ID_PATTERN)
_SYMBOL_RE = re.compile(SYMBOL_PATTERN)


class ProtocolError(Exception):
    """A request the server (or client) cannot honour; carries a code and a readable message."""

    def __init__(
        self,
        code: ErrorCode | str,
        message: str,
        session_id: str | None = None,
        retry_after: float | None = None,
        run_id: str | None = None,
    ):
        super().__init__(message)
        self.code = ErrorCode(code)
        self.message = message
        self.session_id = session_id
        self.retry_after = retry_after
        self.run_id = run_id  # the run it ended, if one had started (commandResult.runId)

    def info(self) -> ErrorInfo:
        """The ``{code, message}`` (+ ``retryAfter``) of a failed ack or ``commandResult``."""
        return ErrorInfo(code=self.code.value, message=self.message, retryAfter=self.retry_after)

    def event(self) -> ErrorEvent:
        """The ``error`` event sent to the connection whose request failed."""
        return ErrorEvent(
            code=self.code.value,
            message=self.message,
            sessionId=self.session_id,
            retryAfter=self.retry_after,
        )


class _Model(BaseModel):
    # defer_build: a model's validator is made when the model is first used, not at import
    # (a panel's connect uses a few of the ~60 models; the rest cost nothing until needed)
    model_config = ConfigDict(extra="forbid", populate_by_name=True, defer_build=True)
    #: the client event this model is the payload of ("" for server -> client models)
    event: ClassVar[str] = ""

    def wire(self) -> dict[str, Any]:
        """The JSON-ready dict sent over socket.io."""
        return self.model_dump(mode="json", exclude_none=True)


def _check_session_id(value: str) -> str:
    if not _SESSION_RE.fullmatch(value):
        raise ValueError(
            f"session id {value!r} is not valid; expected 'session_' followed by 1-64 letters, "
            "digits, '_' or '-', e.g. 'session_1697472000000'"
        )
    return value


SessionId: Any = Field(min_length=1, max_length=80)


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
    """What went wrong: a machine-readable ``code`` (:class:`ErrorCode`) and a readable message;
    ``retryAfter`` (seconds) when trying again later will work (``rate_limited``)."""

    code: str
    message: str
    retryAfter: float | None = None


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
    retryAfter: float | None = None


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

    event: ClassVar[str] = ClientEvent.JOIN_SESSION.value

    sessionId: str = SessionId
    lastSeq: int = Field(default=0, ge=0, le=MAX_SEQ)
    name: str | None = Field(default=None, max_length=200)

    @classmethod
    def coerce(cls, data: Any) -> Any:
        """A bare session id string stands for ``{"sessionId": ...}``."""
        return {"sessionId": data} if isinstance(data, str) else data


class LeaveSession(_Model):
    """``leaveSession``: a session id string or ``{"sessionId"}``."""

    event: ClassVar[str] = ClientEvent.LEAVE_SESSION.value

    sessionId: str = SessionId

    @classmethod
    def coerce(cls, data: Any) -> Any:
        """A bare session id string stands for ``{"sessionId": ...}``."""
        return {"sessionId": data} if isinstance(data, str) else data


class SendMessage(_Model):
    """``sendMessage``: text for the session; ``clientMessageId`` makes retries idempotent."""

    event: ClassVar[str] = ClientEvent.SEND_MESSAGE.value

    sessionId: str = SessionId
    content: str = Field(min_length=1, max_length=MAX_CONTENT_CHARS)
    clientMessageId: str | None = Field(default=None, max_length=100)


class ExecuteCommand(_Model):
    """``executeCommand``: the full slash text, e.g. ``"/run_backtest strategy_1 fast=10"``."""

    event: ClassVar[str] = ClientEvent.EXECUTE_COMMAND.value

    sessionId: str = SessionId
    command: str = Field(min_length=1, max_length=MAX_COMMAND_CHARS)
    clientMessageId: str | None = Field(default=None, max_length=100)


class GetResult(_Model):
    """``getResult``: fetch a stored run's result (Arrow IPC bytes in the ack)."""

    event: ClassVar[str] = ClientEvent.GET_RESULT.value

    sessionId: str = SessionId
    runId: str = Field(min_length=1, max_length=100)


def check_symbol(value: Any) -> str:
    """An upload's symbol, upper-cased; ``ValueError`` saying what a good one looks like.

    >>> check_symbol(" btc-usd ")
    'BTC-USD'
    """
    sym = value.strip().upper() if isinstance(value, str) else value
    if not isinstance(sym, str) or not _SYMBOL_RE.fullmatch(sym):
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

    event: ClassVar[str] = ClientEvent.UPLOAD_DATA.value

    sessionId: str = SessionId
    symbol: str
    data: bytes = Field(strict=True, repr=False)
    overwrite: bool = Field(default=False, strict=True)
    uploadedBy: str | None = Field(default=None, max_length=40)

    @field_validator("symbol")
    @classmethod
    def _symbol(cls, value: str) -> str:
        return check_symbol(value)


class GetRuns(_Model):
    """``getRuns``: this session's runs (what ``/status`` shows, without a chat message)."""

    event: ClassVar[str] = ClientEvent.GET_RUNS.value

    sessionId: str = SessionId


class GetStrategies(_Model):
    """``getStrategies``: the stored strategies (without a chat message)."""

    event: ClassVar[str] = ClientEvent.GET_STRATEGIES.value

    sessionId: str = SessionId


class GetSessions(_Model):
    """``getSessions``: the sessions stored on the server, newest first (at most ``limit``) ->
    ``{sessions: [{id, name, createdAt, lastSeq}], total}``; the payload may be left out.

    >>> parse(GetSessions, None).limit, parse(GetSessions, {"limit": 5}).limit
    (200, 5)
    """

    event: ClassVar[str] = ClientEvent.GET_SESSIONS.value

    limit: int = Field(default=200, ge=1, le=1000, strict=True)

    @classmethod
    def coerce(cls, data: Any) -> Any:
        """No payload (``None``) asks for the default."""
        return {} if data is None else data


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
    name = model.event or model.__name__
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
    if "sessionId" in model.model_fields:
        try:
            _check_session_id(getattr(obj, "sessionId"))  # noqa: B009 (a field of some models)
        except ValueError as exc:
            raise ProtocolError(ErrorCode.INVALID_SESSION, f"{name}: {exc}") from None
    return obj


def _fields_at(model: type[BaseModel], path: tuple[Any, ...]) -> list[str]:
    """The fields of the (nested) model at ``path`` of ``model``, e.g. ``("orders",)``."""
    for part in path:
        info = model.model_fields.get(str(part))
        ann = info.annotation if info is not None else None
        sub = [a for a in (get_args(ann) or (ann,)) if isinstance(a, type)
               and issubclass(a, BaseModel)]  # fmt: skip
        if not sub:
            break
        model = sub[0]
    return list(model.model_fields)


def _explain(exc: ValidationError, model: type[_Model]) -> str:
    parts = []
    for err in exc.errors():
        field = ".".join(str(p) for p in err["loc"]) or "payload"
        if err["type"] == "missing":
            parts.append(f"'{field}' is required")
        elif err["type"] == "extra_forbidden":
            allowed = ", ".join(_fields_at(model, err["loc"][:-1]))
            parts.append(f"unknown field '{field}' (allowed: {allowed})")
        else:
            parts.append(f"'{field}': {err['msg']} (got {err.get('input')!r:.60})")
    return "; ".join(parts)
