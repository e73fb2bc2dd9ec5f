"""The assistant as a server plugin: it answers the user chat messages of a session.

For each user message (commands are not chat) it replies as the ``assistant`` role: which
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
    >>> server = ChatOpsServer(tempfile.mkdtemp(), plugins=[AssistantPlugin()])
    >>> [p.name for p in server.plugins]
    ['assistant']
"""

from __future__ import annotations

import logging
import os
import tempfile  # noqa: F401  (used by the docstring example)
from typing import Any

from ..protocol import ChatMessage
from ._offline import Pending, respond_offline
from ._reply import NameSource, names_of
from .llm import LLMConfig, LLMUnavailable, respond_llm

__all__ = ["AssistantPlugin"]

log = logging.getLogger("chatops_widget.assistant")

_OFF = {"off", "0", "false", "no", "none"}  # CHATOPS_ASSISTANT values that silence it


class AssistantPlugin:
    """Answers chat in English and Korean; ``names`` tells it the strategies and symbols (the
    backtest plugin), ``llm`` an optional model (``use_env``: else ``CHATOPS_LLM_*``)."""

    name = "assistant"

    def __init__(
        self,
        names: NameSource | None = None,
        llm: LLMConfig | None = None,
        *,
        use_env: bool = True,
    ) -> None:
        self.names, self.llm, self.use_env = names, llm, use_env
        self.pending: Pending = {}
        self.host: Any = None

    def register(self, host: Any) -> None:
        """Listen to the host's user chat messages."""
        self.host = host
        host.on_chat(self.on_chat)

    async def on_chat(self, message: ChatMessage) -> None:
        """Answer one stored user message."""
        await self.respond(message.sessionId, message.content)

    async def respond(self, session_id: str, text: str) -> None:
        """Answer ``text`` in ``session_id``: the LLM if configured, else the offline parser."""
        if os.environ.get("CHATOPS_ASSISTANT", "").strip().lower() in _OFF:
            return
        names = names_of(self.names)
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
        spans = getattr(self.names, "data_span", None)  # relative dates count from the data's end
        await respond_offline(
            self.host, session_id, text, names=names, pending=self.pending, spans=spans
        )
