"""The ChatOps server: a python-socketio ``AsyncServer`` (ASGI) with token auth and SQLite.

Every client event is validated with :mod:`chatops_widget.protocol` and acknowledged with
``{"ok": true, ...}`` or ``{"ok": false, "error": {"code", "message"}}``; a failure also sends an
``error`` event to the sender. Nothing a client sends can take the connection or server down.

Example (serve it with any ASGI server; ``chatops-widget serve`` does this with uvicorn):
    >>> server = ChatOpsServer(data_dir=tempfile.mkdtemp(), token="secret")
    >>> server.sio.async_mode, server.token
    ('asgi', 'secret')
    >>> # uvicorn.run(server.asgi_app, host="127.0.0.1", port=8500)
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import tempfile  # noqa: F401  (used by the docstring example)
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Literal

import socketio

from ..protocol import (
    SOCKETIO_PATH,
    ChatMessage,
    CommandResult,
    ErrorCode,
    ExecuteCommand,
    JoinSession,
    LeaveSession,
    ProtocolError,
    SendMessage,
    ServerEvent,
    parse,
)
from . import router as commands
from ._setup import (
    AssistantHook,
    client_manager,
    default_data_dir,
    describe,
    load_default_assistant,
    load_plugins,
)
from .router import CommandContext, CommandReply, CommandRouter, CommandSpec, parse_command
from .store import Store

__all__ = ["ChatOpsServer", "default_data_dir", "load_plugins", "AssistantHook"]

log = logging.getLogger("chatops_widget.server")

_BUILTIN_EVENTS = ("joinSession", "leaveSession", "sendMessage", "executeCommand")

#: Largest socket.io message accepted (bigger ones close that connection, per engine.io).
MAX_HTTP_BUFFER_SIZE = 32 * 1024 * 1024


class ChatOpsServer:
    """Sessions, messages and commands over socket.io, persisted in ``<data_dir>/chatops.sqlite3``.

    Attributes: ``sio`` (the AsyncServer), ``store``, ``router``, ``data_dir``, ``token``,
    ``state`` (a dict for plugins) and ``asgi_app`` (serve it with uvicorn).
    """

    def __init__(
        self,
        data_dir: str | Path | None = None,
        token: str | None = None,
        *,
        router: CommandRouter | None = None,
        assistant: AssistantHook | None | Literal["auto"] = "auto",
        cors_allowed_origins: list[str] | str | None = None,
        redis_url: str | None = None,
    ) -> None:
        load_plugins()
        self.data_dir = Path(data_dir) if data_dir is not None else default_data_dir()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.token = token or secrets.token_urlsafe(24)
        self.router = router or commands.router
        self.assistant = load_default_assistant() if assistant == "auto" else assistant
        self.state: dict[str, Any] = {}
        self.loop: asyncio.AbstractEventLoop | None = None
        self.store = Store(self.data_dir / "chatops.sqlite3")
        self._tasks: set[asyncio.Task[Any]] = set()
        # The token is the guard, so the Origin check is off ([]): browsers on other origins
        # (e.g. the seed's Next.js app) may connect, but only with the token.
        self.sio = socketio.AsyncServer(
            async_mode="asgi",
            cors_allowed_origins=[] if cors_allowed_origins is None else cors_allowed_origins,
            async_handlers=False,  # per-connection order: joinSession before sendMessage
            max_http_buffer_size=MAX_HTTP_BUFFER_SIZE,
            client_manager=client_manager(redis_url),
            logger=False,
            engineio_logger=False,
        )
        self.asgi_app = socketio.ASGIApp(
            self.sio,
            other_asgi_app=describe,
            socketio_path=SOCKETIO_PATH.strip("/"),
            on_startup=self._startup,
            on_shutdown=self._shutdown,
        )
        self.sio.on("connect", self._on_connect)
        self.sio.on("*", self._on_unknown_event)
        for name, fn in {
            "joinSession": self._join,
            "leaveSession": self._leave,
            "sendMessage": self._send,
            "executeCommand": self._execute,
        }.items():
            self.sio.on(name, self._wrap(name, fn))
        for name, efn in self.router.events.items():
            self.sio.on(name, self._wrap(name, self._plugin_event(efn)))

    # ------------------------------------------------------------------ public API

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
        spec = self.router.resolve(parsed.name)
        msg = None
        if echo:
            msg, created = self.store.append(
                session_id, "user", text, {"command": True}, client_message_id
            )
            if not created:  # a retried executeCommand: it already ran
                return msg
            await self.sio.emit(ServerEvent.MESSAGE.value, msg.wire(), room=session_id)
        ctx = CommandContext(server=self, session_id=session_id, sid=sid, command=parsed)
        self._spawn(self._run_handler(spec, ctx, on_result))
        return msg

    # ------------------------------------------------------------------ lifecycle

    async def _startup(self) -> None:
        self.loop = asyncio.get_running_loop()  # for callers on other threads (embedded use)
        for hook in self.router.startup_hooks:
            await hook(self)

    async def _shutdown(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        for hook in self.router.shutdown_hooks:
            try:
                await hook(self)
            except Exception:
                log.exception("shutdown hook %r failed", hook)

    def _spawn(self, coro: Awaitable[Any]) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # ------------------------------------------------------------------ socket.io handlers

    async def _on_connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        token = auth.get("token") if isinstance(auth, dict) else None
        if not isinstance(token, str) or not token:
            raise socketio.exceptions.ConnectionRefusedError(
                "unauthorized: no token; connect with auth={'token': '<token>'} "
                "(the token is printed by 'chatops-widget serve')"
            )
        if not secrets.compare_digest(token.encode(), self.token.encode()):
            raise socketio.exceptions.ConnectionRefusedError(
                "unauthorized: wrong token; use the token printed by 'chatops-widget serve'"
            )

    async def _on_unknown_event(self, event: str, sid: str, *args: Any) -> dict[str, Any]:
        known = [*_BUILTIN_EVENTS, *self.router.events]
        exc = ProtocolError(
            ErrorCode.BAD_REQUEST, f"unknown event {event!r}; known events: {', '.join(known)}"
        )
        await self._send_error(sid, exc)
        return {"ok": False, "error": exc.info().wire()}

    def _wrap(
        self, name: str, fn: Callable[[str, Any], Awaitable[dict[str, Any]]]
    ) -> Callable[..., Awaitable[dict[str, Any]]]:
        async def handler(sid: str, data: Any = None, *extra: Any) -> dict[str, Any]:
            try:
                if extra:
                    raise ProtocolError(
                        ErrorCode.BAD_REQUEST,
                        f"{name}: expected one payload argument, got {1 + len(extra)}",
                    )
                return {"ok": True, **await fn(sid, data)}
            except ProtocolError as exc:
                await self._send_error(sid, exc)
                return {"ok": False, "error": exc.info().wire()}
            except Exception:
                log.exception("%s failed", name)
                exc = ProtocolError(
                    ErrorCode.INTERNAL, f"{name}: internal server error (see the server log)"
                )
                await self._send_error(sid, exc)
                return {"ok": False, "error": exc.info().wire()}

        return handler

    def _plugin_event(self, fn: Any) -> Callable[[str, Any], Awaitable[dict[str, Any]]]:
        async def call(sid: str, data: Any) -> dict[str, Any]:
            return await fn(self, sid, data)

        return call

    async def _send_error(self, sid: str | None, exc: ProtocolError) -> None:
        if sid is not None:
            await self.sio.emit(ServerEvent.ERROR.value, exc.event().wire(), to=sid)

    def _require_joined(self, sid: str, session_id: str, event: str) -> None:
        if session_id not in self.sio.rooms(sid):
            raise ProtocolError(
                ErrorCode.NOT_JOINED,
                f"{event}: not in session {session_id!r}; send joinSession with it first",
                session_id,
            )

    async def _join(self, sid: str, data: Any) -> dict[str, Any]:
        req = parse(JoinSession, data)
        session = self.store.ensure_session(req.sessionId, req.name)
        # Enter the room before reading the backlog: a message committed after the read is
        # then delivered live, one committed before is in the backlog (maybe both: the client
        # drops duplicates by seq).
        await self.sio.enter_room(sid, req.sessionId)
        backlog = self.store.messages_after(req.sessionId, req.lastSeq)
        return {
            "sessionId": req.sessionId,
            "name": session.get("name"),
            "messages": [m.wire() for m in backlog],
            "lastSeq": self.store.last_seq(req.sessionId),
            "commands": self.router.specs(),
            **await self.router.join_extra(self, req.sessionId),
        }

    async def _leave(self, sid: str, data: Any) -> dict[str, Any]:
        req = parse(LeaveSession, data)
        await self.sio.leave_room(sid, req.sessionId)
        return {"sessionId": req.sessionId}

    async def _send(self, sid: str, data: Any) -> dict[str, Any]:
        req = parse(SendMessage, data)
        self._require_joined(sid, req.sessionId, "sendMessage")
        msg, created = self.store.append(
            req.sessionId, "user", req.content, None, req.clientMessageId
        )
        if created:
            await self.sio.emit(ServerEvent.MESSAGE.value, msg.wire(), room=req.sessionId)
            if self.assistant is not None:
                self._spawn(self._run_assistant(req.sessionId, req.content))
        return {"message": msg.wire(), "duplicate": not created}

    async def _execute(self, sid: str, data: Any) -> dict[str, Any]:
        req = parse(ExecuteCommand, data)
        self._require_joined(sid, req.sessionId, "executeCommand")
        try:
            msg = await self.run_command(
                req.sessionId, req.command, sid=sid, client_message_id=req.clientMessageId
            )
        except ProtocolError as exc:
            exc.session_id = req.sessionId
            raise
        return {"message": msg.wire() if msg else None}

    # ------------------------------------------------------------------ background work

    async def _run_handler(
        self,
        spec: CommandSpec,
        ctx: CommandContext,
        on_result: Callable[[CommandResult], Awaitable[None]] | None = None,
    ) -> None:
        text = ctx.command.text
        reply: CommandReply | None = None
        try:
            reply = await spec.handler(ctx)
            if not isinstance(reply, CommandReply):
                raise TypeError(f"/{spec.name} returned {type(reply).__name__}, not CommandReply")
            result = CommandResult(
                sessionId=ctx.session_id,
                command=text,
                ok=True,
                runId=reply.run_id,
                summary=reply.summary,
            )
        except asyncio.CancelledError:
            raise
        except ProtocolError as exc:
            exc.session_id = ctx.session_id
            result = CommandResult(
                sessionId=ctx.session_id, command=text, ok=False, error=exc.info()
            )
            await self._send_error(ctx.sid, exc)
        except Exception:
            log.exception("command %r failed", text)
            exc = ProtocolError(
                ErrorCode.INTERNAL,
                f"/{spec.name} failed with an internal error (see the server log)",
                ctx.session_id,
            )
            result = CommandResult(
                sessionId=ctx.session_id, command=text, ok=False, error=exc.info()
            )
            await self._send_error(ctx.sid, exc)
        wire = result.wire()
        await self.emit_to_session(ctx.session_id, ServerEvent.COMMAND_RESULT.value, wire)
        if result.ok and reply is not None and reply.text:
            await self.publish(ctx.session_id, "assistant", reply.text, {"commandResult": wire})
        if on_result is not None:
            try:
                await on_result(result)
            except Exception:
                log.exception("on_result callback of %r failed", text)

    async def _run_assistant(self, session_id: str, text: str) -> None:
        if self.assistant is None:
            return
        try:
            await self.assistant(self, session_id, text)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("assistant failed on %r", text[:80])
