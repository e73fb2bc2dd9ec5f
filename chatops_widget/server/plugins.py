"""The standard plugin set: what ``chatops-widget serve`` and the embedded server run.

The host (:mod:`.app`) knows no plugin; this module is where the product is put together:
the backtest plugin, then the assistant, which reads the names the backtest plugin knows.

Example:
    >>> [p.name for p in standard_plugins()]
    ['backtest', 'assistant']
    >>> [p.name for p in standard_plugins(assistant=False)]
    ['backtest']
"""

from __future__ import annotations

from typing import Any

from .host import Plugin

__all__ = ["standard_plugins"]


def standard_plugins(
    *, assistant: bool = True, llm: Any = None, workers: int | None = None, jobs: str | None = None
) -> list[Plugin]:
    """The backtest plugin (``workers``, ``jobs`` as in ``BacktestPlugin``) and, unless
    ``assistant=False``, the assistant (``llm``: an ``LLMConfig``, else offline or env)."""
    from ..assistant import AssistantPlugin
    from .backtest import BacktestPlugin

    backtest = BacktestPlugin(workers=workers, mode=jobs)
    plugins: list[Plugin] = [backtest]
    if assistant:
        plugins.append(AssistantPlugin(names=backtest, llm=llm))
    return plugins
