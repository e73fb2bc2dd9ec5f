"""Correctness against a peer: sma_cross vs backtesting.py on its bundled GOOG sample.

backtesting.py sizes ``buy()``/``sell()`` as (1 - eps) of equity in whole units, charges
``commission`` on entry and exit notional, and closes a still-open trade at the last bar's open
(or drops a trade opened on the last bar) -- so we use a huge cash (whole units don't matter)
and compare only trades that close before the last two bars.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from backtesting import Backtest, Strategy  # test-only dependency (pyproject [test])
from backtesting.lib import crossover
from backtesting.test import GOOG, SMA

from chatops_widget.engine import backtest, sweep

CASH = 1e10


def peer_trades(fast: int, slow: int, short: bool, commission: float, spread: float = 0.0):
    class SmaCross(Strategy):
        def init(self):
            self.f = self.I(SMA, self.data.Close, fast)
            self.s = self.I(SMA, self.data.Close, slow)

        def next(self):
            if crossover(self.f, self.s):
                self.position.close()
                self.buy()
            elif crossover(self.s, self.f):
                self.position.close()
                if short:
                    self.sell()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "trades remain open" warning
        bt = Backtest(
            GOOG,
            SmaCross,
            cash=CASH,
            commission=commission,
            spread=spread,
            trade_on_close=False,
            exclusive_orders=False,
        )
        return bt.run()._trades


PAIRS = [(10, 20), (5, 30), (20, 50), (3, 100)]


@pytest.mark.parametrize("fast,slow", PAIRS)
@pytest.mark.parametrize("short", [False, True], ids=["long", "longshort"])
@pytest.mark.parametrize(
    "commission,spread", [(0.0, 0.0), (0.002, 0.0), (0.0, 0.001), (0.002, 0.001)],
    ids=["nocomm", "comm", "spread", "comm+spread"],
)  # fmt: skip
def test_sma_cross_matches_backtesting_py(fast, slow, short, commission, spread):
    theirs = peer_trades(fast, slow, short, commission, spread)
    r = backtest(
        GOOG,
        "sma_cross",
        {"fast": fast, "slow": slow, "short": short},
        cash=CASH,
        commission=commission,
        spread=spread,
    )
    n = len(GOOG)
    ours = r.trades[r.trades.exit_bar < n - 2]
    theirs = theirs[theirs.ExitBar < n - 2]
    assert len(ours) > 5
    assert ours.entry_bar.tolist() == theirs.EntryBar.tolist()
    assert ours.exit_bar.tolist() == theirs.ExitBar.tolist()
    assert ours.entry_time.tolist() == theirs.EntryTime.tolist()
    assert (ours.direction == "short").tolist() == (theirs.Size < 0).tolist()
    np.testing.assert_allclose(ours.entry_price, theirs.EntryPrice, rtol=1e-12)
    np.testing.assert_allclose(ours.exit_price, theirs.ExitPrice, rtol=1e-12)
    a, b = ours.pnl.sum(), theirs.PnL.sum()
    assert abs(a - b) <= 1e-3 * abs(b), (a, b)


@pytest.mark.parametrize("spread", [0.0, 0.0005])
def test_sweep_rows_equal_single_backtests_on_goog(spread):
    grid = {"fast": [5, 10, 20], "slow": [20, 30, 50], "short": [False, True]}
    table = sweep(GOOG, "sma_cross", grid, commission=0.001, spread=spread, chunk_size=4)
    assert len(table) == 16 and table.attrs["skipped"] == 2  # (20, 20) x 2
    for row in table.itertuples():
        r = backtest(
            GOOG,
            "sma_cross",
            {"fast": row.fast, "slow": row.slow, "short": row.short},
            commission=0.001,
            spread=spread,
        )
        for name in ("total_return", "sharpe", "max_drawdown", "num_trades", "win_rate"):
            assert getattr(row, name) == pytest.approx(r.stats[name], rel=1e-9, nan_ok=True)
