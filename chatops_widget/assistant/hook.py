"""The server hook: answers every non-command chat message of a session.

``ChatOpsServer`` loads :func:`assistant` automatically (``assistant="auto"``). For each user
message it replies as the ``assistant`` role -- which command it understood, a question back,
or a pointer to ``/help`` -- and runs understood commands through the server's command router
(``server.run_command``), exactly like typed ones. With an LLM configured (see
:mod:`chatops_widget.assistant.llm`) the LLM answers first and the offline parser is the
fallback. A command that is refused, or runs and fails, is reported in the chat with the
reason ("`/run_backtest strategy_1 fast=50 slow=10` failed: ...").

``CHATOPS_ASSISTANT=off`` in the server's environment silences it (chat stays chat only).

A question about something missing is remembered per session for one message: an answer is
read together with it, so "backtest on ALPHA" -> "Which strategy?" -> "strategy_2" runs
``/run_backtest strategy_2 symbol=ALPHA``. Small talk, a new request or an unknown name (answered
once with suggestions) closes it.

Example:
    >>> from chatops_widget.server import ChatOpsServer                  # doctest: +SKIP
    >>> server = ChatOpsServer(assistant=make_assistant())              # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
from collections.abc import Awaitable, Callable
from typing import Any

from ..protocol import ProtocolError
from . import _lexicon as lx
from ._interpret import Intent, interpret
from ._parser import analyze

__all__ = ["assistant", "make_assistant", "respond_offline", "known_names", "run_understood"]

log = logging.getLogger("chatops_widget.assistant")

AssistantHook = Callable[[Any, str, str], Awaitable[None]]

_PENDING = "assistant.pending"  # server.state key: {session_id: (asked text, what is missing)}
_LLM = "assistant.llm"  # server.state key: LLMConfig set by configure_llm()
_HANGUL_RE = re.compile(r"[\uac00-\ud7a3]")
_MAX_ANSWER_CHARS = 300  # longer messages are requests of their own, never answers
_OFF = {"off", "0", "false", "no", "none"}  # CHATOPS_ASSISTANT values that silence the hook


def known_names(server: Any) -> tuple[list[str] | None, list[str] | None]:
    """(strategy ids + template names, symbols) the server knows, or ``(None, None)``."""
    svc = getattr(server, "state", {}).get("backtest")
    if svc is None:
        return None, None
    try:
        strategies = [*svc.strategies.ids(), *lx.TEMPLATES]
        symbols = list(svc.catalog.symbols())
    except Exception:  # a half-started service must not break the chat
        log.exception("could not read strategies/symbols")
        return None, None
    return strategies, symbols


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
    e = a.entities
    return not a.hits and bool(e.refs or e.symbols or e.run_ids or e.params or e.dates)


def _understand(server: Any, session_id: str, text: str) -> tuple[Intent, str | None]:
    """Interpret ``text``, reading it together with an open question of this session.

    Only a question about something *missing* stays open, and only for the next message: a
    complete request, an unknown name (answered once, with suggestions) or small talk closes
    it. The merged reading is kept only when it gets further (a command, an unknown name, or
    a different question), so the same question is never stored twice.
    """
    strategies, symbols = known_names(server)
    intent = interpret(text, strategies, symbols)
    pending: dict[str, tuple[str, str]] = server.state.setdefault(_PENDING, {})
    before = pending.pop(session_id, None)
    asked = text
    if (
        before is not None
        and intent.kind != "command"
        and intent.unknown is None
        and _can_answer(before[1], text, strategies, symbols)
    ):
        merged = f"{before[0]} {text}"
        combined = interpret(merged, strategies, symbols)
        if (
            combined.kind == "command"
            or combined.unknown is not None
            or (combined.missing is not None and combined.missing != before[1])
        ):
            intent, asked = combined, merged
    if intent.kind == "clarify" and intent.missing is not None and intent.unknown is None:
        pending[session_id] = (asked, intent.missing)
    return intent, intent.command


_FAILED = {
    "en": "`{cmd}` failed: {reason}",
    "ko": "`{cmd}` 실행에 실패했어요: {reason}",
}
_REFUSED = {
    "en": "`{cmd}` could not run: {reason}",
    "ko": "`{cmd}` 을(를) 실행할 수 없어요: {reason}",
}


def lang_of(text: str) -> str:
    """``"ko"`` if ``text`` has Hangul, else ``"en"`` (the language the assistant answers in).

    Example:
        >>> lang_of("strategy_1 백테스트"), lang_of("backtest strategy_1")
        ('ko', 'en')
    """
    return "ko" if _HANGUL_RE.search(text) else "en"


async def run_understood(
    server: Any, session_id: str, command: str, *, lang: str = "en", source: str = "parser"
) -> bool:
    """Run ``command`` through the router; True if it started.

    A refusal (bad syntax, unknown command) and a run that then fails (the ``commandResult``
    has ``ok=false``, e.g. the engine rejects ``fast >= slow``) are both reported in the chat
    as an ``assistant`` message with the reason, in ``lang``: the sender of a chat message has
    no ``error`` event, so the history is where the reason must be.
    """

    async def report(template: dict[str, str], code: str, reason: str) -> None:
        meta = {"source": source, "kind": "error", "command": command, "error": code}
        reply = template.get(lang, template["en"]).format(cmd=command, reason=reason)
        await server.publish(session_id, "assistant", reply, {"assistant": meta})

    async def on_result(result: Any) -> None:
        if not result.ok and result.error is not None:
            await report(_FAILED, str(result.error.code), result.error.message)

    try:
        await server.run_command(session_id, command, sid=None, on_result=on_result)
    except ProtocolError as exc:
        await report(_REFUSED, exc.code.value, exc.message)
        return False
    return True


async def respond_offline(
    server: Any, session_id: str, text: str, *, source: str = "parser"
) -> Intent:
    """Answer ``text`` with the built-in parser: reply, then run the command if there is one."""
    # off the event loop: a 16k-character message takes ~0.3 s to parse
    intent, command = await asyncio.to_thread(_understand, server, session_id, text)
    meta: dict[str, Any] = {"source": source, "kind": intent.kind}
    if command:
        meta["command"] = command
    if intent.suggestions:
        meta["suggestions"] = intent.suggestions
    if intent.unknown:
        meta["unknown"] = intent.unknown
    await server.publish(session_id, "assistant", intent.reply, {"assistant": meta})
    if command:
        await run_understood(server, session_id, command, lang=intent.lang, source=source)
    return intent


def make_assistant(llm: Any = None, *, use_env: bool = True) -> AssistantHook:
    """Build an assistant hook; ``llm`` is an :class:`~.llm.LLMConfig` (None: offline unless
    ``server.state["assistant.llm"]`` or the ``CHATOPS_LLM_*`` env variables configure one).

    Example:
        >>> hook = make_assistant()
        >>> callable(hook)
        True
    """

    async def hook(server: Any, session_id: str, text: str) -> None:
        if os.environ.get("CHATOPS_ASSISTANT", "").strip().lower() in _OFF:
            return
        config = llm or server.state.get(_LLM)
        if config is None and use_env:
            from .llm import LLMConfig

            config = LLMConfig.from_env()
        if config is not None:
            from .llm import LLMUnavailable, respond_llm

            try:
                await respond_llm(server, session_id, text, config)
                return
            except LLMUnavailable as exc:
                log.warning("LLM unavailable, using the built-in parser: %s", exc)
                await server.publish(
                    session_id,
                    "system",
                    f"The language model is unavailable ({exc}); the built-in parser answered.",
                    {"assistant": {"source": "llm", "fallback": True}},
                )
        await respond_offline(server, session_id, text)

    return hook


#: The default hook ``ChatOpsServer`` loads (offline unless an LLM is configured).
assistant: AssistantHook = make_assistant()
