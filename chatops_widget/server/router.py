"""The slash-command grammar and the router every command plugs into.

Grammar: ``/name arg1 arg2 key=value key2="quoted value"`` -- split with :mod:`shlex`; tokens
with ``=`` are options, the rest positional args. Modules register commands on the module-level
:data:`router`; the server imports them once at start-up (see ``_setup._PLUGIN_MODULES``).

Example:
    >>> parse_command('/run_backtest strategy_1 fast=10 note="a b"')
    ParsedCommand(name='run_backtest', args=['strategy_1'], options={'fast': '10', 'note': 'a b'}, text='/run_backtest strategy_1 fast=10 note="a b"')
    >>> r = CommandRouter()
    >>> @r.command("ping", usage="/ping", summary="Answer pong.")
    ... async def ping(ctx):
    ...     return CommandReply({"kind": "pong"}, text="pong")
    >>> [s["name"] for s in r.specs()]
    ['help', 'ping']
"""  # noqa: E501

from __future__ import annotations

import difflib
import inspect
import re
import shlex
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..protocol import ChatMessage, ErrorCode, ProtocolError

if TYPE_CHECKING:
    from .app import ChatOpsServer

__all__ = [
    "ParsedCommand",
    "parse_command",
    "CommandReply",
    "CommandContext",
    "CommandSpec",
    "CommandRouter",
    "router",
    "suggest",
]

_NAME_RE = re.compile(r"^[a-z_][a-z0-9_]*$")
_KEY_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")


@dataclass
class ParsedCommand:
    """A parsed slash command: ``name`` (no slash, lower-case), ``args``, ``options``, ``text``."""

    name: str
    args: list[str]
    options: dict[str, str]
    text: str


def parse_command(text: str) -> ParsedCommand:
    """Parse ``/name args... key=value...``; raise ``ProtocolError(BAD_ARGUMENT)`` when malformed.

    >>> parse_command("/help run_backtest").args
    ['run_backtest']
    """
    if not isinstance(text, str) or not text.strip().startswith("/"):
        raise ProtocolError(
            ErrorCode.BAD_ARGUMENT,
            f"a command starts with '/', e.g. '/help'; got {str(text)[:60]!r}",
        )
    try:
        tokens = shlex.split(text.strip())
    except ValueError as exc:
        raise ProtocolError(
            ErrorCode.BAD_ARGUMENT,
            f'cannot parse {text[:80]!r}: {exc} (close every quote, e.g. note="two words")',
        ) from None
    head = tokens[0][1:].lower()
    if not _NAME_RE.match(head):
        raise ProtocolError(
            ErrorCode.BAD_ARGUMENT,
            f"'{tokens[0]}' is not a command name; names are letters, digits and '_' "
            "after the '/', e.g. '/run_backtest'. Type /help for the list.",
        )
    args: list[str] = []
    options: dict[str, str] = {}
    for tok in tokens[1:]:
        if "=" in tok:
            key, value = tok.split("=", 1)
            if not key:
                raise ProtocolError(
                    ErrorCode.BAD_ARGUMENT,
                    f"option {tok!r} has no name before '='; write key=value, e.g. fast=10",
                )
            if not _KEY_RE.match(key):
                raise ProtocolError(
                    ErrorCode.BAD_ARGUMENT,
                    f"option name {key!r} is not valid; use letters, digits and '_', e.g. fast=10",
                )
            if key in options:
                raise ProtocolError(
                    ErrorCode.BAD_ARGUMENT,
                    f"option '{key}' is given twice ({key}={options[key]} and {tok}); give it once",
                )
            options[key] = value
        else:
            args.append(tok)
    return ParsedCommand(name=head, args=args, options=options, text=text)


@dataclass
class CommandReply:
    """What a handler returns: a JSON-able ``summary``, optional ``run_id`` and chat ``text``."""

    summary: dict[str, Any]
    run_id: str | None = None
    text: str | None = None


@dataclass
class CommandContext:
    """What a command handler receives: the server, the session, the sender and the command."""

    server: ChatOpsServer
    session_id: str
    sid: str | None
    command: ParsedCommand

    async def say(
        self, content: str, *, role: str = "assistant", metadata: dict[str, Any] | None = None
    ) -> ChatMessage:
        """Persist and broadcast a message to this session."""
        return await self.server.publish(self.session_id, role, content, metadata)

    async def emit(self, event: str, payload: dict[str, Any]) -> None:
        """Emit any event to this session's room."""
        await self.server.emit_to_session(self.session_id, event, payload)


Handler = Callable[[CommandContext], Awaitable[CommandReply]]
Hook = Callable[["ChatOpsServer"], Awaitable[None]]
JoinExtra = Callable[["ChatOpsServer", str], Any]
EventHandler = Callable[["ChatOpsServer", str, Any], Awaitable[dict[str, Any]]]


@dataclass
class CommandSpec:
    name: str
    usage: str
    summary: str
    details: str
    handler: Handler = field(repr=False)

    def as_dict(self) -> dict[str, str]:
        return {
            "name": self.name,
            "usage": self.usage,
            "summary": self.summary,
            "details": self.details,
        }


