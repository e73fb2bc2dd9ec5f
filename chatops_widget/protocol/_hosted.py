"""Who is who, and strategies that live in a member's kernel ("hosted" strategies).

**Identity**: a client connects with ``auth={"token", "name"?, "clientId"?}``. ``name`` is
the display name shown next to its messages and runs (:func:`check_display_name`; without one
the server says ``guest``); ``clientId`` is a random id the kernel client keeps for its
lifetime, so its hosted strategies are its own across reconnects (never shown to others).

**Hosted strategies**: the server stores only a name, a parameter spec, a description, the
owner and a version; the code stays in the owner's kernel. The owner registers with
``registerStrategy``; a run of it is sent to the owner's connection as ``hostedRun`` (the
bars as Arrow bytes), which answers with ``hostedProgress`` and one ``hostedResult`` (Arrow
frames and stats, or the error). ``publishResult`` shares a result made in a kernel.

Example:
    >>> check_display_name("  Ada Lovelace ")
    'Ada Lovelace'
    >>> req = parse(RegisterStrategy, {"sessionId": "session_1", "name": "my_mom",
    ...     "params": [{"name": "lookback", "type": "int", "default": 60, "min": 0}]})
    >>> req.params[0].default, req.private, req.timeout
    (60, False, 300.0)
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any, ClassVar, Literal

from pydantic import (
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    field_validator,
    model_validator,
)

from ._constants import (
    CLIENT_ID_PATTERN,
    HOSTED_NAME_PATTERN,
    MAX_DISPLAY_NAME,
    MAX_HOSTED_PARAMS,
    MAX_HOSTED_TIMEOUT,
    ClientEvent,
    ServerEvent,
)
from ._models import SessionId, _Model, parse

__all__ = [
    "HostedParam",
    "HostedProgress",
    "HostedResult",
    "HostedRun",
    "PublishResult",
    "RegisterStrategy",
    "UnregisterStrategy",
    "check_client_id",
    "check_display_name",
    "check_hosted_name",
    "parse",
]

_HOSTED_RE = re.compile(HOSTED_NAME_PATTERN)
_CLIENT_RE = re.compile(CLIENT_ID_PATTERN)
_PARAM_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,39}$")
_NAME_PUNCT = set(" ._-@'")

Number = StrictInt | StrictFloat
Value = StrictInt | StrictFloat | StrictBool


def check_display_name(value: Any) -> str:
    """A display name: 1-40 letters, digits, spaces and ``. _ - @ '`` (spaces collapsed);
    ``ValueError`` saying what a good one looks like.

    >>> check_display_name("bob<script>")
    Traceback (most recent call last):
    ...
    ValueError: name 'bob<script>' is not valid: '<' is not allowed; use 1-40 letters, digits, spaces, '.', '_', '-', '@' or "'", e.g. 'alice' or 'Ada L.'
    """  # noqa: E501
    text = " ".join(value.split()) if isinstance(value, str) else None
    rule = "use 1-40 letters, digits, spaces, '.', '_', '-', '@' or \"'\", e.g. 'alice' or 'Ada L.'"
    if text is None or not 0 < len(text) <= MAX_DISPLAY_NAME:
        raise ValueError(f"name {value!r:.60} is not valid; {rule}")
    for ch in text:
        if ch not in _NAME_PUNCT and unicodedata.category(ch)[0] not in "LN":
            raise ValueError(f"name {value!r:.60} is not valid: {ch!r} is not allowed; {rule}")
    return text


def check_hosted_name(value: Any) -> str:
    """A hosted strategy's name: a letter, then up to 39 letters, digits or ``_``.

    >>> check_hosted_name("my_mom")
    'my_mom'
    """
    if not isinstance(value, str) or not _HOSTED_RE.match(value):
        raise ValueError(
            f"strategy name {value!r:.60} is not valid; use a letter then up to 39 letters, "
            "digits or '_', e.g. 'my_mom'"
        )
    return value


def check_client_id(value: Any) -> str | None:
    """The ``clientId`` of a connection (``None`` if absent); ``ValueError`` if malformed."""
    if value is None:
        return None
    if not isinstance(value, str) or not _CLIENT_RE.match(value):
        raise ValueError("clientId must be 16-64 letters, digits, '_' or '-'")
    return value


class HostedParam(_Model):
    """One parameter of a hosted strategy: its type, default and inclusive bounds."""

    name: StrictStr
    type: Literal["int", "float", "bool"]
    default: Value
    min: Number | None = None
    max: Number | None = None
    doc: StrictStr = Field(default="", max_length=200)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _PARAM_RE.match(value):
            raise ValueError("a parameter name is a Python identifier of at most 40 characters")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> HostedParam:
        is_bool = isinstance(self.default, bool)
        if (self.type == "bool") != is_bool or (
            self.type == "int" and not isinstance(self.default, int)
        ):
            raise ValueError(f"{self.name}: default {self.default!r} is not a {self.type}")
        if self.type == "bool" and (self.min is not None or self.max is not None):
            raise ValueError(f"{self.name}: a bool takes no min/max")
        for bound in (self.min, self.max):
            if bound is not None and not abs(float(bound)) < 1e300:
                raise ValueError(f"{self.name}: bounds must be finite")
        return self


class RegisterStrategy(_Model):
    """``registerStrategy``: the owner's kernel offers a strategy to the server (no code).

    The ack: ``{name, version, owner}``; ``version`` changes with every registration (runs
    carry it), except a re-send of the same ``version`` and spec by the same kernel (after a
    reconnect), which keeps it.
    """

    event: ClassVar[str] = ClientEvent.REGISTER_STRATEGY.value

    sessionId: str = SessionId
    name: StrictStr
    description: StrictStr = Field(default="", max_length=300)
    params: list[HostedParam] = Field(default_factory=list, max_length=MAX_HOSTED_PARAMS)
    private: StrictBool = False
    timeout: Number = Field(default=300.0, gt=0, le=MAX_HOSTED_TIMEOUT)
    version: StrictStr | None = Field(default=None, max_length=40)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return check_hosted_name(value)

    @field_validator("timeout")
    @classmethod
    def _timeout(cls, value: float) -> float:
        return float(value)

    @field_validator("params")
    @classmethod
    def _unique(cls, value: list[HostedParam]) -> list[HostedParam]:
        names = [p.name for p in value]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"parameter(s) {', '.join(dupes)} given more than once")
        return value


class UnregisterStrategy(_Model):
    """``unregisterStrategy``: the owner withdraws a hosted strategy."""

    event: ClassVar[str] = ClientEvent.UNREGISTER_STRATEGY.value

    sessionId: str = SessionId
    name: StrictStr = Field(max_length=40)


class HostedRun(_Model):
    """``hostedRun`` (server -> the owner's connection): run ``name`` at ``version``.

    ``params`` for a backtest, ``combos`` (full parameter dicts) for a sweep; ``data`` is the
    bars (Arrow IPC stream bytes, the engine's OHLCV frame); ``orders`` the order settings.
    """

    event: ClassVar[str] = ServerEvent.HOSTED_RUN.value

    runId: str
    sessionId: str
    name: str
    version: str
    kind: Literal["backtest", "sweep"]
    startedBy: str
    symbol: str
    params: dict[str, Value] = Field(default_factory=dict)
    combos: list[dict[str, Value]] = Field(default_factory=list)
    cash: float
    commission: float = 0.0
    spread: float = 0.0
    orders: dict[str, Any] = Field(default_factory=dict)
    split: str | None = None
    timeout: float
    data: bytes = Field(repr=False)


class HostedProgress(_Model):
    """``hostedProgress`` (the owner's kernel -> server): a run's progress, 0-100."""

    event: ClassVar[str] = ClientEvent.HOSTED_PROGRESS.value

    runId: StrictStr = Field(max_length=70)
    progress: Number = Field(ge=0, le=100)
    message: StrictStr | None = Field(default=None, max_length=200)


class HostedError(_Model):
    """Why a hosted run failed: the exception's type and message (no traceback)."""

    type: StrictStr = Field(max_length=100)
    message: StrictStr = Field(max_length=2000)


class HostedResult(_Model):
    """``hostedResult`` (the owner's kernel -> server): the run's outcome.

    ``ok``: ``stats`` (name -> number or null), ``params``, ``engineSeconds`` and ``frames``
    (``equity``, ``trades`` for a backtest; ``table`` for a sweep) as Arrow IPC bytes; else
    ``error`` ``{type, message}``.
    """

    event: ClassVar[str] = ClientEvent.HOSTED_RESULT.value

    runId: StrictStr = Field(max_length=70)
    ok: StrictBool
    stats: dict[str, Number | None] = Field(default_factory=dict, max_length=200)
    params: dict[str, Value] = Field(default_factory=dict, max_length=MAX_HOSTED_PARAMS)
    frames: dict[str, bytes] = Field(default_factory=dict, max_length=4, repr=False)
    engineSeconds: Number = Field(default=0.0, ge=0)
    error: HostedError | None = None


class PublishResult(_Model):
    """``publishResult``: a result made in a kernel (our engine, backtesting.py, vectorbt),
    converted there to the engine's shape, shared into the session as a run.

    ``frames``: ``equity`` and ``trades`` (Arrow IPC bytes); ``stats`` by the engine's names.
    The ack: ``{runId, message}``; the session gets the run's ``commandResult`` and card.
    """

    event: ClassVar[str] = ClientEvent.PUBLISH_RESULT.value

    sessionId: str = SessionId
    name: StrictStr = Field(min_length=1, max_length=64)
    source: StrictStr = Field(default="chatops_widget", max_length=40)
    symbol: StrictStr | None = Field(default=None, max_length=16)
    stats: dict[str, Number | None] = Field(default_factory=dict, max_length=200)
    params: dict[str, Value | StrictStr] = Field(default_factory=dict, max_length=64)
    frames: dict[str, bytes] = Field(repr=False)
    runId: StrictStr | None = Field(default=None, max_length=70)
    clientMessageId: StrictStr | None = Field(default=None, max_length=100)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        text = " ".join(value.split())
        if not text or any(unicodedata.category(ch)[0] == "C" for ch in text):
            raise ValueError("a name is 1-64 printable characters")
        return text
