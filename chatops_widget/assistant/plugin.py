"""The assistant as a server plugin: it answers the user chat messages addressed to it.

In a one-person session every user message (commands are not chat) is for it; in a session
with more than one person (``host.members(session_id) > 1``) only a message that mentions it
(``@assistant``, or a name from ``name_aliases`` / ``CHATOPS_ASSISTANT_NAME``) or is a direct
request the parser reads entirely as a command (``backtest strategy_1 on ALPHA``) -- plain chat
between people gets nothing (:mod:`._address`). It replies as the ``assistant`` role: which
command it understood, a question back, or a pointer to ``/help``; understood commands run
through the host's command router exactly like typed ones. With an LLM configured
(:class:`~.llm.LLMConfig`, or the ``CHATOPS_LLM_*`` env variables) the model answers first and
the offline parser is the fallback. ``CHATOPS_ASSISTANT=off`` in the server's environment
silences it (chat stays chat only).

A question about something missing is remembered per session for one message: an answer is
read together with it, so "backtest on ALPHA" -> "Which strategy?" -> "strategy_2" runs
``/run_backtest strategy_2 symbol=ALPHA``. Small talk, a new request or an unknown name (answered
once with suggestions) closes it.

Example:
    >>> from chatops_widget.server import ChatOpsServer
    >>> server = ChatOpsServer(tempfile.mkdtemp(), plugins=[AssistantPlugin(name_aliases=["bot"])])
    >>> [p.name for p in server.plugins], server.plugin("assistant").addressing.names
    (['assistant'], ('assistant', 'bot'))
"""

from __future__ import annotations

import asyncio
import logging
import os
import tempfile  # noqa: F401  (used by the docstring example)
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ..protocol import ChatMessage
from ._address import Addressing, names_from_env
from ._reply import NameSource, names_of
from .llm import LLMConfig, LLMUnavailable, respond_llm

if TYPE_CHECKING:
    from types import ModuleType

    from ._offline import Pending

__all__ = ["AssistantPlugin"]

log = logging.getLogger("chatops_widget.assistant")

_OFF = {"off", "0", "false", "no", "none"}  # CHATOPS_ASSISTANT values that silence it


class AssistantPlugin:
    """Answers chat in English and Korean; ``names`` tells it the strategies and symbols (the
    backtest plugin), ``llm`` an optional model (``use_env``: else ``CHATOPS_LLM_*``),
    ``name_aliases`` the names it answers to besides ``assistant`` (``use_env``: else
    ``CHATOPS_ASSISTANT_NAME``, comma-separated)."""

    name = "assistant"

    def __init__(
        self,
        names: NameSource | None = None,
        llm: LLMConfig | None = None,
        *,
        name_aliases: Iterable[str] | None = None,
        use_env: bool = True,
    ) -> None:
        self.names, self.llm, self.use_env = names, llm, use_env
        if name_aliases is None:
            name_aliases = names_from_env() if use_env else []
        self.addressing = Addressing(name_aliases)
        self.pending: Pending = {}
        self.host: Any = None

    def register(self, host: Any) -> None:
        """Listen to the host's user chat messages; say in ``/help`` how to address it."""
        self.host = host
        host.on_chat(self.on_chat)
        mentions = " or ".join(f"`@{n}`" for n in self.addressing.names)
        host.router.add_note(
            f"Chat: in a session of your own the assistant answers every message; with others "
            f"in the session it answers {mentions}, or a message that is a whole request "
            "(`backtest strategy_1 on ALPHA`). Plain chat between people gets no reply."
        )

    async def on_chat(self, message: ChatMessage) -> None:
        """Answer one stored user message (if it is addressed to the assistant)."""
        await self.respond(message.sessionId, message.content)

    def shared(self, session_id: str) -> bool:
        """Whether more than one person (connection) is in the session."""
        return self.host.members(session_id) > 1

    async def respond(self, session_id: str, text: str) -> None:
        """Answer ``text`` in ``session_id``: the LLM if configured, else the offline parser.

        In a shared session a message that neither mentions the assistant nor reads as a
        direct request is left alone (an open question stays open for the next message).
        """
        if os.environ.get("CHATOPS_ASSISTANT", "").strip().lower() in _OFF:
            return
        offline = await _offline()
        mentioned, body = self.addressing.strip(text)
        names = names_of(self.names)
        spans = getattr(self.names, "data_span", None)  # relative dates count from the data's end
        understood = None
        if mentioned:
            text = body or "hi"  # a bare "@assistant" is a greeting
        elif self.shared(session_id):
            open_question = self.pending.get(session_id)
            trial: Pending = {session_id: open_question} if open_question else {}
            understood = await offline.read(names, trial, session_id, text, spans)
            if not understood[0].direct:
                return  # people talking to each other
            self.pending.pop(session_id, None)
            self.pending.update(trial)
        config = self.llm or (LLMConfig.from_env() if self.use_env else None)
        if config is not None:
            try:
                await respond_llm(self.host, session_id, text, config, names)
                return
            except LLMUnavailable as exc:
                log.warning("LLM unavailable, using the built-in parser: %s", exc)
                await self.host.publish(
                    session_id,
                    "system",
                    f"The language model is unavailable ({exc}); the built-in parser answered.",
                    {"assistant": {"source": "llm", "fallback": True}},
                )
        await offline.respond_offline(
            self.host,
            session_id,
            text,
            names=names,
            pending=self.pending,
            spans=spans,
            understood=understood,
        )


def _load_offline() -> ModuleType:
    from . import _offline

    return _offline


_loaded: list[ModuleType] = []  # the offline parser, once imported


async def _offline() -> ModuleType:
    """The offline parser's module: imported (in a thread, ~40 ms) by the first message, not by
    the server's start. Messages that arrive meanwhile wait for the same import (the import
    system's lock), never see a half-imported module."""
    if not _loaded:
        _loaded.append(await asyncio.to_thread(_load_offline))
    return _loaded[0]
