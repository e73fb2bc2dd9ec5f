"""What every client event passes through before a handler sees it: the token check at connect
(and who connects: the display name and client id of ``auth``), the connection's rate limit for
its kind of request (:mod:`.limits`), one payload argument, an ack for every event (``{"ok":
true, ...}`` or ``{"ok": false, "error": {"code", "message"}}``), an ``error`` event to the
sender when it failed, and an answer for events nobody handles. A handler's ``ProtocolError``
reaches the client as it is; any other exception is logged with its traceback and answered
``internal`` -- never shown.

Example:
    >>> import socketio
    >>> gate = Gate(socketio.AsyncServer(async_mode="asgi"), "secret", lambda: ["joinSession"],
    ...             Limits())
    >>> async def ping(sid, data):
    ...     return {"pong": data}
    >>> handler = gate.wrap("ping", ping)
    >>> asyncio.run(handler("sid1", 1)), asyncio.run(handler("sid1", 1, 2))["error"]["code"]
    ({'ok': True, 'pong': 1}, 'bad_request')
"""

from __future__ import annotations

import asyncio  # noqa: F401  (used by the docstring example)
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import socketio

from ..protocol import (
    GUEST_NAME,
    ClientEvent,
    ErrorCode,
    ProtocolError,
    ServerEvent,
    check_client_id,
    check_display_name,
)
from .limits import Buckets, Limits

__all__ = ["BUILTIN_EVENTS", "Gate", "Identity"]

log = logging.getLogger("chatops_widget.server")

#: The client events the host itself answers (plugins add theirs with ``host.on_event``).
BUILTIN_EVENTS = tuple(
    e.value
    for e in (
        ClientEvent.JOIN_SESSION,
        ClientEvent.LEAVE_SESSION,
        ClientEvent.SEND_MESSAGE,
        ClientEvent.EXECUTE_COMMAND,
    )
)

