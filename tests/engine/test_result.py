"""BacktestResult: DataFrames, stats and readable reprs."""

from __future__ import annotations

import json

import numpy as np
import pytest

from chatops_widget.engine import STAT_NAMES, BacktestResult, backtest, catalog, format_stat


def test_result_shape_and_reprs():
    df = catalog.get("BRAVO")
    r = backtest(df, "sma_cross", {"fast": 10, "slow": 40}, commission=0.001, symbol="BRAVO")
    assert isinstance(r, BacktestResult)
    assert r.strategy == "sma_cross" and r.symbol == "BRAVO"
    assert r.params == {"fast": 10, "slow": 40, "short": False}
    assert list(r.equity.columns) == ["equity", "returns", "drawdown", "position", "benchmark"]
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


def test_benchmark_is_buy_and_hold_of_the_same_bars_with_the_same_cash_and_no_costs():
    df = catalog.get("ALPHA")
    r = backtest(df, "sma_cross", {"fast": 10, "slow": 30}, cash=250_000, commission=0.001)
    bench = r.equity["benchmark"]
    np.testing.assert_allclose(bench, 250_000 * df["Close"] / df["Close"].iloc[0], rtol=1e-12)
    assert bench.iloc[-1] / 250_000 - 1 == pytest.approx(r.stats["buy_hold_return"], rel=1e-12)


@pytest.mark.parametrize("short", [False, True])
def test_commissions_and_spread_paid_are_the_amounts_in_cash_units(short):
    df = catalog.get("BRAVO")
    params = {"fast": 10, "slow": 30, "short": short}
    r = backtest(df, "sma_cross", params, commission=0.0005, spread=0.0002)
    opens = df["Open"].to_numpy()[r.trades["entry_bar"].to_numpy()]
    expected = float(np.sum(np.abs(r.trades["size"].to_numpy()) * opens * 0.0002))
    assert r.stats["spread_paid"] == pytest.approx(expected, rel=1e-9) and expected > 0
    assert r.stats["commissions_paid"] == pytest.approx(r.trades["commission"].sum(), rel=1e-12)
    assert backtest(df, "sma_cross", params).stats["spread_paid"] == 0.0
    # rates are shown as given (a setting), amounts with their unit's formatting
    assert format_stat("commission", r.stats["commission"]) == "0.05 %"
    assert format_stat("spread", r.stats["spread"]) == "0.02 %"
    assert format_stat("commission", 0.00001) == "0.001 %"  # never "0.00 %"
    assert "spread_paid" in repr(r) and "commissions_paid" in repr(r)
