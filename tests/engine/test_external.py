"""Results made elsewhere as the engine's results: real backtesting.py and vectorbt objects.

The converted result must carry the peer's own equity and trades, and the engine's stats of
them must agree with the peer's where both define a stat the same way.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from backtesting import Backtest, Strategy
from backtesting.lib import crossover
from backtesting.test import GOOG, SMA

from chatops_widget import engine
from chatops_widget.engine import EngineError, as_result, result_from_frames


class SmaCross(Strategy):
    n1 = 10
    n2 = 30

    def init(self):
        self.a = self.I(SMA, self.data.Close, self.n1)
        self.b = self.I(SMA, self.data.Close, self.n2)

    def next(self):
        if crossover(self.a, self.b):
            self.position.close()
            self.buy()
        elif crossover(self.b, self.a):
            self.position.close()
            self.sell()


@pytest.fixture(scope="module")
def bt_stats():
    bt = Backtest(GOOG, SmaCross, cash=10_000, commission=0.002, finalize_trades=True)
    return bt.run(n1=12)


def test_a_backtesting_py_result_keeps_its_trades_and_agrees_on_the_stats(bt_stats):
    r = as_result(bt_stats)
    assert isinstance(r, engine.BacktestResult)
    assert (r.strategy, r.params, r.info["source"]) == ("SmaCross", {"n1": 12}, "backtesting.py")
    np.testing.assert_allclose(r.equity["equity"], bt_stats["_equity_curve"]["Equity"])
    raw = bt_stats["_trades"]
    np.testing.assert_allclose(r.trades["pnl"], raw["PnL"])
    np.testing.assert_allclose(r.trades["entry_price"], raw["EntryPrice"])
    assert r.trades["entry_time"].tolist() == raw["EntryTime"].tolist()
    assert (r.trades["direction"] == np.where(raw["Size"] > 0, "long", "short")).all()
    s = r.stats
    assert s["total_return"] == pytest.approx(bt_stats["Return [%]"] / 100, rel=1e-12)
    assert s["num_trades"] == bt_stats["# Trades"]
    assert s["win_rate"] == pytest.approx(bt_stats["Win Rate [%]"] / 100)
    assert s["max_drawdown"] == pytest.approx(bt_stats["Max. Drawdown [%]"] / 100, rel=1e-9)
    assert s["commissions_paid"] == pytest.approx(bt_stats["Commissions [$]"])
    assert s["final_equity"] == pytest.approx(bt_stats["Equity Final [$]"])
    assert s["best_trade"] == pytest.approx(bt_stats["Best Trade [%]"] / 100, rel=1e-9)
    # the buy & hold of the closes it ran on (from the first bar, the engine's definition)
    assert s["buy_hold_return"] == pytest.approx(GOOG.Close.iloc[-1] / GOOG.Close.iloc[0] - 1)
    assert not r.info["open_at_end"] and np.isnan(s["commission"])


def test_a_trade_left_open_is_said_not_guessed():
    stats = Backtest(GOOG, SmaCross, cash=10_000).run()  # its last trade is not in _trades
    r = as_result(stats)
    assert r.info["open_at_end"] and r.stats["num_trades"] == len(stats["_trades"])


def test_a_vectorbt_portfolio_keeps_its_positions_and_agrees_on_the_stats():
    import vectorbt as vbt  # in the test extra (imported here: it takes seconds)

    close = GOOG.Close
    fast, slow = vbt.MA.run(close, 10), vbt.MA.run(close, 30)
    pf = vbt.Portfolio.from_signals(
        close,
        fast.ma_crossed_above(slow),
        fast.ma_crossed_below(slow),
        init_cash=10_000,
        fees=0.001,
    )
    r = as_result(pf, "vbt_sma")
    assert (r.strategy, r.info["source"]) == ("vbt_sma", "vectorbt")
    np.testing.assert_allclose(r.equity["equity"], pf.value())
    positions = pf.positions.records_readable
    assert r.stats["num_trades"] == len(positions)
    np.testing.assert_allclose(r.trades["pnl"], positions["PnL"])
    assert r.stats["total_return"] == pytest.approx(pf.total_return(), rel=1e-12)
    assert r.stats["max_drawdown"] == pytest.approx(pf.max_drawdown(), rel=1e-9)
    assert r.stats["win_rate"] == pytest.approx((positions["PnL"] > 0).mean())
    fees = positions["Entry Fees"].sum() + positions["Exit Fees"].sum()
    assert r.stats["commissions_paid"] == pytest.approx(fees)
    both = pd.concat([close, close * 2], axis=1, keys=["a", "b"])
    entries = pd.concat([fast.ma_crossed_above(slow)] * 2, axis=1, keys=["a", "b"])
    two = vbt.Portfolio.from_signals(both, entries.to_numpy(), ~entries.to_numpy())
    with pytest.raises(EngineError, match="has 2 columns; publish one at a time"):
        as_result(two)


def test_frames_from_anywhere_and_what_is_refused(alpha):
    ours = engine.backtest(alpha, "sma_cross", commission=0.001)
    back = result_from_frames(
        ours.equity,
        ours.trades,
        close=alpha.Close,
        cash=1e6,
        held=ours.equity["position"].astype(float),
        commission=0.001,
        spread=0.0,
    )
    pd.testing.assert_series_equal(back.stats, ours.stats, rtol=1e-10)
    with pytest.raises(EngineError, match="Series on a DatetimeIndex"):
        result_from_frames(pd.Series([1.0, 2.0]))
    with pytest.raises(EngineError, match="outside the 2608 bars"):
        t = ours.trades.assign(exit_bar=ours.trades.exit_bar + 10_000)
        result_from_frames(ours.equity, t)
    with pytest.raises(EngineError, match=r"in \[-1, 1\]"):
        result_from_frames(ours.equity, ours.trades, held=ours.equity["position"] * 3.0)
    with pytest.raises(TypeError, match="cannot publish a dict"):
        as_result({"sharpe": 3})
