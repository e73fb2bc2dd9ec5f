"""The offline answer: the built-in parser reads a chat message and replies.

It replies as the ``assistant`` role -- which command it understood, a question back, or a
pointer to ``/help`` -- and runs understood commands through the host's command router
(:func:`~._reply.run_understood`), exactly like typed ones.

A question about something missing is remembered per session for one message: an answer is
read together with it, so "backtest on ALPHA" -> "Which strategy?" -> "strategy_2" runs
``/run_backtest strategy_2 symbol=ALPHA``. Small talk, a new request or an unknown name (answered
once with suggestions) closes it.

Example:
    >>> pending = {}
    >>> intent, command = understand(("strategy_1 sma_cross".split(), ["ALPHA"]), pending,
    ...                              "session_1", "backtest on ALPHA")
    >>> intent.kind, command, pending["session_1"][1]
    ('clarify', None, 'strategy')
    >>> understand(("strategy_1 sma_cross".split(), ["ALPHA"]), pending, "session_1",
    ...            "strategy_1")[1]
    '/run_backtest strategy_1 symbol=ALPHA'
"""

from __future__ import annotations

import asyncio
from typing import Any

from ._dates import Spans
from ._interpret import Intent, interpret
from ._parser import analyze
from ._reply import Names, run_understood

__all__ = ["Pending", "read", "respond_offline", "understand"]

#: session id -> (the text that was asked, what it lacks), for one message
Pending = dict[str, tuple[str, str]]

_MAX_ANSWER_CHARS = 300  # longer messages are requests of their own, never answers
_INLINE_CHARS = 200  # shorter messages are parsed on the loop (~0.5 ms); longer ones in a thread


def _can_answer(missing: str, text: str, strategies, symbols) -> bool:
    """Whether ``text`` reads as an answer to an open question about ``missing``.

    An answer is a short, fully understood fragment: for "which strategy/symbol/run?" it names
    something and has no command keyword of its own (that would be a new request); for "what
    should I do with strategy_2?" it is the action ("backtest it"). Small talk is never one.
    """
    if len(text) > _MAX_ANSWER_CHARS:
        return False
    a = analyze(text, known_symbols=symbols, known_refs=strategies)
    if not a.clean:  # other content words: conversation, never glued onto a question
        return False
    if missing == "action":
        return bool(a.hits)
    if missing in ("entry", "exit"):  # "sells when RSI 14 is above 70": the other clause
        return a.rules is not None and bool(a.rules.clauses)
    e = a.entities
    return not a.hits and bool(e.refs or e.symbols or e.run_ids or e.params or e.dates)


def understand(
    names: Names, pending: Pending, session_id: str, text: str, spans: Spans | None = None
) -> tuple[Intent, str | None]:
    """Interpret ``text``, reading it together with an open question of this session.

    Only a question about something *missing* stays open, and only for the next message: a
    complete request, an unknown name (answered once, with suggestions) or small talk closes
    it. The merged reading is kept only when it gets further (a command, an unknown name, or
    a different question), so the same question is never stored twice. ``spans`` anchors
    relative dates to the data (:func:`~._interpret.interpret`).
    """
    strategies, symbols = names
    intent = interpret(text, strategies, symbols, spans)
    before = pending.pop(session_id, None)
    asked = text
    if (
        before is not None
        and intent.kind != "command"
        and intent.unknown is None
        and _can_answer(before[1], text, strategies, symbols)
    ):
        merged = f"{before[0]} {text}"
        combined = interpret(merged, strategies, symbols, spans)
        if (
            combined.kind == "command"
            or combined.unknown is not None
            or (combined.missing is not None and combined.missing != before[1])
        ):
            intent, asked = combined, merged
    if intent.kind == "clarify" and intent.missing is not None and intent.unknown is None:
        pending[session_id] = (asked, intent.missing)
    return intent, intent.command


async def read(
    names: Names, pending: Pending, session_id: str, text: str, spans: Spans | None = None
) -> tuple[Intent, str | None]:
    """:func:`understand`, on the loop for a chat line of up to 200 characters (~0.5 ms; a
    thread hop costs about as much) and in a thread for a longer one (16k characters take
    ~0.3 s)."""
    if len(text) <= _INLINE_CHARS:
        return understand(names, pending, session_id, text, spans)
    return await asyncio.to_thread(understand, names, pending, session_id, text, spans)


async def respond_offline(
    host: Any,
    session_id: str,
    text: str,
    *,
    names: Names = (None, None),
    pending: Pending | None = None,
    source: str = "parser",
    spans: Spans | None = None,
    understood: tuple[Intent, str | None] | None = None,
) -> Intent:
    """Answer ``text`` with the built-in parser: reply, then run the command if there is one.

    ``names`` are the (strategies, symbols) the server knows; ``pending`` keeps an open
    question per session between messages (see :func:`understand`); ``spans`` the data's
    date ranges, for relative dates; ``understood`` is the reading if the caller already has
    it (:func:`read`).
    """
    pending = {} if pending is None else pending
    if understood is None:
        understood = await read(names, pending, session_id, text, spans)
    intent, command = understood
    meta: dict[str, Any] = {"source": source, "kind": intent.kind}
    if command:
        meta["command"] = command
    if intent.suggestions:
        meta["suggestions"] = intent.suggestions
    if intent.unknown:
        meta["unknown"] = intent.unknown
    await host.publish(session_id, "assistant", intent.reply, {"assistant": meta})
    if command:
        await run_understood(host, session_id, command, lang=intent.lang, source=source)
    return intent
