"""Stats: the registry, the float Series, and each formula against a peer.

Peers: backtesting.py's own ``compute_stats`` fed with *our* trades and equity (so any
difference is a difference of formula, not of simulation), and empyrical's functions fed with
our per-bar returns. Stats whose conventions differ on purpose are listed in
docs/strategies.md and checked by hand here instead.
"""

from __future__ import annotations

import json
import math

import empyrical  # test-only dependency (pyproject [test]: empyrical-reloaded)
import numpy as np
import pandas as pd
import pytest
from backtesting._stats import compute_stats
from backtesting.test import EURUSD, GOOG

from chatops_widget.engine import (
    STAT_NAMES,
    STATS,
    backtest,
    catalog,
    format_stat,
    stat_info,
    sweep,
)
from chatops_widget.engine._metrics import UNITS

from .conftest import make_ohlcv


def test_registry_is_plain_data_and_complete():
    names = [s.name for s in STATS]
    assert len(set(names)) == len(names)
    rows = json.loads(json.dumps([s.as_dict() for s in STATS]))
    assert rows[0]["name"] == "total_return" and rows[0]["unit"] == "fraction"
    for s in STATS:
        assert s.unit in UNITS and s.label and s.description and s.formula, s.name
    wanted = (
        "buy_hold_return calmar avg_drawdown max_drawdown_duration avg_drawdown_duration "
        "best_trade worst_trade avg_trade_duration max_trade_duration expectancy sqn kelly "
        "alpha beta commissions_paid turnover bars_per_year"
    ).split()
    assert set(wanted) <= set(STAT_NAMES)
    assert stat_info("oos_sharpe").name == "sharpe"
    with pytest.raises(KeyError, match="did you mean 'sharpe'"):
        stat_info("sharp")
    assert format_stat("win_rate", 0.5) == "50.00 %"
    assert format_stat("max_drawdown_duration", 3.0) == "3.0 days"


def test_stats_is_a_float_series_that_stacks_into_a_table(alpha):
    runs = {
        name: backtest(alpha, name, commission=0.001)
        for name in ("sma_cross", "ema_cross", "buy_and_hold")
    }
    for r in runs.values():
        assert r.stats.dtype == np.float64
        assert r.stats.index.tolist() == [s.name for s in STATS]
        assert set(r.info.index) >= {"strategy", "symbol", "start", "end"}
        assert isinstance(r.info["start"], pd.Timestamp)
        json.dumps(r.to_dict(), allow_nan=False)
    table = pd.DataFrame({k: r.stats for k, r in runs.items()}).T.sort_values("sharpe")
    assert table.index.tolist() == table.sort_values("sharpe").index.tolist()
    assert table["num_trades"].dtype == np.float64 and len(table) == 3


def _ours(df, **kw):
    r = backtest(df, "sma_cross", {"fast": 10, "slow": 30, **kw}, cash=1e7, commission=0.002)
    t = r.trades
    assert len(t) > 10
    return r, t


@pytest.mark.parametrize("data", [GOOG, EURUSD], ids=["GOOG", "EURUSD"])
@pytest.mark.parametrize("short", [False, True], ids=["long", "longshort"])
def test_stats_match_backtesting_py_compute_stats(data, short):
    r, t = _ours(data, short=short)
    peer_trades = pd.DataFrame(
        {
            "Size": t["size"],
            "EntryBar": t.entry_bar,
            "ExitBar": t.exit_bar,
            "EntryPrice": t.entry_price,
            "ExitPrice": t.exit_price,
            "PnL": t.pnl,
            "ReturnPct": t["return"],
            "EntryTime": t.entry_time,
            "ExitTime": t.exit_time,
        }
    )
    peer_trades["Duration"] = peer_trades.ExitTime - peer_trades.EntryTime
    eq = r.equity.equity.to_numpy()
    theirs = compute_stats(peer_trades, eq, data, None)
    s = r.stats

    def days(td):
        return td / pd.Timedelta(days=1)

    approx = dict(rel=1e-9, abs=1e-12)
    assert s.total_return * 100 == pytest.approx(theirs["Return [%]"], **approx)
    assert s.final_equity == pytest.approx(theirs["Equity Final [$]"], **approx)
    assert s.buy_hold_return * 100 == pytest.approx(theirs["Buy & Hold Return [%]"], **approx)
    assert s.cagr * 100 == pytest.approx(theirs["CAGR [%]"], **approx)
    assert s.max_drawdown * 100 == pytest.approx(theirs["Max. Drawdown [%]"], **approx)
    assert s.avg_drawdown * 100 == pytest.approx(theirs["Avg. Drawdown [%]"], **approx)
    # backtesting.py rounds durations up to the data's period (a day, an hour)
    period = days(pd.Series(data.index).diff().median())

    def rounded_up(ours, theirs):
        return theirs - period - 1e-9 <= ours <= theirs + 1e-9

    assert rounded_up(s.max_drawdown_duration, days(theirs["Max. Drawdown Duration"]))
    assert rounded_up(s.avg_drawdown_duration, days(theirs["Avg. Drawdown Duration"]))
    assert s.num_trades == theirs["# Trades"]
    assert s.win_rate * 100 == pytest.approx(theirs["Win Rate [%]"], **approx)
    assert s.best_trade * 100 == pytest.approx(theirs["Best Trade [%]"], **approx)
    assert s.worst_trade * 100 == pytest.approx(theirs["Worst Trade [%]"], **approx)
    assert s.avg_trade_return * 100 == pytest.approx(theirs["Expectancy [%]"], **approx)
    assert s.sqn == pytest.approx(theirs["SQN"], **approx)
    assert s.kelly == pytest.approx(theirs["Kelly Criterion"], **approx)
    assert rounded_up(s.max_trade_duration, days(theirs["Max. Trade Duration"]))
    assert rounded_up(s.avg_trade_duration, days(theirs["Avg. Trade Duration"]))


