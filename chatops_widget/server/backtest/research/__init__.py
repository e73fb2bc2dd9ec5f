"""Research beyond one backtest, in the server: walk-forward optimization, strategies across a
universe of symbols and portfolios (docs/research.md).

- :mod:`.plans` -- a ``startRun`` of kind ``walkforward``, ``universe`` or ``portfolio``
  resolved and validated before any job exists;
- :mod:`.runner` -- :class:`~.runner.ResearchRuns`: the job (one progress bar), its tasks in the
  worker pool (planned in :mod:`..jobs.splitting`), the stored result and the summary;
- :mod:`.format` -- the chat replies.
"""