class CommandRouter:
    """Registry of commands, lifecycle hooks, join-ack extras and extra client events.

    >>> r = CommandRouter()
    >>> @r.command("echo", usage="/echo <text>", summary="Repeat the text.")
    ... async def echo(ctx):
    ...     return CommandReply({"kind": "echo"}, text=" ".join(ctx.command.args))
    >>> r.get("echo").usage
    '/echo <text>'
    """

    def __init__(self, *, builtin_help: bool = True) -> None:
        self._commands: dict[str, CommandSpec] = {}
        self.startup_hooks: list[Hook] = []
        self.shutdown_hooks: list[Hook] = []
        self.join_extra_hooks: list[JoinExtra] = []
        self.events: dict[str, EventHandler] = {}
        if builtin_help:
            self.command("help", **_HELP_SPEC)(_help)

    def command(
        self, name: str, *, usage: str, summary: str, details: str = ""
    ) -> Callable[[Handler], Handler]:
        """Decorator registering ``async def handler(ctx: CommandContext) -> CommandReply``."""
        key = name.lstrip("/").lower()
        if not _NAME_RE.match(key):
            raise ValueError(f"bad command name {name!r}")

        def register(fn: Handler) -> Handler:
            self._commands[key] = CommandSpec(key, usage, summary, details, fn)
            return fn

        return register

    def on_startup(self, fn: Hook) -> Hook:
        """Register ``async fn(server)`` run when the server starts (e.g. to fill server.state)."""
        self.startup_hooks.append(fn)
        return fn

    def on_shutdown(self, fn: Hook) -> Hook:
        """Register ``async fn(server)`` run when the server stops."""
        self.shutdown_hooks.append(fn)
        return fn

    def join_extras(self, fn: JoinExtra) -> JoinExtra:
        """Register ``fn(server, session_id) -> dict`` (sync or async) merged into join acks."""
        self.join_extra_hooks.append(fn)
        return fn

    def event(self, name: str) -> Callable[[EventHandler], EventHandler]:
        """Register an extra client event, e.g. ``getResult``.

        The handler is ``async def handler(server, sid, data) -> dict``; the dict is sent as the
        ack with ``ok: true`` added; a raised :class:`ProtocolError` becomes a failed ack plus an
        ``error`` event, exactly as for the built-in events.
        """

        def register(fn: EventHandler) -> EventHandler:
            self.events[name] = fn
            return fn

        return register

    def get(self, name: str) -> CommandSpec | None:
        """The spec of ``name`` (with or without the slash, any case), or None."""
        return self._commands.get(name.lstrip("/").lower())

    def names(self) -> list[str]:
        """Registered command names, sorted."""
        return sorted(self._commands)

    def specs(self) -> list[dict[str, str]]:
        """``[{"name", "usage", "summary", "details"}]`` by name, for /help and autocomplete."""
        return [self._commands[n].as_dict() for n in self.names()]

    def resolve(self, name: str) -> CommandSpec:
        """The spec for ``name`` or ``ProtocolError(UNKNOWN_COMMAND)`` with a suggestion."""
        spec = self.get(name)
        if spec is None:
            raise ProtocolError(
                ErrorCode.UNKNOWN_COMMAND,
                f"unknown command '/{name}'.{suggest(name, self.names(), prefix='/')} "
                "Type /help for the list of commands.",
            )
        return spec

    async def join_extra(self, server: ChatOpsServer, session_id: str) -> dict[str, Any]:
        """What every ``join_extras`` hook adds to a ``joinSession`` ack, merged."""
        extra: dict[str, Any] = {}
        for fn in self.join_extra_hooks:
            value = fn(server, session_id)
            if inspect.isawaitable(value):
                value = await value
            extra.update(value or {})
        return extra


def suggest(word: str, choices: list[str], *, prefix: str = "") -> str:
    """`` Did you mean /x?`` for the closest choices, or ``""``.

    >>> suggest("hlep", ["help", "status"], prefix="/")
    ' Did you mean /help?'
    """
    close = difflib.get_close_matches(word, choices, n=3, cutoff=0.6)
    if not close:
        return ""
    return " Did you mean " + " or ".join(f"{prefix}{c}" for c in close) + "?"


_HELP_SPEC = dict(
    usage="/help [command]",
    summary="List every command, or show one command's usage and details.",
    details="`/help` lists all commands with their usage; `/help run_backtest` explains one.",
)


async def _help(ctx: CommandContext) -> CommandReply:
    r = ctx.server.router
    if len(ctx.command.args) > 1 or ctx.command.options:
        raise ProtocolError(ErrorCode.BAD_ARGUMENT, "usage: /help [command], e.g. /help help")
    if ctx.command.args:
        name = ctx.command.args[0].lstrip("/").lower()
        spec = r.get(name)
        if spec is None:
            raise ProtocolError(
                ErrorCode.NOT_FOUND,
                f"no command '/{name}'.{suggest(name, r.names(), prefix='/')} "
                "Type /help for the list.",
            )
        text = f"**{spec.usage}**\n\n{spec.summary}"
        if spec.details:
            text += f"\n\n{spec.details}"
        return CommandReply({"kind": "help", "command": spec.as_dict()}, text=text)
    lines = ["**Commands**", ""]
    lines += [f"- `{s['usage']}` -- {s['summary']}" for s in r.specs()]
    lines += ["", "Type `/help <command>` for details."]
    return CommandReply({"kind": "help", "commands": r.specs()}, text="\n".join(lines))


#: The module-level router; command modules register on it by importing it.
router = CommandRouter()