@pytest.mark.parametrize("data", [GOOG, EURUSD], ids=["GOOG", "EURUSD"])
@pytest.mark.parametrize("short", [False, True], ids=["long", "longshort"])
def test_stats_match_empyrical(data, short):
    r, _ = _ours(data, short=short)
    s = r.stats
    ret = r.equity.returns.to_numpy()  # per-bar simple returns, ret[0] = 0
    close = data.Close.to_numpy()
    bench = np.r_[0.0, close[1:] / close[:-1] - 1]
    ann = s.bars_per_year
    years = (data.index[-1] - data.index[0]) / pd.Timedelta(days=365.25)
    assert ann == pytest.approx((len(data) - 1) / years, rel=1e-12)
    rel = dict(rel=1e-9)
    assert s.sharpe == pytest.approx(empyrical.sharpe_ratio(ret, annualization=ann), **rel)
    assert s.sortino == pytest.approx(empyrical.sortino_ratio(ret, annualization=ann), **rel)
    assert s.volatility == pytest.approx(empyrical.annual_volatility(ret, annualization=ann), **rel)
    assert s.max_drawdown == pytest.approx(empyrical.max_drawdown(ret), **rel)
    # empyrical counts years as len(returns) / ann: the n - 1 returns after the first bar
    assert s.cagr == pytest.approx(empyrical.cagr(ret[1:], annualization=ann), **rel)
    assert s.calmar == pytest.approx(empyrical.calmar_ratio(ret[1:], annualization=ann), **rel)
    a, b = empyrical.alpha_beta(ret, bench, annualization=ann)
    assert s.beta == pytest.approx(b, **rel)
    assert s.alpha == pytest.approx(a, **rel)


def test_trade_and_drawdown_stats_by_hand():
    # buy at bar 1's open (10), marked at closes; exit at the end
    close = [10, 12, 11, 9, 13, 12, 14]
    df = make_ohlcv(close, open_=[10, 10, 12, 11, 9, 13, 12])
    r = backtest(df, "buy_and_hold", cash=1000.0, commission=0.01)
    s, t, eq = r.stats, r.trades, r.equity.equity.to_numpy()
    assert s.commissions_paid == pytest.approx(t.commission.sum())
    assert s.expectancy == pytest.approx(t.pnl.mean())
    assert s.best_trade == s.worst_trade == pytest.approx(t["return"].iloc[0])
    assert s.avg_trade_duration == s.max_trade_duration == 5.0  # bar 1 -> bar 6, daily
    # equity peaks at bar 1 (12), below it at bars 2-3, new peak at 4; below at 5; peak at 6
    assert (np.diff(np.maximum.accumulate(eq)) > 0).tolist() == [
        True, False, False, True, False, True
    ]  # fmt: skip
    depth1 = eq[3] / eq[1] - 1
    depth2 = eq[5] / eq[4] - 1
    assert s.avg_drawdown == pytest.approx((depth1 + depth2) / 2)
    assert s.max_drawdown == pytest.approx(min(depth1, depth2))
    assert s.max_drawdown_duration == 3.0 and s.avg_drawdown_duration == 2.5  # (3 + 2) / 2
    traded = (t.entry_price * t["size"] + t.exit_price * t["size"]).sum()
    years = 6 / 365.25
    assert s.turnover == pytest.approx(traded / eq.mean() / years)
    assert s.buy_hold_return == pytest.approx(14 / 10 - 1)
    assert math.isnan(s.sqn) and math.isnan(s.kelly)  # one trade: no spread, no losers


def test_no_trades_and_flat_data_give_nan_not_errors():
    df = make_ohlcv(np.full(50, 10.0))
    s = backtest(df, "sma_cross", {"fast": 2, "slow": 5}).stats
    assert s.num_trades == 0 and s.total_return == 0 and s.max_drawdown == 0
    assert s.avg_drawdown == 0 and s.max_drawdown_duration == 0
    for name in ("sharpe", "win_rate", "best_trade", "expectancy", "sqn", "alpha", "beta"):
        assert math.isnan(s[name]), name


def test_every_sweep_column_equals_the_single_backtest(walk):
    grid = {"fast": [3, 8], "slow": [20, 40], "short": [False, True]}
    table = sweep(walk, "sma_cross", grid, commission=0.001, spread=0.0005, chunk_size=3)
    assert [c for c in table.columns if c not in grid] == list(STAT_NAMES)
    for row in table.to_dict("records"):
        params = {p: row[p] for p in grid}
        st = backtest(walk, "sma_cross", params, commission=0.001, spread=0.0005).stats
        for name in STAT_NAMES:
            assert row[name] == pytest.approx(st[name], rel=1e-9, nan_ok=True), (params, name)


def test_sample_symbols_have_sensible_stats():
    s = backtest(catalog.get("ALPHA"), "buy_and_hold").stats
    assert s.beta == pytest.approx(1.0, abs=0.02)  # long the symbol from bar 1 on
    assert s.exposure == pytest.approx(1 - 1 / s.bars)
    assert 240 < s.bars_per_year < 265
