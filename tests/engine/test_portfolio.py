"""backtest_portfolio(): sleeves from one pool of cash, the union calendar, rebalancing, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from chatops_widget.engine import (
    STATS,
    DataError,
    EngineError,
    ParamError,
    UnknownSymbolError,
    backtest,
    backtest_portfolio,
    sample_catalog,
)

CAT = sample_catalog()
P = {"fast": 10, "slow": 40}
COSTS = {"commission": 0.001, "spread": 0.0005}


def _same_stats(a: pd.Series, b: pd.Series) -> None:
    for s in STATS:
        x, y = a[s.name], b[s.name]
        assert (np.isnan(x) and np.isnan(y)) or x == pytest.approx(y, rel=1e-9, abs=1e-9), s.name


@pytest.mark.parametrize("rebalance", ["none", "monthly", "weekly"])
def test_a_one_symbol_portfolio_is_the_single_backtest(rebalance):
    orders = {"stop_loss": 0.05} if rebalance == "none" else {"size": 0.5}
    p = backtest_portfolio(CAT, "sma_cross", P, symbols=["ALPHA"], rebalance=rebalance,
                           **COSTS, **orders)  # fmt: skip
    bt = backtest(CAT.get("ALPHA"), "sma_cross", P, **COSTS, **orders)
    assert np.allclose(p.equity.equity.to_numpy(), bt.equity.equity.to_numpy(), rtol=1e-12)
    _same_stats(p.stats, bt.stats)
    assert len(p.trades) == len(bt.trades)
    assert np.allclose(p.trades.pnl.to_numpy(), bt.trades.pnl.to_numpy(), rtol=1e-9)
    assert (p.positions.ALPHA.to_numpy() == bt.equity.position.to_numpy()).all()
    assert p.rebalances.cost.abs().max() < 1e-6 if len(p.rebalances) else True


def test_equal_weights_without_rebalancing_are_the_sum_of_half_cash_backtests():
    a = CAT.get("ALPHA")
    b = CAT.get("BRAVO").iloc[300:].drop(CAT.get("BRAVO").index[[400, 401, 900]])  # later, gaps
    p = backtest_portfolio({"ALPHA": a, "BRAVO": b}, "sma_cross", P, whole_units=True, **COSTS)
    half = [backtest(df, "sma_cross", P, cash=500_000, whole_units=True, **COSTS)
            for df in (a, b)]  # fmt: skip
    union = a.index.union(b.index)
    assert p.equity.index.equals(union)
    curves = [h.equity.equity.reindex(union).ffill().fillna(500_000) for h in half]
    assert np.allclose(p.equity.equity, curves[0] + curves[1], rtol=0, atol=1e-6)
    assert np.allclose(p.sleeves.BRAVO, curves[1], atol=1e-6)
    # a symbol contributes only where it has bars: BRAVO's share is idle cash before them
    assert (p.sleeves.BRAVO.loc[: b.index[0]] == 500_000).all()
    assert (p.positions.BRAVO.loc[: b.index[0]] == 0).all()
    for sym, h in zip(["ALPHA", "BRAVO"], half, strict=True):
        assert p.trades[p.trades.symbol == sym].pnl.sum() == pytest.approx(h.trades.pnl.sum())
        assert p.contributions[sym].iloc[-1] == pytest.approx(h.trades.pnl.sum())
    assert p.stats["num_trades"] == len(half[0].trades) + len(half[1].trades)


def test_rebalancing_restores_the_weights_and_charges_the_traded_notional():
    syms = ["ALPHA", "BRAVO", "CHARLIE"]
    w = [0.5, 0.3, 0.2]
    free = backtest_portfolio(CAT, "sma_cross", P, symbols=syms, weights=w, rebalance="monthly")
    rb = free.rebalances
    union = free.equity.index
    at = union.get_indexer(rb.time.unique())
    assert (union[at].month != union[at + 1].month).all()  # the last bar of each month
    after = free.sleeves.loc[rb.time.unique()]
    assert np.allclose(after.div(after.sum(axis=1), axis=0).to_numpy(), np.array(w)[None, :])
    assert np.allclose(free.sleeves.sum(axis=1), free.equity.equity)
    assert np.allclose(free.contributions.sum(axis=1), free.equity.equity - 1_000_000)
    costly = backtest_portfolio(CAT, "sma_cross", P, symbols=syms, weights=w,
                                rebalance="monthly", commission=0.002)  # fmt: skip
    r = costly.rebalances
    moved = r[r.traded > 0].iloc[0]
    up = moved.after > moved.before
    # the cost is the commission (and spread) on the notional traded to reach the new value
    assert moved.cost == pytest.approx(0.002 * moved.traded, rel=1e-9)
    assert moved.cost > 0 and bool(up) in (True, False)
    assert (r.cost >= -1e-9).all()
    assert costly.stats["commissions_paid"] < r.cost.sum() + costly.trades.commission.sum() + 1


def test_symbols_that_list_later_keep_their_share_in_cash_and_ended_ones_give_it_up():
    a, b = CAT.get("ALPHA"), CAT.get("BRAVO").loc["2018-06-15":"2022-03-10"]
    p = backtest_portfolio({"A": a, "B": b}, "buy_and_hold", rebalance="monthly")
    r = p.rebalances.pivot(index="time", columns="symbol", values="after")
    listed = r.index < b.index[0]
    assert np.allclose(r.B[listed], r.A[listed])  # half the equity, idle, until B trades
    assert p.sleeves.B.loc[: b.index[0]].nunique() <= len(r[listed]) + 1
    assert (p.positions.B.loc[: b.index[0]] == 0).all()
    ended = r.index >= b.index[-1]
    assert (r.B[ended] == 0).all()  # B's value moved to A once B had no more bars
    assert np.allclose(p.sleeves.sum(axis=1), p.equity.equity)
    assert (p.trades["size"] > 0).all()


def test_weights_schedules_and_symbols_are_checked_first():
    syms = ["ALPHA", "BRAVO", "CHARLIE"]
    with pytest.raises(EngineError, match=r"weights sum to 0\.9; they must sum to 1"):
        backtest_portfolio(CAT, "sma_cross", symbols=syms, weights=[0.5, 0.3, 0.1])
    with pytest.raises(EngineError, match="2 weights for 3 symbols"):
        backtest_portfolio(CAT, "sma_cross", symbols=syms, weights="0.5,0.5")
    with pytest.raises(EngineError, match="positive"):
        backtest_portfolio(CAT, "sma_cross", symbols=syms, weights=[1.2, -0.1, -0.1])
    with pytest.raises(EngineError, match="rebalance must be one of none, monthly, weekly"):
        backtest_portfolio(CAT, "sma_cross", symbols=syms, rebalance="daily")
    with pytest.raises(EngineError, match="sizing by fraction"):
        backtest_portfolio(CAT, "sma_cross", symbols=syms, rebalance="weekly", units=10)
    with pytest.raises(UnknownSymbolError, match="did you mean CHARLIE"):
        backtest_portfolio(CAT, "sma_cross", symbols=["ALPHA", "CHARLY"])
    with pytest.raises(DataError, match="the limit is 500"):
        backtest_portfolio(CAT, "sma_cross", symbols=[f"X{i}" for i in range(1000)])
    with pytest.raises(ParamError, match="BRAVO: sma_cross: slow=300 needs more than 300 bars"):
        backtest_portfolio({"ALPHA": CAT.get("ALPHA"), "BRAVO": CAT.get("BRAVO").iloc[:200]},
                           "sma_cross", {"slow": 300})  # fmt: skip
    p = backtest_portfolio(CAT, "sma_cross", symbols=syms, weights={"charlie": 0.2,
                           "ALPHA": 0.5, "BRAVO": 0.3})  # fmt: skip
    assert p.weights.to_dict() == {"ALPHA": 0.5, "BRAVO": 0.3, "CHARLIE": 0.2}
    assert "PortfolioResult sma_cross on ALPHA, BRAVO, CHARLIE" in repr(p)
