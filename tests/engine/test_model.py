"""The execution model, checked by hand on tiny series (see chatops_widget.engine._sim)."""

from __future__ import annotations

import numpy as np
import pytest

from chatops_widget.engine import EngineError, backtest, templates

from .conftest import make_ohlcv


def test_buy_and_hold_by_hand():
    df = make_ohlcv(close=[10, 11, 12, 9, 15], open_=[10, 10.5, 11, 12, 14])
    c = 0.01
    r = backtest(df, "buy_and_hold", cash=1000.0, commission=c)
    # signal on bar 0's close -> bought at bar 1's open (10.5) with notional 1000 / (1 + c)
    n0 = 1000.0 / (1 + c)
    units = n0 / 10.5
    expect = [1000.0, n0 * 11 / 10.5, n0 * 12 / 10.5, n0 * 9 / 10.5, units * 15 * (1 - c)]
    np.testing.assert_allclose(r.equity["equity"], expect, rtol=1e-12)
    assert r.equity["position"].tolist() == [0, 1, 1, 1, 1]
    t = r.trades.iloc[0]
    assert (t.entry_bar, t.exit_bar, t.entry_price, t.exit_price) == (1, 4, 10.5, 15.0)
    assert t.closed_at_end
    assert t["size"] == pytest.approx(units)
    assert t.pnl == pytest.approx(expect[-1] - 1000.0)
    assert t.commission == pytest.approx(c * n0 + c * units * 15)
    assert r.stats["total_return"] == pytest.approx(expect[-1] / 1000 - 1)
    assert r.stats["max_drawdown"] == pytest.approx(expect[3] / expect[2] - 1)
    assert r.stats["exposure"] == pytest.approx(4 / 5)


def test_spread_is_paid_once_on_entry_by_hand():
    df = make_ohlcv(close=[10, 11, 12, 9, 15], open_=[10, 10.5, 11, 12, 14])
    c, s = 0.01, 0.002
    r = backtest(df, "buy_and_hold", cash=1000.0, commission=c, spread=s)
    n0 = 1000.0 / (1 + c)  # notional at the adjusted price, plus its commission = equity
    px = 10.5 * (1 + s)  # a long pays the spread on entry ...
    units = n0 / px
    expect = [1000.0, n0 * 11 / px, n0 * 12 / px, n0 * 9 / px, units * 15 * (1 - c)]
    np.testing.assert_allclose(r.equity["equity"], expect, rtol=1e-12)
    t = r.trades.iloc[0]
    assert t.entry_price == pytest.approx(px) and t.exit_price == 15.0  # ... not on exit
    assert t.pnl == pytest.approx(expect[-1] - 1000.0)
    assert r.stats["spread"] == s
    with pytest.raises(EngineError, match=r"spread is the bid-ask spread .* got 0.5"):
        backtest(df, "buy_and_hold", spread=0.5)


def test_sma_cross_waits_for_first_crossover_and_fills_next_open():
    # fast(1)=close, slow(2): close above its 2-bar mean from the start -> no crossover yet
    close = [1, 2, 3, 4, 3, 2, 1, 2, 3, 4, 5]
    opens = [c + 0.5 for c in close]
    df = make_ohlcv(close, opens)
    r = backtest(df, "sma_cross", {"fast": 1, "slow": 2})
    d = np.array(close) - np.convolve(close, [0.5, 0.5])[: len(close)]
    # first sign change of d (valid from bar 1): bar 4 (down) -> flat; bar 7 (up) -> long
    assert d[3] > 0 and d[4] < 0 and d[6] < 0 and d[7] > 0
    assert r.equity["position"].tolist() == [0] * 8 + [1, 1, 1]
    assert r.trades.entry_bar.tolist() == [8]
    assert r.trades.entry_price.tolist() == [opens[8]]
    rs = backtest(df, "sma_cross", {"fast": 1, "slow": 2, "short": True})
    assert rs.equity["position"].tolist() == [0] * 5 + [-1, -1, -1, 1, 1, 1]
    assert rs.trades.direction.tolist() == ["short", "long"]
    assert rs.trades.exit_bar.tolist() == [8, 10]


def test_touch_is_not_a_cross():
    # fast == slow exactly on a bar and then back above: no exit
    close = [4, 2, 6, 4, 4, 8, 6]
    df = make_ohlcv(close)
    r = backtest(df, "sma_cross", {"fast": 1, "slow": 2})
    # d = close - sma2: [nan, -1, 2, -1, 0, 2, -1]: up at 2, down at 3, the touch at 4 keeps
    # "below", so bar 5 is a cross up (below -> touch -> above), bar 6 down (filled after the end)
    assert r.equity["position"].tolist() == [0, 0, 0, 1, 0, 0, 1]
    close2 = [4, 2, 6, 6, 8, 6]  # d: [nan, -1, 2, 0, 1, -1] -> the 0 keeps "above"
    r2 = backtest(make_ohlcv(close2), "sma_cross", {"fast": 1, "slow": 2})
    assert r2.equity["position"].tolist() == [0, 0, 0, 1, 1, 1]


def test_short_pnl_uses_units_held():
    df = make_ohlcv(close=[10, 10, 8, 5, 5], open_=[10, 10, 10, 6, 5])
    r = backtest(df, "momentum", {"lookback": 1, "short": True}, cash=100.0)
    # returns: bar1 0 -> flat; bar2 -0.2 -> short at bar 3 open (6); bar3 <0 still short
    assert r.equity["position"].tolist() == [0, 0, 0, -1, -1]
    # short 100/6 units from 6, marked at 5: +100/6
    assert r.equity["equity"].iloc[-1] == pytest.approx(100 + 100 / 6)


@pytest.mark.parametrize("name", sorted(templates()))
@pytest.mark.parametrize("short", [False, True])
@pytest.mark.parametrize("commission,spread", [(0.0, 0.0), (0.003, 0.0), (0.003, 0.001)])
def test_pnl_sums_to_equity_change(walk, name, short, commission, spread):
    params = {"short": short} if "short" in templates()[name].param_names else {}
    r = backtest(walk, name, params, cash=50_000.0, commission=commission, spread=spread)
    final = r.equity["equity"].iloc[-1]
    assert r.trades.pnl.sum() == pytest.approx(final - 50_000.0, rel=1e-9, abs=1e-6)
    assert r.stats["final_equity"] == pytest.approx(final)
    assert r.stats["num_trades"] == len(r.trades)
    if not short:
        assert (r.equity["position"] >= 0).all()
    # fills at the open of the bar after the signal
    pos = r.equity["position"].to_numpy()
    starts = np.flatnonzero(np.diff(pos) != 0) + 1
    opened = starts[pos[starts] != 0]
    assert r.trades.entry_bar.tolist() == opened.tolist()
    side = np.where(r.trades.direction == "long", 1.0, -1.0)
    np.testing.assert_allclose(
        r.trades.entry_price, walk["Open"].to_numpy()[opened] * (1 + spread * side)
    )
    assert (r.equity["drawdown"] <= 0).all()
    assert r.stats["max_drawdown"] == pytest.approx(r.equity["drawdown"].min())
