"""A resolved backtest (:class:`RunSpec`) and the pool task it becomes.

The service resolves what a command names -- a stored strategy or a template, a symbol, dates,
params, costs -- into a :class:`RunSpec`; :meth:`RunSpec.task` is the plain dict a worker runs
(:func:`._work.backtest_task`), with the symbol's frame wrapped in :class:`._pool.Shared` so each
worker receives it once.

Example:
    >>> spec = svc.backtest_spec("strategy_1", {"fast": "12"})   # doctest: +SKIP
    >>> spec.task()["params"]                                      # doctest: +SKIP
    {'fast': 12, 'slow': 30, 'short': False}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from chatops_widget import engine

from .jobs.pool import Shared

__all__ = ["RunSpec"]


@dataclass
class RunSpec:
    """A resolved backtest: template + validated params on one symbol's data."""

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
    data: Any = field(default=None, repr=False)
    #: a strategy hosted in a member's kernel (``hosted/``): its runs go there, not to the pool
    hosted: Any = field(default=None, repr=False)
    #: a finished run taken as it is (a comparison of ``run_...`` or a published result)
    result_of: str | None = None

    def task(self) -> dict[str, Any]:
        df = self.data
        # a cheap fingerprint: workers keep the frame, later runs on it send only this key
        sums = df.to_numpy(dtype="float64").sum(axis=0).tolist()
        stamps = df.index.asi8
        revision = df.attrs.get("revision", 0)  # bumped when a symbol is (re-)uploaded
        fingerprint = (self.symbol, revision, len(df), int(stamps[0]), int(stamps[-1]), *sums)
        return {
            "key": self.strategy_id or self.template,
            "data": Shared(fingerprint, df),
            "template": self.template,
            "params": self.params,
            "cash": self.cash,
            "commission": self.commission,
            "spread": self.spread,
        }
