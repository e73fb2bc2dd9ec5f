"""The ChatOps server: a python-socketio ``AsyncServer`` (ASGI) with token auth and SQLite.

A generic chat host: sessions, messages (stored before they are broadcast), slash commands
through its :class:`~chatops_widget.server.router.CommandRouter`, and the plugins handed to it
(:mod:`.host` says what a plugin sees). Every client event is validated with
:mod:`chatops_widget.protocol` and acknowledged with ``{"ok": true, ...}`` or ``{"ok": false,
"error": {"code", "message"}}``; a failure also sends an ``error`` event to the sender. Nothing
a client sends can take the connection or server down.

Example (serve it with any ASGI server; ``chatops-widget serve`` does this with uvicorn):
    >>> server = ChatOpsServer(data_dir=tempfile.mkdtemp(), token="secret", plugins=[])
    >>> server.sio.async_mode, server.token, server.router.names()
    ('asgi', 'secret', ['help'])
    >>> # uvicorn.run(server.asgi_app, host="127.0.0.1", port=8500)
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import secrets
import tempfile  # noqa: F401  (used by the docstring example)
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import socketio

from ..protocol import (
    MAX_MESSAGE_BYTES,
    SOCKETIO_PATH,
    ChatMessage,
    ClientEvent,
    CommandResult,
    ErrorCode,
    ProtocolError,
    ServerEvent,
)
from ._gate import BUILTIN_EVENTS, Gate
from ._http import default_data_dir, describe
from ._sessions import SessionEvents
from ._socket import FrameFilter, SocketServer
from .faults import StorageError
from .grammar import parse_command
from .host import (
    ChatListener,
    CommandContext,
    CommandReply,
    EventHandler,
    Hook,
    JoinExtra,
    Plugin,
)
from .limits import Limits
from .router import CommandRouter
from .store import Store

__all__ = ["ChatOpsServer", "default_data_dir"]

log = logging.getLogger("chatops_widget.server")


class ChatOpsServer:
    """Sessions, messages and commands over socket.io, persisted in ``<data_dir>/chatops.sqlite3``.

    ``plugins`` are registered in order (``None``: :func:`~.plugins.standard_plugins`, i.e.
    backtests and the assistant; ``[]``: a bare chat host with ``/help``).
    ``client_manager`` is python-socketio's (e.g. ``socketio.AsyncRedisManager(url)`` to run
    several servers as one); ``limits`` (default: :meth:`.Limits.from_env`) what a client may
    cost. Attributes: ``sio`` (the AsyncServer), ``store``, ``router``,
    ``plugins``, ``data_dir``, ``token`` and ``asgi_app`` (serve it with uvicorn).
    """

    def __init__(
        self,
        data_dir: str | Path | None = None,
        token: str | None = None,
        *,
        plugins: Sequence[Plugin] | None = None,
        client_manager: socketio.AsyncManager | None = None,
        cors_allowed_origins: list[str] | str | None = None,
        limits: Limits | None = None,
    ) -> None:
        self.data_dir = Path(data_dir) if data_dir is not None else default_data_dir()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.token = token or secrets.token_urlsafe(24)
        #: what one client may cost (auth deadline, connections per address, rates)
        self.limits = limits or Limits.from_env()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.store = Store(self.data_dir / "chatops.sqlite3")
        self._router = CommandRouter()
        self._startup_hooks: list[Hook] = []
        self._shutdown_hooks: list[Hook] = []
        self._join_extras: list[JoinExtra] = []
        self._chat_listeners: list[ChatListener] = []
        self._events: dict[str, EventHandler] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        # The token is the guard, so the Origin check is off ([]): browsers on other origins
        # (e.g. the seed's Next.js app) may connect, but only with the token.
        self.sio = SocketServer(
            auth_timeout=self.limits.auth_timeout,
            max_connections=self.limits.max_connections,
            cors_allowed_origins=[] if cors_allowed_origins is None else cors_allowed_origins,
            async_handlers=False,  # per-connection order: joinSession before sendMessage
            max_http_buffer_size=MAX_MESSAGE_BYTES,
            client_manager=client_manager,
            logger=False,
            engineio_logger=False,
        )
        self.asgi_app = FrameFilter(
            socketio.ASGIApp(
                self.sio,
                other_asgi_app=describe,
                socketio_path=SOCKETIO_PATH.strip("/"),
                on_startup=self._startup,
                on_shutdown=self._shutdown,
            ),
            self.sio.noise,
            max_body=MAX_MESSAGE_BYTES,
        )
        #: what every client event passes through: auth at connect, validation, acks, errors
        self.gate = Gate(
            self.sio, self.token, lambda: [*BUILTIN_EVENTS, *self._events], self.limits
        )
        self.sio.bad_event = self.gate.bad_event
        # who is who (the Host's name_of, client_of, connections, on_disconnect: see _gate.py)
        self.name_of, self.client_of = self.gate.name_of, self.gate.client_of
        self.connections, self.on_disconnect = self.gate.connections, self.gate.on_gone
        events = SessionEvents(self)
        for event, fn, limit in (
            (ClientEvent.JOIN_SESSION, events.join, "events"),
            (ClientEvent.LEAVE_SESSION, events.leave, "events"),
            (ClientEvent.SEND_MESSAGE, events.send, "messages"),
            (ClientEvent.EXECUTE_COMMAND, events.execute, "commands"),
        ):
            self.sio.on(event.value, self.gate.wrap(event.value, fn, limit))
        self.on_event(ClientEvent.GET_SESSIONS.value, events.sessions)  # the panel's menu
        if plugins is None:
            from .plugins import standard_plugins

            plugins = standard_plugins()
        self.plugins: tuple[Plugin, ...] = tuple(plugins)
        for plugin in self.plugins:
            plugin.register(self)

    def plugin(self, name: str) -> Any:
        """The registered plugin called ``name`` (``KeyError`` listing the names if none).

        >>> ChatOpsServer(tempfile.mkdtemp(), plugins=[]).plugin("backtest")
        Traceback (most recent call last):
        ...
        KeyError: "no plugin 'backtest'; this server has: none"
        """
        for p in self.plugins:
            if p.name == name:
                return p
        have = ", ".join(p.name for p in self.plugins) or "none"
        raise KeyError(f"no plugin {name!r}; this server has: {have}")

    # ------------------------------------------------------------------ the Host (see .host)

    @property
    def router(self) -> CommandRouter:
        """This server's commands (``/help`` plus every plugin's)."""
        return self._router

    def on_startup(self, fn: Hook) -> None:
        """Run ``async fn()`` when the server starts, in registration order."""
        self._startup_hooks.append(fn)

    def on_shutdown(self, fn: Hook) -> None:
        """Run ``async fn()`` when the server stops, in reverse registration order."""
        self._shutdown_hooks.append(fn)

    def on_join(self, fn: JoinExtra) -> None:
        """Merge ``fn(session_id)`` (a dict, or an awaitable of one) into every join ack."""
        self._join_extras.append(fn)

    def on_event(
        self, name: str, fn: EventHandler, *, limit: str = "events", ordered: bool = True
    ) -> None:
        """Handle client event ``name`` with ``async fn(sid, data) -> dict`` (the ack);
        ``limit``: the rate limit it counts against (``commands``, ``uploads``, ``events``).

        A connection's events are handled one after another, in the order sent (a join before
        the messages that follow it). ``ordered=False`` is for a read that may wait (e.g.
        ``getResult`` with ``wait``): it runs beside the connection's later events, so the
        wait holds none of them back.
        """
        if name in self._events or name in BUILTIN_EVENTS:
            raise ValueError(f"client event {name!r} is registered twice")
        self._events[name] = fn
        if not ordered:
            self.sio.unordered.add(name)
        self.sio.on(name, self.gate.wrap(name, fn, limit))

    def on_chat(self, fn: ChatListener) -> None:
        """Tell ``async fn(message)`` of every new user chat message (not commands)."""
        self._chat_listeners.append(fn)

    async def emit_to(self, sid: str, event: str, payload: Any) -> None:
        """Emit ``event`` to the one connection ``sid``."""
        await self.sio.emit(event, payload, to=sid)

    async def emit_all(self, event: str, payload: Any) -> None:
        """Emit ``event`` to every connection (of every session)."""
        await self.sio.emit(event, payload)

    def joined(self, sid: str, session_id: str) -> bool:
        """Whether connection ``sid`` is in the session's room."""
        return session_id in self.sio.rooms(sid)

    def members(self, session_id: str) -> int:
        """How many connections are in the session's room on this server.

        With a Redis manager (several servers as one) each server counts only its own
        connections: members on other servers are not seen.
        """
        return sum(1 for _ in self.sio.manager.get_participants("/", session_id))

    def require_joined(self, sid: str, session_id: str, event: str) -> None:
        """Raise ``ProtocolError(NOT_JOINED)`` unless ``sid`` joined ``session_id``."""
        if not self.joined(sid, session_id):
            raise ProtocolError(
                ErrorCode.NOT_JOINED,
                f"{event}: not in session {session_id!r}; send joinSession with it first",
                session_id,
            )

    async def publish(
        self, session_id: str, role: str, content: str, metadata: dict[str, Any] | None = None
    ) -> ChatMessage:
        """Persist a message with the next ``seq`` and emit it as ``message`` to the session."""
        msg, _ = self.store.append(session_id, role, content, metadata)
        await self.sio.emit(ServerEvent.MESSAGE.value, msg.wire(), room=session_id)
        return msg

    async def update_message(
        self, session_id: str, message_id: str, content: str, metadata: dict[str, Any]
    ) -> ChatMessage:
        """Replace a published message (same id and ``seq``) and emit it again as ``message``.

        Used for text that streams in (an LLM answer): clients upsert by id. With
        ``metadata["streaming"]`` true the update is only emitted; the final one is persisted.
        """
        if metadata.get("streaming"):
            msg = self.store.message(session_id, message_id).model_copy(
                update={"content": content, "metadata": metadata}
            )
        else:
            msg = self.store.update(session_id, message_id, content, metadata)
        await self.sio.emit(ServerEvent.MESSAGE.value, msg.wire(), room=session_id)
        return msg

    async def emit_to_session(self, session_id: str, event: str, payload: Any) -> None:
        """Emit ``event`` to everyone in the session (``bytes`` travel as binary attachments)."""
        await self.sio.emit(event, payload, room=session_id)

    async def run_command(
        self,
        session_id: str,
        text: str,
        *,
        sid: str | None = None,
        echo: bool = True,
        client_message_id: str | None = None,
        on_result: Callable[[CommandResult], Awaitable[None]] | None = None,
    ) -> ChatMessage | None:
        """Parse and start a command; its ``commandResult`` follows when the handler finishes.

        With ``echo`` the text is first published as a ``user`` message (metadata
        ``{"command": true}``), which is returned. Raises :class:`ProtocolError` for bad syntax
        or an unknown command (nothing is published then). ``on_result`` is awaited with the
        :class:`CommandResult` after it is emitted (ok or not), e.g. for the assistant to
        report a failure in the chat.
        """
        parsed = parse_command(text)
        spec = self._router.resolve(parsed.name)
        assert spec.handler is not None
        ctx = CommandContext(server=self, session_id=session_id, sid=sid, command=parsed)
        handler = spec.handler
        return await self.start_command(
            session_id,
            text,
            lambda: handler(ctx),
            name=spec.name,
            sid=sid,
            echo=echo,
            client_message_id=client_message_id,
            on_result=on_result,
        )

    async def start_command(
        self,
        session_id: str,
        text: str,
        run: Callable[[], Awaitable[CommandReply]],
        *,
        name: str,
        sid: str | None = None,
        echo: bool = True,
        client_message_id: str | None = None,
        metadata: dict[str, Any] | None = None,
        on_result: Callable[[CommandResult], Awaitable[None]] | None = None,
    ) -> ChatMessage | None:
        """Echo ``text`` as a member's command (unless a retry of ``client_message_id``), run
        ``run()`` in the background, and emit its ``commandResult`` -- what :meth:`run_command`
        does after parsing, for a plugin that has a typed request instead of text."""
        msg = None
        if echo:
            meta = {"command": True, **(metadata or {})}
            if sid is not None:
                meta.setdefault("sender", self.name_of(sid))
            msg, created = self.store.append(session_id, "user", text, meta, client_message_id)
            if not created:  # a retried request: it already ran
                return msg
            await self.sio.emit(ServerEvent.MESSAGE.value, msg.wire(), room=session_id)
        self._spawn(self._run_handler(name, session_id, text, run, sid, on_result))
        return msg

    # ------------------------------------------------------------------ lifecycle

    async def _startup(self) -> None:
        self.loop = asyncio.get_running_loop()  # for callers on other threads (embedded use)
        for hook in self._startup_hooks:
            await hook()

    async def _shutdown(self) -> None:
        await self.sio.settle()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        for hook in reversed(self._shutdown_hooks):
            try:
                await hook()
            except Exception:
                log.exception("shutdown hook %r failed", hook)

    async def join_extras(self, session_id: str) -> dict[str, Any]:
        """What the :meth:`on_join` callbacks add to a join ack of ``session_id``."""
        extra: dict[str, Any] = {}
        for fn in self._join_extras:
            value = fn(session_id)
            if inspect.isawaitable(value):
                value = await value
            extra.update(value or {})
        return extra

    def tell_listeners(self, msg: ChatMessage) -> None:
        """Tell every :meth:`on_chat` listener of ``msg``, each in a background task."""
        for listener in self._chat_listeners:
            self._spawn(self._tell(listener, msg))

    def _spawn(self, coro: Awaitable[Any]) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # ------------------------------------------------------------------ background work

    async def _run_handler(
        self,
        name: str,
        session_id: str,
        text: str,
        run: Callable[[], Awaitable[CommandReply]],
        sid: str | None,
        on_result: Callable[[CommandResult], Awaitable[None]] | None,
    ) -> None:
        result, reply, error = await self._router.execute(name, session_id, text, run)
        if error is not None:
            await self.gate.send_error(sid, error)
        wire = result.wire()
        await self.emit_to_session(session_id, ServerEvent.COMMAND_RESULT.value, wire)
        if result.ok and reply is not None and reply.text:
            try:
                await self.publish(session_id, "assistant", reply.text, {"commandResult": wire})
            except StorageError:  # (logged once by it) the commandResult went out anyway
                pass
        if on_result is not None:
            try:
                await on_result(result)
            except Exception:
                log.exception("on_result callback of %r failed", text)

    async def _tell(self, listener: ChatListener, msg: ChatMessage) -> None:
        try:
            await listener(msg)
        except asyncio.CancelledError:
            raise
        except StorageError:  # its reply could not be stored (logged once by StorageError)
            pass
        except Exception:
            log.exception("chat listener %r failed on %r", listener, msg.content[:80])
