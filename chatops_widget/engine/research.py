"""The building blocks of :func:`~chatops_widget.engine.walk_forward`,
:func:`~chatops_widget.engine.compare_universe` and
:func:`~chatops_widget.engine.backtest_portfolio`, for running them split across processes
(the server sweeps each walk-forward window and each chunk of symbols in its own worker task,
then assembles the result with these).

- walk-forward: :func:`window_plan` (windows + valid combinations, checked before any work),
  :func:`check_metric`, :func:`default_grid` (a grid when none is given), :func:`choose` (a sweep table -> :class:`Choice`), :func:`assemble`
  (choices -> :class:`~chatops_widget.engine.WalkForwardResult`), :data:`DEFAULT_MIN_TRADES`;
- universe: :func:`strategy_specs`, :func:`universe_rows` (one symbol's rows), :func:`universe_frame`;
- portfolio: :func:`portfolio_weights`, :func:`rebalance_points`, :data:`REBALANCE`.

Example:
    >>> import pandas as pd
    >>> from chatops_widget.engine import catalog, get_template, sweep
    >>> df = catalog.get("ALPHA")
    >>> tpl = get_template("sma_cross")
    >>> windows, combos = window_plan(tpl, {"fast": [5, 10]}, pd.DatetimeIndex(df.index), "3y", "1y")
    >>> w = windows[0]
    >>> table = sweep(df.iloc[w.train_start : w.train_end], tpl, combos[0])
    >>> choice = choose(table, tpl.param_names, "sharpe", 5)
    >>> wf = assemble(df, tpl, windows[:1], [choice], param_names=["fast"], cash=1e6,
    ...               commission=0.0, spread=0.0, orders=Orders(),
    ...               info={"strategy": "sma_cross", "metric": "sharpe"})
    >>> len(wf.windows), bool(wf.windows["fast"].iloc[0] == choice.params["fast"])
    (1, True)
"""  # noqa: E501

from __future__ import annotations

from ._grid import default_grid
from ._orders import Orders
from ._portfolio_result import REBALANCE, portfolio_weights, rebalance_points
from ._universe import StrategySpec, strategy_specs, universe_frame, universe_rows
from ._walkforward import DEFAULT_MIN_TRADES, Choice, assemble, check_metric, choose, window_plan

__all__ = [
    "DEFAULT_MIN_TRADES",
    "REBALANCE",
    "Choice",
    "Orders",
    "StrategySpec",
    "assemble",
    "check_metric",
    "choose",
    "default_grid",
    "portfolio_weights",
    "rebalance_points",
    "strategy_specs",
    "universe_frame",
    "universe_rows",
    "window_plan",
]
