"""The backtest engine: pure numpy/pandas, no networking, usable on its own.

Public API:

- :func:`backtest` -- one template + params on an OHLCV frame -> :class:`BacktestResult`
  (``.equity``, ``.trades``, ``.stats``, ``.params``, ``.strategy``, ``.symbol``);
- :func:`sweep` -- many parameter combinations, vectorized across them -> DataFrame;
- :func:`templates` -- the declarative strategy templates (``sma_cross``, ``ema_cross``,
  ``rsi_reversion``, ``bollinger``, ``momentum``, ``donchian_breakout``, ``buy_and_hold``);
- :data:`catalog` (the process-wide :class:`DataCatalog`, pre-filled with the bundled synthetic
  sample), :func:`sample_catalog`, :func:`validate_ohlcv`;
- errors: :class:`EngineError` (a ``ValueError``) and its subclasses.

Execution model: signals on bar t's close, filled at bar t+1's open; fractional, fully invested
positions; ``commission`` is a fraction of traded notional paid on every fill; a position still
open at the end is closed at the last close. Details in :mod:`chatops_widget.engine._sim` and
docs/engine.md.

Example:
    >>> from chatops_widget.engine import backtest, catalog
    >>> r = backtest(catalog.get("ALPHA"), "sma_cross", {"fast": 10, "slow": 30})
    >>> r                                                        # doctest: +SKIP
    BacktestResult sma_cross(fast=10, slow=30, short=False) ...
"""

from __future__ import annotations

from ._backtest import DEFAULT_CASH, backtest, validate_costs
from ._data import DataCatalog, _DefaultCatalog, read_ohlcv_file, sample_catalog, validate_ohlcv
from ._errors import (
    DataError,
    EngineError,
    ParamError,
    SweepCancelled,
    UnknownStrategyError,
    UnknownSymbolError,
)
from ._grid import expand_grid
from ._metrics import STAT_NAMES, STATS, Stat, format_stat, stat_info
from ._orders import Orders
from ._registry import get_template, register_template, templates
from ._result import BacktestResult
from ._split import split_index
from ._sweep import sweep
from ._templates import Param, StrategyBase, Template

catalog: DataCatalog = _DefaultCatalog()
"""The process-wide catalog; holds the bundled sample (loaded on first use)."""

__all__ = [
    "DEFAULT_CASH",
    "STATS",
    "STAT_NAMES",
    "BacktestResult",
    "DataCatalog",
    "DataError",
    "EngineError",
    "Orders",
    "Param",
    "ParamError",
    "Stat",
    "StrategyBase",
    "SweepCancelled",
    "Template",
    "UnknownStrategyError",
    "UnknownSymbolError",
    "backtest",
    "catalog",
    "expand_grid",
    "format_stat",
    "get_template",
    "read_ohlcv_file",
    "register_template",
    "sample_catalog",
    "split_index",
    "stat_info",
    "sweep",
    "templates",
    "validate_costs",
    "validate_ohlcv",
]
