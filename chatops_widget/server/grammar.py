"""The slash-command grammar: ``/name arg1 arg2 key=value key2="quoted value"``.

Split with :mod:`shlex`; tokens with ``=`` are options, the rest positional args. The grammar
knows nothing of what a command means: the :class:`~chatops_widget.server.router.CommandRouter`
finds the handler, the handler reads its arguments.

Example:
    >>> cmd = parse_command('/run_backtest strategy_1 fast=10 note="a b"')
    >>> cmd.name, cmd.args, cmd.options
    ('run_backtest', ['strategy_1'], {'fast': '10', 'note': 'a b'})
    >>> suggest("hlep", ["help", "status"], prefix="/")
    ' Did you mean /help?'
"""

from __future__ import annotations

import difflib
import re
import shlex
from dataclasses import dataclass

from ..protocol import ErrorCode, ProtocolError

__all__ = ["COMMAND_NAME_RE", "ParsedCommand", "parse_command", "suggest"]

#: A command name: lower-case letters, digits and ``_``, not starting with a digit.
COMMAND_NAME_RE = re.compile(r"[a-z_][a-z0-9_]*")
_KEY_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")


@dataclass
class ParsedCommand:
    """A parsed slash command: ``name`` (no slash, lower-case), ``args``, ``options``, ``text``."""

    name: str
    args: list[str]
    options: dict[str, str]
    text: str


def _bad(message: str) -> ProtocolError:
    return ProtocolError(ErrorCode.BAD_ARGUMENT, message)


def parse_command(text: str) -> ParsedCommand:
    """Parse ``/name args... key=value...``; raise ``ProtocolError(BAD_ARGUMENT)`` when malformed.

    >>> parse_command("/help run_backtest").args
    ['run_backtest']
    >>> parse_command("/sweep x fast=1 fast=2")
    Traceback (most recent call last):
    ...
    chatops_widget.protocol.ProtocolError: option 'fast' is given twice (fast=1 and fast=2); give it once
    """  # noqa: E501
    if not isinstance(text, str) or not text.strip().startswith("/"):
        raise _bad(f"a command starts with '/', e.g. '/help'; got {str(text)[:60]!r}")
    try:
        tokens = shlex.split(text.strip())
    except ValueError as exc:
        raise _bad(
            f'cannot parse {text[:80]!r}: {exc} (close every quote, e.g. note="two words")'
        ) from None
    head = tokens[0][1:].lower()
    if not COMMAND_NAME_RE.fullmatch(head):
        raise _bad(
            f"'{tokens[0]}' is not a command name; names are letters, digits and '_' "
            "after the '/', e.g. '/run_backtest'. Type /help for the list."
        )
    args: list[str] = []
    options: dict[str, str] = {}
    for tok in tokens[1:]:
        if "=" not in tok:
            args.append(tok)
            continue
        key, value = tok.split("=", 1)
        if not key:
            raise _bad(f"option {tok!r} has no name before '='; write key=value, e.g. fast=10")
        if not _KEY_RE.fullmatch(key):
            raise _bad(
                f"option name {key!r} is not valid; use letters, digits and '_', e.g. fast=10"
            )
        if key in options:
            raise _bad(
                f"option '{key}' is given twice ({key}={options[key]} and {tok}); give it once"
            )
        options[key] = value
    return ParsedCommand(name=head, args=args, options=options, text=text)


def suggest(word: str, choices: list[str], *, prefix: str = "") -> str:
    """`` Did you mean /x?`` for the closest choices, or ``""``.

    >>> suggest("statsu", ["help", "status"], prefix="/")
    ' Did you mean /status?'
    >>> suggest("zzz", ["help"])
    ''
    """
    close = difflib.get_close_matches(word, choices, n=3, cutoff=0.6)
    if not close:
        return ""
    return " Did you mean " + " or ".join(f"{prefix}{c}" for c in close) + "?"
