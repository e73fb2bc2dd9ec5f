"""The backtest plugin: backtest, sweep and comparison commands over the engine.

- ``plugin.py`` -- :class:`BacktestPlugin`, what a server is handed (``plugins=[...]``);
- ``service.py`` -- :class:`BacktestService`: resolves names, runs jobs, keeps results;
- ``commands/`` -- the slash commands and extra events (``getResult``, ``getRuns``, ...);
- ``jobs/`` -- where runs execute: the job manager, worker processes, Dask, the pool tasks;
- ``storage/`` -- stored results (Parquet) and strategies (SQLite);
- ``data/`` -- symbols uploaded by clients and the watched data folder.

Example:
    >>> BacktestPlugin().name
    'backtest'
"""

from .plugin import BacktestPlugin
from .service import BacktestService

__all__ = ["BacktestPlugin", "BacktestService"]
