"""A resolved backtest (:class:`RunSpec`) and the pool task it becomes.

The service resolves what a command names -- a stored strategy or a template, a symbol, dates,
params, costs, order settings -- into a :class:`RunSpec`; a rule strategy travels as its plain
dict (``rule``), which the worker parses again; :meth:`RunSpec.task` is the plain dict a worker
runs (:func:`.jobs.tasks.backtest_task`). The bars travel by reference: a file's as an
``engine.DataRef`` the worker reads itself (from the shared data folder and its own cache), a
frame held only in the server's memory (the bundled sample) wrapped in :class:`.jobs.pool.Shared`,
so each worker receives it once.

Example:
    >>> spec = svc.backtest_spec("strategy_1", {"fast": "12"})   # doctest: +SKIP
    >>> spec.task()["params"]                                      # doctest: +SKIP
    {'fast': 12, 'slow': 30, 'short': False}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from chatops_widget import engine
from chatops_widget._lazy import lazy_module

from .jobs.pool import Shared

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")

__all__ = ["RunSpec"]


@dataclass
class RunSpec:
    """A resolved backtest: template (or rule strategy: ``rule``, named ``template``) +
    validated params and order settings on one symbol's data."""

    template: str
    symbol: str
    params: dict[str, Any]
    start: str | None = None
    end: str | None = None
    strategy_id: str | None = None
    name: str | None = None
    cash: float = engine.DEFAULT_CASH
    commission: float = 0.0
    spread: float = 0.0
    #: the bars: an ``engine.DataRef`` (read by the worker) or the frame itself
    data: Any = field(default=None, repr=False)
    #: a rule strategy's ``RuleStrategy.to_dict()`` (None for a template)
    rule: dict[str, Any] | None = None
    #: order settings as the engine validated them (``{"stop_loss": 0.05}``)
    orders: dict[str, Any] = field(default_factory=dict)
    #: the engine strategy (kept for validation here; workers rebuild it from ``rule``)
    strategy: Any = field(default=None, repr=False)
    #: the bar times of the run (known here without reading the bars of a file)
    index: pd.DatetimeIndex | None = field(default=None, repr=False)
    revision: int = 0  # the catalog's revision of the symbol (changes when it is replaced)

    @property
    def bars(self) -> int:
        """How many bars the run covers."""
        return len(self.index) if self.index is not None else len(self.data)

    def shipped(self) -> Any:
        """The bars as a task carries them: the ``DataRef``, or the frame as :class:`Shared`."""
        data = self.data
        if isinstance(data, engine.DataRef):
            return data
        stamps = data.index.asi8
        # the key: workers keep the frame, later runs on it send only this
        key = (self.symbol, self.revision, len(data), int(stamps[0]), int(stamps[-1]))
        return Shared(key, data)

    #: a strategy hosted in a member's kernel (``hosted/``): its runs go there, not to the pool
    hosted: Any = field(default=None, repr=False)
    #: a finished run taken as it is (a comparison of ``run_...`` or a published result)
    result_of: str | None = None

    def task(self) -> dict[str, Any]:
        return {
            "key": self.strategy_id or self.template,
            "data": self.shipped(),
            "template": self.template,
            "params": self.params,
            "cash": self.cash,
            "commission": self.commission,
            "spread": self.spread,
            "rule": self.rule,
            "orders": self.orders,
        }
