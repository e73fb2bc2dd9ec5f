"""Engine errors: every one is an :class:`EngineError` (a ``ValueError``) with a clear message.

Example:
    >>> from chatops_widget.engine import backtest, EngineError
    >>> try:
    ...     backtest(df, "sma_cross", {"fats": 10})          # doctest: +SKIP
    ... except EngineError as e:
    ...     print(e)                                          # doctest: +SKIP
    sma_cross: unknown parameter 'fats' (did you mean 'fast'?); valid: fast, slow, short
"""

from __future__ import annotations

from typing import Any


class EngineError(ValueError):
    """Base class of all engine errors (bad data, bad parameters, unknown names)."""


class DataError(EngineError):
    """OHLCV data is unusable: missing columns, unsorted/duplicate index, NaN or non-positive."""


class ParamError(EngineError):
    """A strategy parameter is unknown, of the wrong type, out of range or inconsistent.

    ``.param`` names the offending parameter (``None`` if it is about the whole set).
    """

    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.param = param


class UnknownStrategyError(EngineError):
    """The strategy (template) name is not registered."""


class UnknownSymbolError(EngineError, KeyError):
    """The symbol is not in the data catalog."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


class SweepCancelled(EngineError):
    """A :func:`sweep` was cancelled between chunks.

    ``.partial`` holds the rows (a DataFrame) finished before the cancel; ``.done`` and ``.total``
    count combinations.
    """

    def __init__(self, message: str, partial: Any = None, done: int = 0, total: int = 0) -> None:
        super().__init__(message)
        self.partial = partial
        self.done = done
        self.total = total


class RuleError(ParamError):
    """A rule expression (``entry``, ``exit``, ...) is not valid.

    ``.param`` names the rule (``"entry"``); ``.position`` is the 1-based character where the
    problem is (``None`` if it is about the whole rule). The message says what is wrong and
    what would be right, e.g. ``entry: unknown function 'rsl' at 1 (did you mean 'rsi'?)``.
    """

    def __init__(self, message: str, param: str | None = None, position: int | None = None):
        super().__init__(message, param)
        self.position = position


class WalkForwardCancelled(EngineError):
    """A :func:`walk_forward` was cancelled; ``.partial`` is the result of the windows finished
    before the cancel (a ``WalkForwardResult``, or ``None`` if none finished); ``.done`` and
    ``.total`` count windows."""

    def __init__(self, message: str, partial: Any = None, done: int = 0, total: int = 0) -> None:
        super().__init__(message)
        self.partial = partial
        self.done = done
        self.total = total
