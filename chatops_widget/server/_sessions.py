"""The host's built-in client events: join, leave, list sessions, send a message, run a command.

Each handler validates its payload with :mod:`chatops_widget.protocol` and returns the ack's
body; :class:`~._gate.Gate` wraps them (auth, rate limits, ``{"ok": ...}`` acks, errors).
"""

from __future__ import annotations

from typing import Any, Protocol

from ..protocol import (
    ExecuteCommand,
    GetSessions,
    JoinSession,
    LeaveSession,
    ProtocolError,
    SendMessage,
    ServerEvent,
    parse,
)
from ._socket import SocketServer
from .host import Host


class _Core(Host, Protocol):
    """What these handlers use of :class:`~.app.ChatOpsServer` beyond a plugin's :class:`Host`."""

    sio: SocketServer

    async def join_extras(self, session_id: str) -> dict[str, Any]:
        """What the ``on_join`` callbacks add to a join ack."""

    def tell_listeners(self, msg: Any) -> None:
        """Tell the ``on_chat`` listeners of a new message."""


class SessionEvents:
    """``joinSession``, ``leaveSession``, ``getSessions``, ``sendMessage``, ``executeCommand``."""

    def __init__(self, server: _Core) -> None:
        self.server = server

    async def join(self, sid: str, data: Any) -> dict[str, Any]:
        """Enter the session's room; the ack carries the backlog after ``lastSeq``."""
        server = self.server
        req = parse(JoinSession, data)
        session = server.store.ensure_session(req.sessionId, req.name)
        # Enter the room before reading the backlog: a message committed after the read is
        # then delivered live, one committed before is in the backlog (maybe both: the client
        # drops duplicates by seq).
        await server.sio.enter_room(sid, req.sessionId)
        backlog = server.store.messages_after(req.sessionId, req.lastSeq)
        extra = await server.join_extras(req.sessionId)
        return {
            "sessionId": req.sessionId,
            "name": session.get("name"),
            "messages": [m.wire() for m in backlog],
            "lastSeq": server.store.last_seq(req.sessionId),
            "commands": server.router.specs(),
            **extra,
        }

    async def leave(self, sid: str, data: Any) -> dict[str, Any]:
        """Leave the session's room."""
        req = parse(LeaveSession, data)
        await self.server.sio.leave_room(sid, req.sessionId)
        return {"sessionId": req.sessionId}

    async def sessions(self, sid: str, data: Any) -> dict[str, Any]:
        """The newest sessions first (the panel's menu)."""
        req = parse(GetSessions, data)
        rows = self.server.store.sessions()
        return {"sessions": rows[::-1][: req.limit], "total": len(rows)}

    async def send(self, sid: str, data: Any) -> dict[str, Any]:
        """Store a chat message (once per ``clientMessageId``), then broadcast it."""
        server = self.server
        req = parse(SendMessage, data)
        server.require_joined(sid, req.sessionId, "sendMessage")
        msg, created = server.store.append(
            req.sessionId, "user", req.content, {"sender": server.name_of(sid)}, req.clientMessageId
        )
        if created:
            await server.sio.emit(ServerEvent.MESSAGE.value, msg.wire(), room=req.sessionId)
            server.tell_listeners(msg)
        return {"message": msg.wire(), "duplicate": not created}

    async def execute(self, sid: str, data: Any) -> dict[str, Any]:
        """Start a slash command; its ``commandResult`` follows."""
        req = parse(ExecuteCommand, data)
        self.server.require_joined(sid, req.sessionId, "executeCommand")
        try:
            msg = await self.server.run_command(
                req.sessionId, req.command, sid=sid, client_message_id=req.clientMessageId
            )
        except ProtocolError as exc:
            exc.session_id = req.sessionId
            raise
        return {"message": msg.wire() if msg else None}
