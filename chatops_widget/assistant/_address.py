"""Who the assistant answers: whether a chat line is addressed to it.

In a one-person session every line is. In a session with more than one person (more than one
connection in its room) people talk to each other, so only a line that *addresses* the
assistant is answered:

- an @-mention of one of its names anywhere (``@assistant``, or a configured name such as
  ``@bot``; a Korean vocative may follow: ``@비서님``), or the name at the start followed by
  ``,`` or ``:`` (``assistant, status please``) -- the mention is removed before the line is read;
- a direct request: a line the parser reads entirely as a command (``backtest strategy_1 on
  ALPHA``, ``strategy_1 백테스트해줘``; see :attr:`~._interpret.Intent.direct`). That is
  decided by the plugin, which has the parser's reading.

Names come from ``AssistantPlugin(name_aliases=...)`` or the ``CHATOPS_ASSISTANT_NAME``
environment variable (comma-separated), and ``assistant`` always works.

Example:
    >>> a = Addressing(["bot", "비서"])
    >>> a.names
    ('assistant', 'bot', '비서')
    >>> a.strip("@bot backtest strategy_1")
    (True, 'backtest strategy_1')
    >>> a.strip("@비서님 도움말")
    (True, '도움말')
    >>> a.strip("Assistant: status please")
    (True, 'status please')
    >>> a.strip("mail me at bob@bot.example")
    (False, 'mail me at bob@bot.example')
    >>> a.strip("the assistant is slow today")
    (False, 'the assistant is slow today')
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable

__all__ = ["DEFAULT_NAME", "Addressing", "names_from_env"]

DEFAULT_NAME = "assistant"
_ENV = "CHATOPS_ASSISTANT_NAME"
_NAME_RE = re.compile(r"[\w.-]{1,40}")
_VOCATIVE = r"(?:님|씨|아|야)?"  # Korean: @비서님, @봇아


def names_from_env() -> list[str]:
    """The names in ``CHATOPS_ASSISTANT_NAME`` (comma-separated; empty when unset)."""
    return [n.strip() for n in os.environ.get(_ENV, "").split(",") if n.strip()]


class Addressing:
    """The assistant's names and how a line mentions them (``assistant`` is always one)."""

    def __init__(self, names: Iterable[str] = ()) -> None:
        seen: list[str] = [DEFAULT_NAME]
        for name in names:
            name = name.strip().lstrip("@")
            if not _NAME_RE.fullmatch(name):
                raise ValueError(
                    f"assistant name {name!r} is not valid: use 1-40 letters, digits, '_', '.' "
                    "or '-', e.g. 'bot' (it is mentioned as @bot)"
                )
            if name.lower() not in (n.lower() for n in seen):
                seen.append(name)
        self.names: tuple[str, ...] = tuple(seen)
        alt = "|".join(re.escape(n) for n in sorted(self.names, key=len, reverse=True))
        self._mention = re.compile(rf"(?<![\w@.])@(?:{alt}){_VOCATIVE}(?![\w.-])[,:]?", re.I)
        self._leading = re.compile(rf"^\s*(?:{alt}){_VOCATIVE}\s*[,:]\s*", re.I)

    def strip(self, text: str) -> tuple[bool, str]:
        """``(addressed, text without the mention)``; the text is unchanged when not addressed."""
        if "@" in text:
            body, n = self._mention.subn(" ", text)
            if n:
                return True, " ".join(body.split())
        m = self._leading.match(text)
        if m:
            return True, text[m.end() :].strip()
        return False, text

    def __repr__(self) -> str:
        return f"Addressing({list(self.names[1:])!r})"
