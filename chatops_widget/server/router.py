"""The command router: which handler answers ``/name``, and the built-in ``/help``.

Each server has its own :class:`CommandRouter` (``server.router``); plugins add their commands
to it in ``register(host)`` -- one at a time with :meth:`CommandRouter.add`, or a whole group
of methods marked with :func:`command` with :meth:`CommandRouter.include`.

Commands are listed (``specs()``, ``/help``) in the order they were registered -- the order of
use a plugin gives them, with the built-in ``/help`` last -- each with one example; ``names()``
is sorted (for suggestions).

Example:
    >>> class Echo:
    ...     @command("echo", usage="/echo <text>", summary="Repeat the text.", example="/echo hi")
    ...     async def echo(self, ctx):
    ...         return CommandReply({"kind": "echo"}, text=" ".join(ctx.command.args))
    >>> r = CommandRouter()
    >>> r.include(Echo())
    >>> r.names(), r.get("echo").usage, [s["name"] for s in r.specs()]
    (['echo', 'help'], '/echo <text>', ['echo', 'help'])
    >>> r.resolve("ecko")
    Traceback (most recent call last):
    ...
    chatops_widget.protocol.ProtocolError: unknown command '/ecko'. Did you mean /echo? Type /help for the list of commands.
"""  # noqa: E501

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ..protocol import CommandResult, ErrorCode, ProtocolError
from .grammar import COMMAND_NAME_RE, suggest
from .host import CommandContext, CommandReply, Handler, Note

__all__ = ["CommandRouter", "CommandSpec", "command"]

log = logging.getLogger("chatops_widget.server")

F = TypeVar("F", bound=Callable[..., Any])
_MARK = "__chatops_command__"


@dataclass(frozen=True)
class CommandSpec:
    """One command: its ``name``, the ``usage`` line, a one-line ``summary``, ``details`` and
    one ``example`` (a whole command line that works as typed)."""

    name: str
    usage: str
    summary: str
    details: str = ""
    handler: Handler | None = field(default=None, repr=False, compare=False)
    example: str = ""

    def as_dict(self) -> dict[str, str]:
        """The JSON form sent to clients (``/help``, autocomplete)."""
        return {
            "name": self.name,
            "usage": self.usage,
            "summary": self.summary,
            "details": self.details,
            "example": self.example,
        }


def command(
    name: str, *, usage: str, summary: str, details: str = "", example: str = ""
) -> Callable[[F], F]:
    """Mark a method as the handler of ``/name``; :meth:`CommandRouter.include` registers it.

    >>> @command("ping", usage="/ping", summary="Answer pong.")
    ... async def ping(self, ctx): ...
    >>> getattr(ping, "__chatops_command__").usage
    '/ping'
    """
    spec = CommandSpec(_key(name), usage, summary, details, example=example)

    def mark(fn: F) -> F:
        setattr(fn, _MARK, spec)
        return fn

    return mark


def _key(name: str) -> str:
    key = name.lstrip("/").lower()
    if not COMMAND_NAME_RE.fullmatch(key):
        raise ValueError(f"bad command name {name!r}: use lower-case letters, digits and '_'")
    return key


