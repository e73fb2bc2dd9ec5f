"""BacktestResult: DataFrames, stats and readable reprs."""

from __future__ import annotations

import json

from chatops_widget.engine import STAT_NAMES, BacktestResult, backtest, catalog


def test_result_shape_and_reprs():
    df = catalog.get("BRAVO")
    r = backtest(df, "sma_cross", {"fast": 10, "slow": 40}, commission=0.001, symbol="BRAVO")
    assert isinstance(r, BacktestResult)
    assert r.strategy == "sma_cross" and r.symbol == "BRAVO"
    assert r.params == {"fast": 10, "slow": 40, "short": False}
    assert list(r.equity.columns) == ["equity", "returns", "drawdown", "position"]
    assert r.equity.index.equals(df.index)
    for col in ("entry_time", "exit_time", "entry_price", "exit_price", "size", "pnl", "return"):
        assert col in r.trades.columns
    for s in STAT_NAMES:
        assert s in r.stats.index
    text = repr(r)
    assert text.startswith("BacktestResult sma_cross(fast=10, slow=40, short=False) on BRAVO")
    assert "total_return" in text and " %" in text and "sharpe" in text
    html = r._repr_html_()
    assert "<table>" in html and "max_drawdown" in html and "BRAVO" in html
    d = r.to_dict()
    json.dumps(d)
    assert d["stats"]["num_trades"] == len(r.trades)
    assert backtest(catalog.get("echo"), "buy_and_hold").symbol == "ECHO"  # from df.attrs