Handler = Callable[[str, Any], Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class Identity:
    """Who a connection is: its display ``name`` and the kernel client's ``client_id``."""

    name: str
    client_id: str | None = None


#: ``async fn(sid, identity)``, told when a connection has gone
GoneHook = Callable[[str, Identity], Awaitable[None]]


class Gate:
    """Auth, acks and errors for one ``AsyncServer`` (``known()`` lists the handled events);
    ``identities`` maps each live connection to its :class:`Identity`."""

    def __init__(
        self,
        sio: socketio.AsyncServer,
        token: str,
        known: Callable[[], list[str]],
        limits: Limits,
    ):
        self.sio, self.token, self.known, self.limits = sio, token, known, limits
        self._buckets: dict[str, Buckets] = {}  # connection sid -> its token buckets
        self.identities: dict[str, Identity] = {}
        self.gone_hooks: list[GoneHook] = []
        sio.on("connect", self.on_connect)
        sio.on("disconnect", self.on_disconnect)
        sio.on("*", self.on_unknown_event)

    def limited(self, sid: str, name: str, kind: str) -> ProtocolError | None:
        """The ``rate_limited`` refusal if ``sid`` has no token of ``kind`` left, else ``None``."""
        buckets = self._buckets.get(sid)
        if buckets is None:
            buckets = self._buckets[sid] = self.limits.buckets()
        wait = buckets.take(kind)
        if wait is None:
            return None
        rate = self.limits.rates[kind]
        return ProtocolError(
            ErrorCode.RATE_LIMITED,
            f"{name}: too many {kind} from this connection (at most {rate.burst} at once, then "
            f"{rate.per_second:g} a second); retry in {wait:g} s",
            retry_after=wait,
        )

    async def on_connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        """Refuse a connection without the server's token (``auth={"token": ...}``)."""
        token = auth.get("token") if isinstance(auth, dict) else None
        if not isinstance(token, str) or not token:
            raise socketio.exceptions.ConnectionRefusedError(
                "unauthorized: no token; connect with auth={'token': '<token>'} "
                "(the token is printed by 'chatops-widget serve')"
            )
        # surrogatepass: a lone surrogate (valid JSON, not UTF-8) is a wrong token, not a crash
        given = token.encode("utf-8", "surrogatepass")
        if not secrets.compare_digest(given, self.token.encode("utf-8", "surrogatepass")):
            raise socketio.exceptions.ConnectionRefusedError(
                "unauthorized: wrong token; use the token printed by 'chatops-widget serve'"
            )
        name = auth.get("name") if isinstance(auth, dict) else None
        try:
            who = Identity(GUEST_NAME if name is None else check_display_name(name),
                           check_client_id(auth.get("clientId")))  # fmt: skip
        except ValueError as exc:
            raise socketio.exceptions.ConnectionRefusedError(f"bad_request: {exc}") from None
        self.identities[sid] = who

    async def on_disconnect(self, sid: str, *reason: Any) -> None:
        """Forget the connection (its identity, its rate buckets) and tell the ``gone_hooks``
        (a failing one is logged)."""
        self._buckets.pop(sid, None)
        who = self.identities.pop(sid, None)
        if who is None:
            return
        for hook in list(self.gone_hooks):
            try:
                await hook(sid, who)
            except Exception:
                log.exception("disconnect hook %r failed", hook)

    def identity(self, sid: str | None) -> Identity:
        """The identity of connection ``sid`` (a guest's if unknown)."""
        return self.identities.get(sid or "") or Identity(GUEST_NAME)

    def name_of(self, sid: str | None) -> str:
        """The display name of connection ``sid`` (``auth={"name"}``; ``guest`` without)."""
        return self.identity(sid).name

    def client_of(self, sid: str | None) -> str | None:
        """The kernel client id of connection ``sid`` (``auth={"clientId"}``), if it sent one."""
        return self.identity(sid).client_id

    def connections(self, client_id: str) -> list[str]:
        """The live connections of the kernel client ``client_id`` (on this server)."""
        return [sid for sid, who in self.identities.items() if who.client_id == client_id]

    def on_gone(self, fn: GoneHook) -> None:
        """Tell ``async fn(sid, identity)`` when a connection has gone."""
        self.gone_hooks.append(fn)

    async def on_unknown_event(self, event: str, sid: str, *args: Any) -> dict[str, Any]:
        """Answer an event nobody handles, naming the ones that exist."""
        return await self.bad_event(sid, f"unknown event {event!r:.80}")

    async def bad_event(self, sid: str, problem: str) -> dict[str, Any]:
        """The ``bad_request`` answer to an event no handler can take (``problem`` says why)."""
        exc = self.limited(sid, "event", "events") or ProtocolError(
            ErrorCode.BAD_REQUEST, f"{problem}; known events: {', '.join(self.known())}"
        )
        await self.send_error(sid, exc)
        return {"ok": False, "error": exc.info().wire()}

    def wrap(
        self, name: str, fn: Handler, limit: str = "events"
    ) -> Callable[..., Awaitable[dict[str, Any]]]:
        """``fn(sid, data) -> dict`` as a socket.io handler that always acks (see above);
        ``limit`` is the kind of rate limit it counts against."""

        async def handler(sid: str, data: Any = None, *extra: Any) -> dict[str, Any]:
            try:
                refused = self.limited(sid, name, limit)
                if refused is not None:
                    raise refused
                if extra:
                    raise ProtocolError(
                        ErrorCode.BAD_REQUEST,
                        f"{name}: expected one payload argument, got {1 + len(extra)}",
                    )
                return {"ok": True, **await fn(sid, data)}
            except ProtocolError as exc:
                await self.send_error(sid, exc)
                return {"ok": False, "error": exc.info().wire()}
            except Exception:
                log.exception("%s failed", name)
                fault = ProtocolError(
                    ErrorCode.INTERNAL, f"{name}: internal server error (see the server log)"
                )
                await self.send_error(sid, fault)
                return {"ok": False, "error": fault.info().wire()}

        return handler

    async def send_error(self, sid: str | None, exc: ProtocolError) -> None:
        """The ``error`` event to the connection whose request failed."""
        if sid is not None:
            await self.sio.emit(ServerEvent.ERROR.value, exc.event().wire(), to=sid)
