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

from ._interpret import Intent, interpret
from ._parser import parse_intent
from .plugin import AssistantPlugin

__all__ = ["AssistantPlugin", "Intent", "interpret", "parse_intent"]
