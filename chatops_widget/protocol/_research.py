"""The research fields of ``startRun``: walk-forward windows, a universe of symbols, portfolio
weights and rebalancing (see docs/research.md).

- ``kind="walkforward"``: ``targets`` [one strategy or template], ``symbol``, ``grid``, and
  ``train``/``test`` (bars, or durations ``"2y"``, ``"6m"``, ``"90d"``), ``anchored``,
  ``metric``, ``minTrades``; it is the command ``/walkforward``.
- ``kind="universe"``: ``targets`` [strategies], ``symbols`` (``["*"]``: every symbol); the
  command ``/compare_strategies ... symbols=A,B``.
- ``kind="portfolio"``: ``targets`` [one strategy], ``symbols``, ``weights`` (``"equal"`` or one
  number per symbol), ``rebalance`` (``none``, ``monthly``, ``weekly``); the command
  ``/run_backtest ... symbols=A,B``.

The values are checked by the server's resolver (with the engine's messages); here only their
shapes and sizes.

Example:
    >>> f = ResearchFields(symbols=["alpha", "BRAVO"], weights=[0.5, 0.5])
    >>> f.symbols, research_parts(f)
    (['ALPHA', 'BRAVO'], ['symbols=ALPHA,BRAVO', 'weights=0.5,0.5'])
"""

from __future__ import annotations

import re
import shlex
from typing import Any, Literal

from pydantic import Field, StrictBool, StrictFloat, StrictInt, StrictStr, field_validator

from ._constants import MAX_RUN_SYMBOLS
from ._models import _Model

__all__ = ["COMMAND_OF_KIND", "RESEARCH_KINDS", "ResearchFields", "research_parts"]

#: The run kinds of research beyond one backtest.
RESEARCH_KINDS: tuple[str, ...] = ("walkforward", "universe", "portfolio")
#: The chat command each run kind is (``startRun`` is echoed as it).
COMMAND_OF_KIND = {
    "backtest": "run_backtest",
    "comparison": "compare_strategies",
    "sweep": "sweep",
    "walkforward": "walkforward",
    "universe": "compare_strategies",
    "portfolio": "run_backtest",
}
_SYMBOL = re.compile(r"^(?:\*|[A-Z0-9][A-Z0-9._-]{0,15})$")
_Period = StrictInt | StrictStr


class ResearchFields(_Model):
    """The optional research fields shared into :class:`~chatops_widget.protocol.StartRun`."""

    symbols: list[StrictStr] | None = None
    weights: list[StrictFloat | StrictInt] | Literal["equal"] | None = None
    rebalance: StrictStr | None = Field(default=None, max_length=16)
    train: _Period | None = None
    test: _Period | None = None
    anchored: StrictBool | None = None
    metric: StrictStr | None = Field(default=None, max_length=40)
    minTrades: StrictInt | None = Field(default=None, ge=0, le=1_000_000)

    @field_validator("symbols")
    @classmethod
    def _symbols(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        if len(value) > MAX_RUN_SYMBOLS:
            raise ValueError(
                f"{len(value):,} symbols given; the limit is {MAX_RUN_SYMBOLS} per run (split "
                "the universe into several runs)"
            )
        out = [str(s).strip().upper() for s in value]
        bad = [s for s in out if not _SYMBOL.match(s)]
        if bad:
            raise ValueError(
                f"{bad[0]!r} is not a symbol; symbols are 1-16 letters, digits, '.', '_' or "
                "'-' (or '*' for every symbol)"
            )
        if not out:
            raise ValueError("give one or more symbols, e.g. ['ALPHA', 'BRAVO'] (or ['*'])")
        return out

    @field_validator("train", "test")
    @classmethod
    def _period(cls, value: int | str | None) -> int | str | None:
        if isinstance(value, str) and len(value) > 20:
            raise ValueError("a period is a number of bars or a duration like '2y', '6m', '90d'")
        return value

    @field_validator("weights")
    @classmethod
    def _weights(cls, value: Any) -> Any:
        if isinstance(value, list) and len(value) > MAX_RUN_SYMBOLS:
            raise ValueError(f"at most {MAX_RUN_SYMBOLS} weights (one per symbol)")
        return value


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def research_parts(f: ResearchFields) -> list[str]:
    """The ``key=value`` words of the research fields that are set, in a fixed order."""
    parts: list[str] = []
    if f.symbols is not None:  # checked symbols (or *): nothing the grammar needs quoted
        parts.append("symbols=" + ",".join(f.symbols))
    for key in ("train", "test", "anchored", "metric"):
        value = getattr(f, key)
        if value is not None:
            parts.append(f"{key}={shlex.quote(_text(value))}")
    if f.minTrades is not None:
        parts.append(f"min_trades={f.minTrades}")
    if f.weights is not None:
        w = f.weights if isinstance(f.weights, str) else ",".join(_text(x) for x in f.weights)
        parts.append(f"weights={shlex.quote(w)}")
    if f.rebalance is not None:
        parts.append(f"rebalance={shlex.quote(f.rebalance)}")
    return parts
