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

import importlib
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._backtest import backtest, validate_costs
    from ._cache import DEFAULT_CACHE_BYTES, DataRef, FrameCache, ref_cache
    from ._catalog import DataCatalog, sample_catalog
    from ._data import validate_ohlcv
    from ._defaults import DEFAULT_CASH
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

    catalog: DataCatalog
    """The process-wide catalog; holds the bundled sample (loaded on first use)."""

#: public name -> (submodule, its name there): imported when first looked up (PEP 562), so
#: ``engine.templates()`` or ``engine.EngineError`` need neither pandas nor the simulator.
_WHERE: dict[str, tuple[str, str]] = {
    "BacktestResult": ("_result", "BacktestResult"),
    "DEFAULT_CACHE_BYTES": ("_cache", "DEFAULT_CACHE_BYTES"),
    "DEFAULT_CASH": ("_defaults", "DEFAULT_CASH"),
    "DataCatalog": ("_catalog", "DataCatalog"),
    "DataError": ("_errors", "DataError"),
    "DataRef": ("_cache", "DataRef"),
    "EngineError": ("_errors", "EngineError"),
    "FileInfo": ("_files", "FileInfo"),
    "FrameCache": ("_cache", "FrameCache"),
    "FunctionStrategy": ("_function", "FunctionStrategy"),
    "MAX_SYMBOLS": ("_symbols", "MAX_SYMBOLS"),
    "Orders": ("_orders", "Orders"),
    "Param": ("_templates", "Param"),
    "ParamError": ("_errors", "ParamError"),
    "PortfolioResult": ("_portfolio_result", "PortfolioResult"),
    "RuleError": ("_errors", "RuleError"),
    "RuleStrategy": ("rules", "RuleStrategy"),
    "STATS": ("_metrics", "STATS"),
    "STAT_NAMES": ("_metrics", "STAT_NAMES"),
    "Stat": ("_metrics", "Stat"),
    "StrategyBase": ("_templates", "StrategyBase"),
    "StrategyOutputError": ("_function", "StrategyOutputError"),
    "SweepCancelled": ("_errors", "SweepCancelled"),
    "Template": ("_templates", "Template"),
    "UniverseResult": ("_universe", "UniverseResult"),
    "UnknownStrategyError": ("_errors", "UnknownStrategyError"),
    "UnknownSymbolError": ("_errors", "UnknownSymbolError"),
    "WalkForwardCancelled": ("_errors", "WalkForwardCancelled"),
    "WalkForwardResult": ("_walkforward", "WalkForwardResult"),
    "as_result": ("_external", "as_result"),
    "backtest": ("_backtest", "backtest"),
    "backtest_portfolio": ("_portfolio", "backtest_portfolio"),
    "compare_universe": ("_universe", "compare_universe"),
    "expand_grid": ("_grid", "expand_grid"),
    "format_stat": ("_metrics", "format_stat"),
    "get_template": ("_registry", "get_template"),
    "make_windows": ("_windows", "make_windows"),
    "parse_period": ("_windows", "parse_period"),
    "probe_file": ("_files", "probe"),
    "read_ohlcv_file": ("_files", "read_ohlcv_file"),
    "ref_cache": ("_cache", "ref_cache"),
    "register_template": ("_registry", "register_template"),
    "result_from_frames": ("_external", "result_from_frames"),
    "sample_catalog": ("_catalog", "sample_catalog"),
    "split_index": ("_split", "split_index"),
    "stat_info": ("_metrics", "stat_info"),
    "sweep": ("_sweep", "sweep"),
    "templates": ("_registry", "templates"),
    "validate_costs": ("_backtest", "validate_costs"),
    "validate_ohlcv": ("_data", "validate_ohlcv"),
    "walk_forward": ("_walkforward", "walk_forward"),
}
_catalog_lock = threading.Lock()


def __getattr__(name: str) -> Any:
    # The public names, then ``catalog`` (one per process) and the subpackages (``rules``, ...).
    if name in _WHERE:
        module, attr = _WHERE[name]
        value = getattr(importlib.import_module(f".{module}", __name__), attr)
    elif name == "catalog":
        from ._catalog import _DefaultCatalog

        with _catalog_lock:  # one per process, also when two threads ask first at once
            if "catalog" not in globals():
                globals()["catalog"] = _DefaultCatalog()
        return globals()["catalog"]
    elif not name.startswith("__"):
        try:
            return importlib.import_module(f".{name}", __name__)
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


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