class CommandRouter:
    """The registry of a server's commands, with ``/help`` built in."""

    def __init__(self, *, builtin_help: bool = True) -> None:
        self._commands: dict[str, CommandSpec] = {}
        self._notes: list[Note] = []
        if builtin_help:
            self.add("help", self._help, **_HELP)

    def add(
        self,
        name: str,
        handler: Handler,
        *,
        usage: str,
        summary: str,
        details: str = "",
        example: str = "",
    ) -> None:
        """Register ``async def handler(ctx: CommandContext) -> CommandReply`` as ``/name``."""
        key = _key(name)
        if key in self._commands and key != "help":
            raise ValueError(f"/{key} is registered twice")
        self._commands[key] = CommandSpec(key, usage, summary, details, handler, example)

    def include(self, group: object) -> None:
        """Register every method of ``group`` marked with :func:`command`, in definition order."""
        seen: set[str] = set()
        for cls in reversed(type(group).__mro__):
            for attr, fn in vars(cls).items():
                spec = getattr(fn, _MARK, None)
                if isinstance(spec, CommandSpec) and attr not in seen:
                    seen.add(attr)
                    handler = getattr(group, attr)
                    self.add(spec.name, handler, usage=spec.usage, summary=spec.summary,
                             details=spec.details, example=spec.example)  # fmt: skip

    def add_note(self, note: Note) -> None:
        """Add a note under ``/help``'s list of commands: a text (e.g. how to address the
        assistant), or ``fn() -> list[str]``, lines computed at each ``/help`` (e.g. the hosted
        strategies; no lines, no note).

        >>> r = CommandRouter()
        >>> r.add_note("Chat: mention @assistant.")
        >>> r.add_note(lambda: ["**Hosted**", "- `my_mom`"])
        >>> r.add_note(lambda: [])
        >>> for note in r.notes():
        ...     print(note)
        Chat: mention @assistant.
        **Hosted**
        - `my_mom`
        """
        if not (isinstance(note, str) or callable(note)):
            raise TypeError(f"a /help note is a str or fn() -> list[str], got {note!r}")
        self._notes.append(note)

    def notes(self) -> list[str]:
        """The notes under ``/help``'s list as they read now, one text per note (a note whose
        function fails is logged and left out: it must not break ``/help``)."""
        out: list[str] = []
        for note in self._notes:
            if isinstance(note, str):
                out.append(note)
                continue
            try:
                lines = note()
            except Exception:
                log.exception("help note %r failed", note)
                continue
            if lines:
                out.append("\n".join(lines))
        return out

    def get(self, name: str) -> CommandSpec | None:
        """The spec of ``name`` (with or without the slash, any case), or None."""
        return self._commands.get(name.lstrip("/").lower())

    def names(self) -> list[str]:
        """Registered command names, sorted."""
        return sorted(self._commands)

    def specs(self) -> list[dict[str, str]]:
        """``[{"name", "usage", "summary", "details", "example"}]`` in the order of use (as
        registered, ``/help`` last), for /help and autocomplete."""
        order = [n for n in self._commands if n != "help"] + ["help"] * ("help" in self._commands)
        return [self._commands[n].as_dict() for n in order]

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

    async def execute(
        self, name: str, session_id: str, text: str, run: Callable[[], Awaitable[CommandReply]]
    ) -> tuple[CommandResult, CommandReply | None, ProtocolError | None]:
        """Await ``run()`` (the handler of ``/name``, bound to its context): the
        ``commandResult``, the reply (if it succeeded) and the error to tell the sender (a
        user's ``ProtocolError``, or an ``internal`` one for a handler that crashed -- logged
        with its traceback, never shown to clients)."""
        try:
            reply = await run()
            if not isinstance(reply, CommandReply):
                raise TypeError(f"/{name} returned {type(reply).__name__}, not CommandReply")
        except asyncio.CancelledError:
            raise
        except ProtocolError as exc:
            exc.session_id = session_id
            failed = CommandResult(
                sessionId=session_id, command=text, ok=False, runId=exc.run_id, error=exc.info()
            )
            return failed, None, exc
        except Exception:
            log.exception("command %r failed", text)
            fault = ProtocolError(
                ErrorCode.INTERNAL,
                f"/{name} failed with an internal error (see the server log)",
                session_id,
            )
            failed = CommandResult(sessionId=session_id, command=text, ok=False, error=fault.info())
            return failed, None, fault
        ok = CommandResult(
            sessionId=session_id, command=text, ok=True, runId=reply.run_id, summary=reply.summary
        )
        return ok, reply, None

    async def _help(self, ctx: CommandContext) -> CommandReply:
        if len(ctx.command.args) > 1 or ctx.command.options:
            raise ProtocolError(ErrorCode.BAD_ARGUMENT, "usage: /help [command], e.g. /help help")
        if ctx.command.args:
            name = ctx.command.args[0].lstrip("/").lower()
            spec = self.get(name)
            if spec is None:
                raise ProtocolError(
                    ErrorCode.NOT_FOUND,
                    f"no command '/{name}'.{suggest(name, self.names(), prefix='/')} "
                    "Type /help for the list.",
                )
            text = f"**{spec.usage}**\n\n{spec.summary}"
            if spec.details:
                text += f"\n\n{spec.details}"
            if spec.example:
                text += f"\n\nExample: `{spec.example}`"
            return CommandReply({"kind": "help", "command": spec.as_dict()}, text=text)
        lines = ["**Commands**, in the order you would use them", ""]
        for s in self.specs():
            example = f" Example: `{s['example']}`" if s["example"] else ""
            lines.append(f"- `{s['usage']}` -- {s['summary']}{example}")
        lines += ["", "Type `/help <command>` for details."]
        notes = self.notes()
        lines += [line for note in notes for line in ("", note)]
        summary = {"kind": "help", "commands": self.specs(), "notes": notes}
        return CommandReply(summary, text="\n".join(lines))


_HELP: dict[str, str] = {
    "usage": "/help [command]",
    "summary": "List every command, or show one command's usage and details.",
    "details": "`/help` lists all commands with their usage; `/help run_backtest` explains one.",
    "example": "/help sweep",
}
