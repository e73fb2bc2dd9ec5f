"""The backtest engine: pure numpy/pandas, no networking, usable on its own.

Public API:

- :func:`backtest` -- one strategy + params (+ order settings) on an OHLCV frame ->
  :class:`BacktestResult` (``.equity``, ``.trades``, ``.stats`` -- a float Series --,
  ``.info``, ``.params``, ``.strategy``, ``.symbol``);
- :func:`sweep` -- many parameter combinations, vectorized across them -> DataFrame (with
  ``split=`` for out-of-sample columns); :func:`expand_grid`;
- research beyond one backtest (docs/research.md): :func:`walk_forward` (optimize on rolling
  or anchored training windows, trade each choice on the next test window only, stitched
  out-of-sample curve -> :class:`WalkForwardResult`; windows from :func:`make_windows`),
  :func:`compare_universe` (every strategy on every symbol -> :class:`UniverseResult`, a long
  table with ``.pivot("sharpe")``) and :func:`backtest_portfolio` (one strategy on several
  symbols from one pool of cash, weights and rebalancing -> :class:`PortfolioResult`);
- strategies: :func:`templates` (``sma_cross``, ``ema_cross``, ``rsi_reversion``,
  ``bollinger``, ``momentum``, ``donchian_breakout``, ``buy_and_hold``) and
  :class:`RuleStrategy` (entry/exit conditions in the rule language, :mod:`.rules`) and
  :class:`FunctionStrategy` (a Python function returning positions in [-1, 1]), all
  :class:`StrategyBase`;
- orders: ``stop_loss``, ``take_profit``, ``trailing_stop``/``trailing_atr``, ``size``,
  ``risk``, ``units``, ``whole_units`` (validated by :class:`Orders`);
- stats: :data:`STATS` (name, label, unit, description, formula of every stat; plain data for
  the server and the front end), :func:`stat_info`, :func:`format_stat`, :data:`STAT_NAMES`;
- results made elsewhere (backtesting.py, vectorbt, any equity curve and trades):
  :func:`as_result`, :func:`result_from_frames` -- the engine's stats on them;
- data: :data:`catalog` (the process-wide :class:`DataCatalog`, pre-filled with the bundled
  synthetic sample; files are listed from their metadata and read when used, within a byte
  budget), :func:`sample_catalog`, :func:`validate_ohlcv`, :class:`DataRef` (a file's bars by
  reference, for other processes);
- errors: :class:`EngineError` (a ``ValueError``) and its subclasses (:class:`RuleError`
  points at the character of a bad rule).

Execution model: signals on bar t's close, filled at bar t+1's open; fractional positions,
all-in by default; ``commission`` is a fraction of traded notional paid on every fill; stops
are checked intrabar; a position still open at the end is closed at the last close. Details
in :mod:`._sim`, :mod:`._events`, docs/engine.md and docs/strategies.md.

Example:
    >>> from chatops_widget.engine import backtest, catalog
    >>> r = backtest(catalog.get("ALPHA"), "sma_cross", {"fast": 10, "slow": 30})
    >>> r                                                        # doctest: +SKIP
    BacktestResult sma_cross(fast=10, slow=30, short=False) ...
"""

from __future__ import annotations

from ._backtest import DEFAULT_CASH, backtest, validate_costs
from ._cache import DEFAULT_CACHE_BYTES, DataRef, FrameCache, ref_cache
from ._catalog import DataCatalog, _DefaultCatalog, sample_catalog
from ._data import validate_ohlcv
from ._errors import (
    DataError,
    EngineError,
    ParamError,
    RuleError,
    SweepCancelled,
    UnknownStrategyError,
    UnknownSymbolError,
    WalkForwardCancelled,
)
from ._external import as_result, result_from_frames
from ._files import FileInfo, read_ohlcv_file
from ._files import probe as probe_file
from ._function import FunctionStrategy, StrategyOutputError
from ._grid import expand_grid
from ._metrics import STAT_NAMES, STATS, Stat, format_stat, stat_info
from ._orders import Orders
from ._portfolio import backtest_portfolio
from ._portfolio_result import PortfolioResult
from ._registry import get_template, register_template, templates
from ._result import BacktestResult
from ._split import split_index
from ._sweep import sweep
from ._symbols import MAX_SYMBOLS
from ._templates import Param, StrategyBase, Template
from ._universe import UniverseResult, compare_universe
from ._walkforward import WalkForwardResult, walk_forward
from ._windows import make_windows, parse_period
from .rules import RuleStrategy

catalog: DataCatalog = _DefaultCatalog()
"""The process-wide catalog; holds the bundled sample (loaded on first use)."""

__all__ = [
    "DEFAULT_CACHE_BYTES",
    "DEFAULT_CASH",
    "MAX_SYMBOLS",
    "STATS",
    "STAT_NAMES",
    "BacktestResult",
    "DataCatalog",
    "DataError",
    "DataRef",
    "EngineError",
    "FileInfo",
    "FrameCache",
    "FunctionStrategy",
    "Orders",
    "Param",
    "ParamError",
    "PortfolioResult",
    "RuleError",
    "RuleStrategy",
    "Stat",
    "StrategyBase",
    "StrategyOutputError",
    "SweepCancelled",
    "Template",
    "UniverseResult",
    "UnknownStrategyError",
    "UnknownSymbolError",
    "WalkForwardCancelled",
    "WalkForwardResult",
    "as_result",
    "backtest",
    "backtest_portfolio",
    "catalog",
    "compare_universe",
    "expand_grid",
    "format_stat",
    "get_template",
    "make_windows",
    "parse_period",
    "probe_file",
    "read_ohlcv_file",
    "ref_cache",
    "register_template",
    "result_from_frames",
    "sample_catalog",
    "split_index",
    "stat_info",
    "sweep",
    "templates",
    "validate_costs",
    "validate_ohlcv",
    "walk_forward",
]
