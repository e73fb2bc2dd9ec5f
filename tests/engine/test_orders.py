"""Stops, targets and sizing: fill rules by hand, agreement with the vectorized model, sweeps
and the errors for bad settings (see chatops_widget.engine._events)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from chatops_widget.engine import STAT_NAMES, EngineError, backtest, sweep, templates

from .conftest import make_ohlcv


def bars(rows, start="2020-01-01"):
    """OHLC from (open, high, low, close) rows."""
    o, h, lo, c = (np.array(x, dtype=float) for x in zip(*rows, strict=True))
    idx = pd.date_range(start, periods=len(o), freq="D")
    return pd.DataFrame({"Open": o, "High": h, "Low": lo, "Close": c}, index=idx)


FLAT = (100, 101, 99, 100)


def test_stop_fills_at_the_stop_or_at_a_gapped_open():
    # buy_and_hold enters at bar 1's open (100); stop 5 % below: 95
    touch = bars([FLAT, FLAT, (99, 100, 94, 96), FLAT])
    t = backtest(touch, "buy_and_hold", stop_loss=0.05).trades.iloc[0]
    assert (t.exit_bar, t.exit_price, t.exit_reason) == (2, 95.0, "stop_loss")
    gap = bars([FLAT, FLAT, (90, 92, 89, 91), FLAT])
    t = backtest(gap, "buy_and_hold", stop_loss=0.05).trades.iloc[0]
    assert (t.exit_bar, t.exit_price, t.exit_reason) == (2, 90.0, "stop_loss")
    # a target gapped through fills at the (better) open; on the entry bar it is checked too
    up = bars([FLAT, (100, 111, 99, 110), (115, 116, 114, 115), FLAT])
    t = backtest(up, "buy_and_hold", take_profit=0.1).trades.iloc[0]
    assert (t.exit_bar, t.exit_price, t.exit_reason) == (1, pytest.approx(110.0), "take_profit")
    later = bars([FLAT, FLAT, (115, 116, 114, 115), FLAT])
    t = backtest(later, "buy_and_hold", take_profit=0.1).trades.iloc[0]
    assert (t.exit_bar, t.exit_price, t.exit_reason) == (2, 115.0, "take_profit")


def test_a_bar_touching_stop_and_target_takes_the_stop_unless_it_opened_beyond_one():
    both = bars([FLAT, FLAT, (100, 111, 94, 100), FLAT])
    t = backtest(both, "buy_and_hold", stop_loss=0.05, take_profit=0.1).trades.iloc[0]
    assert (t.exit_price, t.exit_reason) == (pytest.approx(95.0), "stop_loss")  # pessimistic
    opened_high = bars([FLAT, FLAT, (112, 113, 94, 100), FLAT])
    t = backtest(opened_high, "buy_and_hold", stop_loss=0.05, take_profit=0.1).trades.iloc[0]
    assert (t.exit_price, t.exit_reason) == (112.0, "take_profit")  # hit first, at the open


def test_short_stops_mirror():
    # momentum(1, short) goes short at bar 2's open after a falling close, holds while closes
    # fall (bars 2, 3), and would turn long at bar 5's open after bar 4's rise
    df = bars([FLAT, (100, 101, 97, 98), (98, 99, 95, 96), (96, 97, 94, 95),
               (96, 101, 95, 100), (100, 101, 99, 100)])  # fmt: skip
    r = backtest(df, "momentum", {"lookback": 1, "short": True}, stop_loss=0.04, cash=1000.0)
    t = r.trades.iloc[0]
    assert t.direction == "short" and t.entry_bar == 2 and t.entry_price == 98
    # stop 4 % above 98 = 101.92; bar 4's high 101 stays below; target none -> signal/end
    assert t.exit_reason in ("signal", "end")
    r = backtest(df, "momentum", {"lookback": 1, "short": True}, stop_loss=0.02, cash=1000.0)
    t = r.trades.iloc[0]
    assert (t.exit_bar, t.exit_price, t.exit_reason) == (4, pytest.approx(99.96), "stop_loss")


def test_trailing_stop_moves_at_closes_only():
    # entry at 100 (bar 1's open); closes 104, 110 raise the level to 110 * 0.95 = 104.5 for
    # bar 4, which dips to 104 -> out at 104.5. Bar 3's own high (120) does not move it.
    df = bars([FLAT, (100, 105, 99, 104), (104, 120, 103, 110), (110, 111, 106, 107),
               (107, 108, 104, 105), FLAT])  # fmt: skip
    t = backtest(df, "buy_and_hold", trailing_stop=0.05).trades.iloc[0]
    assert (t.exit_bar, t.exit_price, t.exit_reason) == (4, pytest.approx(104.5), "trailing_stop")
    # with a tighter fixed stop below, the trailing one binds; with stop_loss above it, not
    t = backtest(df, "buy_and_hold", trailing_stop=0.05, stop_loss=0.02).trades.iloc[0]
    assert t.exit_reason == "trailing_stop"


def test_after_a_stop_a_template_waits_for_the_next_signal():
    r = backtest(make_ohlcv(100 + 10 * np.sin(np.arange(300) / 7)), "sma_cross",
                 {"fast": 3, "slow": 12}, stop_loss=0.01)  # fmt: skip
    plain = backtest(make_ohlcv(100 + 10 * np.sin(np.arange(300) / 7)), "sma_cross",
                     {"fast": 3, "slow": 12})  # fmt: skip
    assert (r.trades.exit_reason == "stop_loss").sum() > 3
    # every entry is an entry of the plain run (a crossover), never a re-entry after a stop
    assert set(r.trades.entry_bar) <= set(plain.trades.entry_bar)
    stopped = r.trades[r.trades.exit_reason == "stop_loss"]
    assert (r.equity.position.iloc[stopped.exit_bar + 1] == 0).all()


@pytest.mark.parametrize("name", sorted(templates()))
@pytest.mark.parametrize("short", [False, True])
def test_event_model_without_triggers_equals_the_vectorized_model(walk, name, short):
    params = {"short": short} if "short" in templates()[name].param_names else {}
    kw = dict(cash=50_000.0, commission=0.002, spread=0.001)
    fast = backtest(walk, name, params, **kw)
    slow = backtest(walk, name, params, **kw, stop_loss=0.999, take_profit=99.0)
    np.testing.assert_allclose(slow.equity.equity, fast.equity.equity, rtol=1e-10)
    assert slow.equity.position.tolist() == fast.equity.position.tolist()
    cols = ["entry_bar", "exit_bar", "direction", "exit_reason", "closed_at_end"]
    pd.testing.assert_frame_equal(slow.trades[cols], fast.trades[cols])
    for c in ("entry_price", "exit_price", "size", "pnl", "commission"):
        np.testing.assert_allclose(slow.trades[c], fast.trades[c], rtol=1e-9, atol=1e-6)
    for s in STAT_NAMES:
        assert slow.stats[s] == pytest.approx(fast.stats[s], rel=1e-8, abs=1e-9, nan_ok=True)


@pytest.mark.parametrize("size", [0.25, 0.5, 1.0])
def test_size_fraction_vectorized_equals_event_model(walk, size):
    kw = dict(cash=50_000.0, commission=0.002, spread=0.001, size=size)
    p = {"fast": 5, "slow": 20, "short": True}
    fast = backtest(walk, "sma_cross", p, **kw)
    slow = backtest(walk, "sma_cross", p, **kw, stop_loss=0.999)
    np.testing.assert_allclose(slow.equity.equity, fast.equity.equity, rtol=1e-10)
    np.testing.assert_allclose(slow.trades["size"], fast.trades["size"], rtol=1e-9)
    first = fast.trades.iloc[0]
    assert first["size"] * first.entry_price * 1.002 == pytest.approx(size * 50_000.0)
    assert fast.trades.pnl.sum() == pytest.approx(fast.equity.equity.iloc[-1] - 50_000.0)


def test_risk_units_and_whole_units():
    df = bars([FLAT, FLAT, (99, 100, 94, 96), FLAT, FLAT])
    r = backtest(df, "buy_and_hold", cash=10_000.0, stop_loss=0.05, risk=0.01)
    t = r.trades.iloc[0]
    assert t["size"] == pytest.approx(0.01 * 10_000 / (100 * 0.05))  # 20 units
    assert t.pnl == pytest.approx(-100.0)  # the stop loses exactly risk * equity (no costs)
    capped = backtest(df, "buy_and_hold", cash=10_000.0, stop_loss=0.05, risk=0.5, size=0.3)
    assert capped.trades["size"].iloc[0] == pytest.approx(30.0)  # 0.3 * 10k / 100
    fixed = backtest(df, "buy_and_hold", cash=10_000.0, units=7)
    assert fixed.trades["size"].iloc[0] == 7
    whole = backtest(df, "buy_and_hold", cash=10_050.0, whole_units=True, commission=0.001)
    assert whole.trades["size"].iloc[0] == 100  # floor(10050 / 100.1)
    assert whole.equity.equity.iloc[1] == pytest.approx(10_050 - 100 * 100 * 0.001)
    poor = backtest(df, "buy_and_hold", cash=50.0, whole_units=True)
    assert len(poor.trades) == 0 and poor.stats.final_equity == 50.0  # 0 units: skipped


@pytest.mark.parametrize(
    "kw,fragment",
    [
        ({"stop_loss": 5}, "stop_loss is a fraction of the entry price"),
        ({"stop_loss": "five"}, "stop_loss must be a number such as 0.05 or '5%'"),
        ({"take_profit": -0.1}, "take_profit is a fraction"),
        ({"trailing_stop": 1.5}, "trailing_stop is a fraction below the highest close"),
        ({"trailing_stop": "atr(x)*3"}, "trailing_atr must look like 'atr(14)*3'"),
        ({"trailing_atr": (14.5, 3)}, "ATR window must be a whole number"),
        ({"trailing_atr": (14, 0)}, "trailing_atr's multiple is the number of ATRs"),
        ({"trailing_stop": 0.05, "trailing_atr": (14, 3)}, "give one trailing stop"),
        ({"size": 1.5}, "size is the fraction of equity each entry uses"),
        ({"risk": 0.01}, "it needs stop_loss="),
        ({"units": 5, "size": 0.5}, "give one way of sizing"),
        ({"units": 2.5, "whole_units": True}, "units=2.5 is not a whole number"),
        ({"whole_units": "maybe"}, "whole_units must be true or false"),
        ({"trailing_atr": (900, 2)}, "needs more than 900 bars of data"),
    ],
)
def test_bad_order_settings_say_what_is_right(walk, kw, fragment):
    with pytest.raises(EngineError, match=None) as err:
        backtest(walk, "sma_cross", **kw)
    assert fragment in str(err.value)


def test_percent_strings_and_atr_strings_are_accepted(walk):
    a = backtest(walk, "sma_cross", stop_loss="5%", trailing_stop="atr(14)*3")
    b = backtest(walk, "sma_cross", stop_loss=0.05, trailing_atr=(14, 3.0))
    pd.testing.assert_frame_equal(a.trades, b.trades)
    assert a.info["trailing_atr"] == [14, 3.0] and a.info["stop_loss"] == 0.05


def test_sweep_with_stops_equals_single_backtests_and_splits(walk):
    grid = {"fast": [3, 8], "slow": [20, 40], "short": [False, True]}
    kw = dict(commission=0.001, stop_loss=0.03, take_profit=0.06, trailing_stop=0.05, size=0.8)
    table = sweep(walk, "sma_cross", grid, chunk_size=3, **kw)
    assert table.attrs["orders"]["take_profit"] == 0.06
    for row in table.to_dict("records"):
        params = {p: row[p] for p in grid}
        st = backtest(walk, "sma_cross", params, **kw).stats
        for name in STAT_NAMES:
            assert row[name] == pytest.approx(st[name], rel=1e-9, nan_ok=True), (params, name)
    cut = walk.index[300]
    t = sweep(walk, "sma_cross", grid, split=cut, **kw)
    oos = sweep(walk.iloc[300:], "sma_cross", grid, **kw)
    np.testing.assert_allclose(t.oos_sharpe, oos.sharpe, rtol=1e-12, equal_nan=True)
    with pytest.raises(EngineError, match="unknown argument"):
        sweep(walk, "sma_cross", grid, stoploss=0.1)
