"""What a plugin sees of the server: the :class:`Host` it registers on, the :class:`Plugin`
shape, and what command handlers receive (:class:`CommandContext`) and return
(:class:`CommandReply`).

A plugin is an object handed to the server (as python-socketio takes ``client_manager=``):
``ChatOpsServer(plugins=[BacktestPlugin(), AssistantPlugin()])``. The server calls each
plugin's ``register(host)`` once, in order, while it is built; the plugin adds its commands to
``host.router`` and its hooks with ``host.on_startup`` / ``on_shutdown`` / ``on_join`` /
``on_event`` / ``on_chat`` / ``on_disconnect``; ``host.name_of(sid)`` is who a connection is.
Nothing registers by being imported.

Example:
    >>> class Ping:
    ...     name = "ping"
    ...     def register(self, host):
    ...         host.router.add("ping", self.ping, usage="/ping", summary="Answer pong.")
    ...     async def ping(self, ctx):
    ...         return CommandReply({"kind": "pong"}, text="pong")
    >>> from chatops_widget.server import ChatOpsServer
    >>> server = ChatOpsServer(tempfile.mkdtemp(), plugins=[Ping()])
    >>> [s["name"] for s in server.router.specs()]
    ['ping', 'help']
"""

from __future__ import annotations

import tempfile  # noqa: F401  (used by the docstring example)
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from ..protocol import ChatMessage, CommandResult
from ._gate import GoneHook, Identity
from .grammar import ParsedCommand
from .store import Store

__all__ = [
    "ChatListener",
    "CommandContext",
    "CommandReply",
    "Commands",
    "EventHandler",
    "GoneHook",
    "Handler",
    "Hook",
    "Host",
    "Identity",
    "JoinExtra",
    "Note",
    "Plugin",
]


@dataclass
class CommandReply:
    """What a handler returns: a JSON-able ``summary``, optional ``run_id`` and chat ``text``."""

    summary: dict[str, Any]
    run_id: str | None = None
    text: str | None = None


@dataclass
class CommandContext:
    """What a command handler receives: the host, the session, the sender and the command."""

    server: Host
    session_id: str
    sid: str | None
    command: ParsedCommand

    @property
    def sender(self) -> str:
        """Who sent the command: the connection's display name (``guest`` without one), or
        ``assistant`` for a command the server runs itself (the assistant's, from a chat)."""
        return self.server.name_of(self.sid) if self.sid is not None else "assistant"

    async def say(
        self, content: str, *, role: str = "assistant", metadata: dict[str, Any] | None = None
    ) -> ChatMessage:
        """Persist and broadcast a message to this session."""
        return await self.server.publish(self.session_id, role, content, metadata)

    async def emit(self, event: str, payload: dict[str, Any]) -> None:
        """Emit any event to this session's room."""
        await self.server.emit_to_session(self.session_id, event, payload)


#: ``async def handler(ctx) -> CommandReply``
Handler = Callable[[CommandContext], Awaitable[CommandReply]]
#: ``async def hook() -> None``, run when the server starts or stops
Hook = Callable[[], Awaitable[None]]
#: ``fn(session_id) -> dict`` (sync or async), merged into every ``joinSession`` ack
JoinExtra = Callable[[str], "dict[str, Any] | Awaitable[dict[str, Any]]"]
#: ``async def handler(sid, data) -> dict``, the ack of an extra client event (``ok`` added)
EventHandler = Callable[[str, Any], Awaitable[dict[str, Any]]]
#: a note under ``/help``'s list: a text, or ``fn() -> list[str]`` computed at each ``/help``
Note = str | Callable[[], list[str]]
#: ``async def listener(message) -> None``, told of every stored user chat message
ChatListener = Callable[[ChatMessage], Awaitable[None]]


class Commands(Protocol):
    """The command registry a plugin adds to (``host.router``)."""

    def add(
        self, name: str, handler: Handler, *, usage: str, summary: str, details: str = ""
    ) -> None:
        """Register ``handler`` as ``/name``."""

    def include(self, group: object) -> None:
        """Register every method of ``group`` marked with ``@command``."""

    def specs(self) -> list[dict[str, str]]:
        """``[{"name", "usage", "summary", "details"}]`` of every command."""

    def add_note(self, note: Note) -> None:
        """Add a note under ``/help``'s list of commands: a text, or ``fn() -> list[str]``."""


class Host(Protocol):
    """The server as a plugin sees it (:class:`~chatops_widget.server.ChatOpsServer` is one)."""

    data_dir: Path
    store: Store

    @property
    def router(self) -> Commands:
        """Where commands register."""

    def on_startup(self, fn: Hook) -> None:
        """Run ``fn`` when the server starts (in registration order)."""

    def on_shutdown(self, fn: Hook) -> None:
        """Run ``fn`` when the server stops (in reverse registration order)."""

    def on_join(self, fn: JoinExtra) -> None:
        """Merge ``fn(session_id)`` into every ``joinSession`` ack."""

    def on_event(
        self, name: str, fn: EventHandler, *, limit: str = "events", ordered: bool = True
    ) -> None:
        """Handle the client event ``name`` (validated, acked and error-wrapped like the rest);
        ``limit`` names the rate limit it counts against (``commands``, ``uploads``, ...);
        ``ordered=False``: a read that may wait, answered without holding back the
        connection's later events."""

    def on_chat(self, fn: ChatListener) -> None:
        """Tell ``fn`` of every new user chat message (not commands), after it is stored."""

    def on_disconnect(self, fn: GoneHook) -> None:
        """Tell ``async fn(sid, identity)`` when a connection has gone."""

    def name_of(self, sid: str | None) -> str:
        """The display name a connection gave at connect (``guest`` without one)."""

    def client_of(self, sid: str | None) -> str | None:
        """The kernel client id a connection gave at connect, if any."""

    def connections(self, client_id: str) -> list[str]:
        """The live connections of kernel client ``client_id``."""

    async def emit_to(self, sid: str, event: str, payload: Any) -> None:
        """Emit ``event`` to one connection."""

    async def emit_all(self, event: str, payload: Any) -> None:
        """Emit ``event`` to every connection."""

    def require_joined(self, sid: str, session_id: str, event: str) -> None:
        """Raise ``ProtocolError(NOT_JOINED)`` unless connection ``sid`` is in the session."""

    def members(self, session_id: str) -> int:
        """How many connections are in the session's room (on this server)."""

    async def publish(
        self, session_id: str, role: str, content: str, metadata: dict[str, Any] | None = None
    ) -> ChatMessage:
        """Store a message with the next ``seq``, then emit it to the session."""

    async def update_message(
        self, session_id: str, message_id: str, content: str, metadata: dict[str, Any]
    ) -> ChatMessage:
        """Replace a published message (same id and ``seq``) and emit it again."""

    async def emit_to_session(self, session_id: str, event: str, payload: Any) -> None:
        """Emit ``event`` to everyone in the session."""

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
        """Parse and start a slash command as if a member had sent it."""

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
        """Echo ``text`` as a command, run ``run()`` in the background, emit its result."""


class Plugin(Protocol):
    """A server extension: a ``name`` and ``register(host)``, called once as the server is built."""

    name: str

    def register(self, host: Host) -> None:
        """Add commands and hooks to ``host``."""
