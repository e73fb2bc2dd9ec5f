"""``startRun``: a backtest, comparison or sweep as a typed request.

Example:
    >>> req = parse(StartRun, {"sessionId": "session_1", "kind": "sweep", "targets": ["sma_cross"],
    ...                        "symbol": "ALPHA", "grid": {"fast": [5, 10, 15]}})
    >>> req.command_text()
    '/sweep sma_cross symbol=ALPHA fast=5:15:5'
"""

from __future__ import annotations

import itertools
import re
import shlex
from typing import Any, ClassVar

from pydantic import Field, StrictBool, StrictFloat, StrictInt, StrictStr, field_validator

from ._constants import (
    MAX_GRID_VALUES,
    MAX_RUN_TARGETS,
    RUN_ID_PATTERN,
    ClientEvent,
    ResultKind,
)
from ._models import SessionId, parse
from ._research import COMMAND_OF_KIND, ResearchFields, research_parts

__all__ = ["Scalar", "StartRun", "parse"]

_RUN_RE = re.compile(RUN_ID_PATTERN)

#: A parameter value: a number, a boolean or a short string (e.g. a date)
Scalar = StrictInt | StrictFloat | StrictBool | StrictStr


class StartRun(ResearchFields):
    """``startRun``: a backtest, comparison or sweep from typed fields -- the kernel client's
    way to start a run (``/run_backtest`` text is the chat's way; both run the same code).

    ``targets`` are stored strategy ids or template names (one for ``backtest`` and
    ``sweep``, two or more for ``comparison``); ``params`` override a backtest's parameters;
    ``grid`` gives a sweep's (or walk-forward's) values per parameter; dates are ``YYYY-MM-DD``;
    the research fields (walk-forward, universe, portfolio) are :class:`ResearchFields`. The ack is
    ``{runId, message}`` (``message``: the run's command line, echoed into the chat);
    ``backtestProgress`` and ``commandResult`` follow as for the command.
    """

    event: ClassVar[str] = ClientEvent.START_RUN.value

    sessionId: str = SessionId
    kind: ResultKind
    targets: list[StrictStr] = Field(min_length=1, max_length=MAX_RUN_TARGETS)
    symbol: StrictStr | None = Field(default=None, max_length=16)
    start: StrictStr | None = Field(default=None, max_length=32)
    end: StrictStr | None = Field(default=None, max_length=32)
    cash: StrictFloat | StrictInt | None = None
    commission: StrictFloat | StrictInt | None = None
    spread: StrictFloat | StrictInt | None = None
    params: dict[str, Scalar] = Field(default_factory=dict, max_length=64)
    grid: dict[str, list[Scalar]] = Field(default_factory=dict, max_length=16)
    split: StrictStr | None = Field(default=None, max_length=32)
    sort: StrictStr | None = Field(default=None, max_length=64)
    runId: StrictStr | None = Field(default=None, max_length=70)
    clientMessageId: StrictStr | None = Field(default=None, max_length=100)

    @field_validator("targets")
    @classmethod
    def _targets(cls, value: list[str]) -> list[str]:
        for t in value:
            if not 0 < len(t) <= 100:
                raise ValueError("each target is a strategy id or template name of 1-100 chars")
        return value

    @field_validator("grid")
    @classmethod
    def _grid(cls, value: dict[str, list[Any]]) -> dict[str, list[Any]]:
        for name, values in value.items():
            if not 0 < len(values) <= MAX_GRID_VALUES:
                raise ValueError(f"grid {name!r} needs 1-{MAX_GRID_VALUES} values")
        return value

    @field_validator("runId")
    @classmethod
    def _run_id(cls, value: str | None) -> str | None:
        if value is not None and not _RUN_RE.fullmatch(value):
            raise ValueError("a run id is 'run_' + 1-64 letters, digits or '_'")
        return value

    def command_text(self) -> str:
        """The chat command this request is equal to (what the chat shows).

        >>> StartRun(sessionId="session_1", kind="backtest", targets=["strategy_1"],
        ...          params={"fast": 12}, commission=0.001).command_text()
        '/run_backtest strategy_1 commission=0.001 fast=12'
        """
        name = COMMAND_OF_KIND.get(self.kind, self.kind)
        parts = [f"/{name}", *map(shlex.quote, self.targets)]
        for key in ("symbol", "start", "end", "cash", "commission", "spread", "split", "sort"):
            value = getattr(self, key)
            if value is not None:
                parts.append(f"{key}={shlex.quote(_text(value))}")
        parts += research_parts(self)
        for key, value in self.params.items():
            parts.append(f"{key}={shlex.quote(_text(value))}")
        for key, values in self.grid.items():
            parts.append(f"{key}={shlex.quote(_values_text(values))}")
        return " ".join(parts)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _values_text(values: list[Any]) -> str:
    """``lo:hi:step`` for an evenly spaced run of ints, else ``a,b,c``."""
    ints = all(isinstance(v, int) and not isinstance(v, bool) for v in values)
    if ints and len(values) >= 3:
        step = values[1] - values[0]
        if step > 0 and all(b - a == step for a, b in itertools.pairwise(values)):
            return f"{values[0]}:{values[-1]}:{step}"
    return ",".join(_text(v) for v in values)
