"""What the backtest plugin keeps: :mod:`.results` (Parquet + index) and :mod:`.strategies`."""
