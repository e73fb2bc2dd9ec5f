"""What the offline parser and the LLM share: the names a server knows, the answer language,
and running an understood command so that a refusal or a failure is said in the chat.

Example:
    >>> lang_of("strategy_1 백테스트"), lang_of("backtest strategy_1")
    ('ko', 'en')
"""

from __future__ import annotations

import re
from typing import Any, Protocol

from ..protocol import ProtocolError

__all__ = ["NameSource", "Names", "lang_of", "names_of", "run_understood"]

#: (strategy ids + template names, symbols), or None where unknown
Names = tuple["list[str] | None", "list[str] | None"]

_HANGUL_RE = re.compile(r"[\uac00-\ud7a3]")
_FAILED = {
    "en": "`{cmd}` failed: {reason}",
    "ko": "`{cmd}` 실행에 실패했어요: {reason}",
}
_REFUSED = {
    "en": "`{cmd}` could not run: {reason}",
    "ko": "`{cmd}` 을(를) 실행할 수 없어요: {reason}",
}


class NameSource(Protocol):
    """Anything that knows the names a chat may use (the backtest plugin is one). One that
    also has ``data_span(target, symbol, start)`` (see :data:`~._dates.Spans`) lets relative
    dates count back from the end of the data."""

    def known_names(self) -> tuple[list[str], list[str]]:
        """(strategy ids + template names, symbols)."""


def names_of(source: NameSource | None) -> Names:
    """``source.known_names()``, or ``(None, None)`` without a source.

    >>> names_of(None)
    (None, None)
    """
    if source is None:
        return None, None
    strategies, symbols = source.known_names()
    return list(strategies), list(symbols)


def lang_of(text: str) -> str:
    """``"ko"`` if ``text`` has Hangul, else ``"en"`` (the language the assistant answers in)."""
    return "ko" if _HANGUL_RE.search(text) else "en"


async def run_understood(
    host: Any, session_id: str, command: str, *, lang: str = "en", source: str = "parser"
) -> bool:
    """Run ``command`` through the host's router; True if it started.

    A refusal (bad syntax, unknown command) and a run that then fails (the ``commandResult``
    has ``ok=false``, e.g. the engine rejects ``fast >= slow``) are both reported in the chat
    as an ``assistant`` message with the reason, in ``lang``: the sender of a chat message has
    no ``error`` event, so the history is where the reason must be.
    """

    async def report(template: dict[str, str], code: str, reason: str) -> None:
        meta = {"source": source, "kind": "error", "command": command, "error": code}
        reply = template.get(lang, template["en"]).format(cmd=command, reason=reason)
        await host.publish(session_id, "assistant", reply, {"assistant": meta})

    async def on_result(result: Any) -> None:
        if not result.ok and result.error is not None:
            await report(_FAILED, str(result.error.code), result.error.message)

    try:
        await host.run_command(session_id, command, sid=None, on_result=on_result)
    except ProtocolError as exc:
        await report(_REFUSED, exc.code.value, exc.message)
        return False
    return True
