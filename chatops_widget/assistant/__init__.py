"""The chat assistant: turns natural-language chat (English / Korean) into slash commands.

Offline by default (:func:`parse_intent`, :func:`interpret`); optionally backed by any
OpenAI-compatible LLM endpoint (:mod:`chatops_widget.assistant.llm`). On a server it is the
:class:`AssistantPlugin` (``ChatOpsServer(plugins=[..., AssistantPlugin(names=...)])``).

Example:
    >>> from chatops_widget.assistant import parse_intent
    >>> parse_intent("sweep sma_cross fast 5 to 50 by 5")
    '/sweep sma_cross fast=5:50:5'
    >>> parse_intent("도움말")
    '/help'
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .plugin import AssistantPlugin

if TYPE_CHECKING:
    from ._interpret import Intent, interpret
    from ._parser import parse_intent

__all__ = ["AssistantPlugin", "Intent", "interpret", "parse_intent"]


def __getattr__(name: str) -> Any:
    # The parser (its lexicon and patterns) loads on first use: a server starts without it.
    if name in ("Intent", "interpret"):
        from . import _interpret

        return getattr(_interpret, name)
    if name == "parse_intent":
        from ._parser import parse_intent

        return parse_intent
    raise AttributeError(f"module 'chatops_widget.assistant' has no attribute {name!r}")
