"""``startRun``: a backtest, comparison or sweep as a typed request.

Order settings (stops, targets, sizing) travel as :class:`RunOrders`; their values are the
engine's (``0.05`` or ``"5%"``, ``"atr(14)*3"``) and the engine validates them
(:data:`ORDER_OPTIONS` names and describes each, for ``/help`` and the panel).

Example:
    >>> req = parse(StartRun, {"sessionId": "session_1", "kind": "sweep", "targets": ["sma_cross"],
    ...                        "symbol": "ALPHA", "grid": {"fast": [5, 10, 15]}})
    >>> req.command_text()
    '/sweep sma_cross symbol=ALPHA fast=5:15:5'
    >>> parse(StartRun, {"sessionId": "session_1", "kind": "backtest", "targets": ["dip"],
    ...                  "orders": {"stop_loss": "5%", "whole_units": True}}).command_text()
    '/run_backtest dip stop_loss=5% whole_units=true'
"""

from __future__ import annotations

import itertools
import math
import re
import shlex
from typing import Annotated, Any, ClassVar

from pydantic import Field, StrictBool, StrictFloat, StrictInt, StrictStr, field_validator

from ._constants import (
    MAX_GRID_VALUES,
    MAX_PARAM_MAGNITUDE,
    MAX_RUN_TARGETS,
    RUN_ID_PATTERN,
    ClientEvent,
    ResultKind,
)
from ._models import SessionId, _Model, parse
from ._research import COMMAND_OF_KIND, ResearchFields, research_parts

__all__ = ["ORDER_OPTIONS", "RunOrders", "Scalar", "StartRun", "parse"]

_RUN_RE = re.compile(RUN_ID_PATTERN)

#: A parameter value: a number, a boolean or a short string (e.g. a date)
Scalar = StrictInt | StrictFloat | StrictBool | StrictStr

#: An order setting: a number, or text such as ``"5%"``, ``"atr(14)*3"`` or ``"none"``
_OrderValue = StrictInt | StrictFloat | Annotated[StrictStr, Field(max_length=40)] | None

#: Every order setting with what it means (the engine checks the values), in display order.
ORDER_OPTIONS: dict[str, str] = {
    "stop_loss": "exit when the price falls this fraction below a long's entry (above a "
    "short's), e.g. 5% or 0.05",
    "take_profit": "exit this fraction above a long's entry (below a short's), e.g. 12%",
    "trailing_stop": "a stop this fraction below the highest close since entry (e.g. 10%), or "
    "atr(14)*3: 3 Wilder ATR(14)s below it",
    "size": "fraction of equity each entry uses, default 100% (all-in), e.g. 50%",
    "risk": "size each entry so that hitting stop_loss loses this fraction of equity, e.g. 1% "
    "(needs stop_loss)",
    "units": "a fixed number of units per entry (instead of size or risk), e.g. 100",
    "whole_units": "true: round units down to whole numbers (backtesting.py's behaviour)",
}


class RunOrders(_Model):
    """Stops, targets and sizing of a run (see :data:`ORDER_OPTIONS`); unset ones are
    ``None``. A value ``"none"`` removes a setting stored with the strategy for this run."""

    stop_loss: _OrderValue = None
    take_profit: _OrderValue = None
    trailing_stop: _OrderValue = None
    size: _OrderValue = None
    risk: _OrderValue = None
    units: _OrderValue = None
    whole_units: StrictBool | Annotated[StrictStr, Field(max_length=10)] | None = None

    def given(self) -> dict[str, Any]:
        """The settings that were given, in :data:`ORDER_OPTIONS` order."""
        return {k: v for k in ORDER_OPTIONS if (v := getattr(self, k)) is not None}


class StartRun(ResearchFields):
    """``startRun``: a backtest, comparison or sweep from typed fields -- the kernel client's
    way to start a run (``/run_backtest`` text is the chat's way; both run the same code).

    ``targets`` are stored strategy ids or names, or template names (one for ``backtest`` and
    ``sweep``, two or more for ``comparison``); ``params`` override a backtest's parameters;
    ``grid`` gives a sweep's (or walk-forward's) values per parameter; ``orders`` the stops,
    targets and sizing (:class:`RunOrders`: over those stored with the strategy); dates are
    ``YYYY-MM-DD``; the research fields (walk-forward, universe, portfolio) are
    :class:`ResearchFields`. The ack is
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
    orders: RunOrders | None = None
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
            for v in values:
                _check_number(name, v)
        return value

    @field_validator("params")
    @classmethod
    def _params(cls, value: dict[str, Any]) -> dict[str, Any]:
        for name, v in value.items():
            _check_number(name, v)
        return value

    @field_validator("cash", "commission", "spread")
    @classmethod
    def _cost(cls, value: float | None) -> float | None:
        return None if value is None else _check_number("cost", value)

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
        for key, value in (self.orders.given() if self.orders else {}).items():
            parts.append(f"{key}={shlex.quote(_text(value))}")
        parts += research_parts(self)
        for key, value in self.params.items():
            parts.append(f"{key}={shlex.quote(_text(value))}")
        for key, values in self.grid.items():
            parts.append(f"{key}={shlex.quote(_values_text(values))}")
        return " ".join(parts)


def _check_number(name: str, value: Any) -> Any:
    """A number of a request must be finite and at most :data:`MAX_PARAM_MAGNITUDE` in size."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        finite = math.isfinite(value) if isinstance(value, float) else True  # ints: any size
        if not finite or abs(value) > MAX_PARAM_MAGNITUDE:
            raise ValueError(
                f"{name}={value!r:.40}: numbers must be finite and at most "
                f"{MAX_PARAM_MAGNITUDE:g} in size"
            )
    return value


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
