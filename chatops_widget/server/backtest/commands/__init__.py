"""The backtest commands: running (``/run_backtest``, ``/sweep``, ...), listing and events."""
