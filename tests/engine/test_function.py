"""FunctionStrategy: a Python function's positions, validated and backtested like any strategy.

Whole positions must give the templates' own results; fractional targets are checked by hand
and, on whole targets, against the engine's usual paths (vectorized and path-dependent).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from chatops_widget.engine import (
    FunctionStrategy,
    Orders,
    ParamError,
    RuleStrategy,
    StrategyOutputError,
    backtest,
    sweep,
)
from chatops_widget.engine._backtest import run_sim
from chatops_widget.engine._fractional import simulate_fractional
from chatops_widget.engine._sim import Bars

from .conftest import make_ohlcv


def sma_cross(data, fast=10, slow=30, short=False):
    """The sma_cross template written as a function: no position before the first crossover,
    a tie keeps the side before it."""
    f, s = data.Close.rolling(fast).mean(), data.Close.rolling(slow).mean()
    side = np.sign(f - s).replace(0.0, np.nan).ffill()
    started = (side.ne(side.shift()) & side.shift().notna()).cummax()
    pos = side.clip(lower=-1.0 if short else 0.0)
    return pos.where(started, 0.0).fillna(0.0)


def test_whole_positions_give_the_templates_results(alpha):
    fn = FunctionStrategy(sma_cross, {"fast": 10, "slow": 30, "short": False})
    for short in (False, True):
        for orders in (
            {},
            {"stop_loss": 0.05, "take_profit": 0.1},
            {"size": 0.5},
            {"trailing_stop": "atr(14)*3", "whole_units": True},
        ):
            mine = backtest(alpha, fn, {"short": short}, commission=0.001, spread=0.0005, **orders)
            tpl = backtest(
                alpha, "sma_cross", {"short": short}, commission=0.001, spread=0.0005, **orders
            )
            # the template's crossover signal holds its level (the same targets after warm-up)
            assert mine.equity["position"].dtype == np.int8
            pd.testing.assert_series_equal(mine.stats, tpl.stats, rtol=1e-12)
            assert mine.trades["exit_reason"].tolist() == tpl.trades["exit_reason"].tolist()


def test_an_entry_exit_pair_is_a_rule_strategy(alpha):
    def dip(data, n=14, lo=30):
        delta = data.Close.diff()
        up = delta.clip(lower=0).ewm(alpha=1 / n, adjust=False).mean()
        down = (-delta.clip(upper=0)).ewm(alpha=1 / n, adjust=False).mean()
        rsi = (100 - 100 / (1 + up / down)).where(np.arange(len(data)) >= n)  # its warm-up
        return rsi < lo, rsi > 70

    fn = FunctionStrategy(dip, {"n": 14, "lo": 30})
    rule = RuleStrategy(entry="rsi($n) < $lo", exit="rsi($n) > 70", params={"n": 14, "lo": 30})
    for orders in ({}, {"stop_loss": 0.03}):
        a = backtest(alpha, fn, commission=0.001, **orders)
        b = backtest(alpha, rule, commission=0.001, **orders)
        assert len(a.trades) == len(b.trades) > 3
        np.testing.assert_allclose(a.equity["equity"], b.equity["equity"], rtol=1e-9)


@pytest.mark.parametrize("short", [False, True])
@pytest.mark.parametrize(
    "orders",
    [
        {},
        {"size": 0.7},
        {"stop_loss": 0.04, "take_profit": 0.08},
        {"trailing_stop": 0.05},
        {"trailing_atr": (14, 2.0), "size": 0.5},
        {"stop_loss": 0.05, "risk": 0.01},
        {"units": 30.0},
        {"whole_units": True, "stop_loss": 0.03},
    ],
)
def test_the_fractional_model_on_whole_targets_is_the_engines(walk, short, orders):
    bars = Bars.from_frame(walk)
    tpl = FunctionStrategy(sma_cross, {"fast": 5, "slow": 20, "short": short})
    combos = [tpl.validate({"fast": f, "slow": s}) for f, s in ((5, 20), (8, 40), (3, 11))]
    o = Orders.from_kwargs(**orders)
    ref = run_sim(tpl, bars, combos, 1e5, 0.001, 0.0004, o)
    pos, _ = tpl.positions(bars, combos)
    mine = simulate_fractional(bars, pos.astype(float), None, 1e5, 0.001, 0.0004, o)
    np.testing.assert_allclose(mine.equity, ref.equity, rtol=1e-10)
    np.testing.assert_array_equal(mine.held, ref.held)
    for field in ("col", "entry_bar", "exit_bar", "direction", "reason"):
        np.testing.assert_array_equal(getattr(mine.trades, field), getattr(ref.trades, field))
    for field in ("entry_price", "exit_price", "units", "notional", "pnl", "commission"):
        np.testing.assert_allclose(
            getattr(mine.trades, field), getattr(ref.trades, field), rtol=1e-10
        )


def test_fractional_targets_resize_and_trade_only_the_difference():
    close = [100.0, 100, 110, 121, 121, 110, 110]
    df = make_ohlcv(close)  # open == close
    targets = [0.5, 0.5, 1.0, 1.0, -0.25, 0.0, 0.0]  # decided at closes, filled next open
    fn = FunctionStrategy(
        lambda data: pd.Series(targets, index=data.index), name="steps", lookahead_check=False
    )
    c = 0.001
    r = backtest(df, fn, cash=1000.0, commission=c)
    assert r.equity["position"].tolist() == [0.0, 0.5, 0.5, 1.0, 1.0, -0.25, 0.0]
    # bar 1: buy 0.5 * 1000 / (100 * 1.001) units at 100
    u1 = 0.5 * 1000 / (100 * (1 + c))
    m1 = 1000 - u1 * 100 - c * u1 * 100
    assert r.equity["equity"].iloc[1] == pytest.approx(m1 + u1 * 100)
    # bar 3: at the open (121) re-size to a whole position on the equity then: buy the rest
    e3 = m1 + u1 * 121
    u3 = e3 / (121 * (1 + c))
    m3 = m1 - (u3 - u1) * 121 * (1 + c)
    assert r.equity["equity"].iloc[3] == pytest.approx(m3 + u3 * 121)
    # bar 5: the sign flips: sell everything at 110, then short a quarter
    e5 = m3 + u3 * 110 - c * u3 * 110
    u5 = 0.25 * e5 / (110 * (1 + c))
    m5 = e5 + u5 * 110 - c * u5 * 110
    assert r.equity["equity"].iloc[5] == pytest.approx(m5 - u5 * 110)
    final = m5 - u5 * 110 - c * u5 * 110  # bar 6: flat again
    assert r.equity["equity"].iloc[-1] == pytest.approx(final)
    t = r.trades
    assert t["direction"].tolist() == ["long", "short"]
    assert t["size"].iloc[0] == pytest.approx(u3)  # the units it added
    assert t["entry_price"].iloc[0] == pytest.approx((u1 * 100 + (u3 - u1) * 121) / u3)
    assert t["commission"].iloc[0] == pytest.approx(c * (u1 * 100 + (u3 - u1) * 121 + u3 * 110))
    assert t["pnl"].sum() == pytest.approx(r.equity["equity"].iloc[-1] - 1000.0)
    assert r.stats["exposure"] == pytest.approx(5 / 7)


def test_fractional_targets_take_stops_and_sweeps(alpha):
    def scaled(data, lookback=60, z=1.0):
        r = data.Close.pct_change(lookback)
        return (r / (z * r.rolling(250).std())).fillna(0.0).clip(-1, 1)

    fn = FunctionStrategy(scaled, {"lookback": 60, "z": 1.0})
    r = backtest(alpha, fn, stop_loss=0.05, commission=0.001)
    assert r.equity["position"].dtype == np.float64
    assert "stop_loss" in set(r.trades["exit_reason"])
    assert r.trades["pnl"].sum() == pytest.approx(r.equity["equity"].iloc[-1] - 1e6)
    table = sweep(alpha, fn, {"lookback": [20, 60, 120], "z": [1.0, 2.0]}, commission=0.001)
    assert len(table) == 6
    one = backtest(alpha, fn, {"lookback": 120, "z": 2.0}, commission=0.001)
    row = table[(table.lookback == 120) & (table.z == 2.0)].iloc[0]
    assert row["sharpe"] == pytest.approx(one.stats["sharpe"], rel=1e-12)


def test_params_are_inferred_from_defaults_and_validated():
    def f(data, lookback=60, z=1.0, short=False, shift=-2):
        return data.Close * 0

    s = FunctionStrategy(f, {"lookback": 60, "z": 1.0, "short": False, "shift": -2})
    spec = {p.name: (p.type.__name__, p.min, p.max) for p in s.params}
    assert spec == {
        "lookback": ("int", 0, 100_000),
        "z": ("float", 0.0, None),
        "short": ("bool", None, None),
        "shift": ("int", None, None),
    }
    assert s.validate({"lookback": "90", "short": "true"})["lookback"] == 90
    with pytest.raises(ParamError, match=r"'z' must be in \[0.0, inf\], got -1.0"):
        s.validate({"z": -1})
    with pytest.raises(ParamError, match=r"unknown parameter 'lookbak' \(did you mean"):
        s.validate({"lookbak": 5})
    with pytest.raises(ParamError, match="clash with the run option symbol="):
        FunctionStrategy(lambda data, symbol=1: data.Close * 0, {"symbol": 1})
    with pytest.raises(ParamError, match="must accept the declared parameters"):
        FunctionStrategy(lambda data: data.Close * 0, {"lookback": 5})
    with pytest.raises(ParamError, match="int, a float or a bool"):
        FunctionStrategy(lambda data, mode="a": data.Close * 0, {"mode": "a"})
    bounded = FunctionStrategy(f, {"lookback": {"default": 60, "min": 10, "max": 250}})
    with pytest.raises(ParamError, match=r"must be in \[10, 250\], got 300"):
        bounded.validate({"lookback": 300})


@pytest.mark.parametrize(
    ("ret", "message"),
    [
        (lambda d: d.Close.iloc[:-5] * 0, "another index than the data's .* 5 bars of the data"),
        (lambda d: np.zeros(3), r"shape \(3,\); the data has 60 bars"),
        (lambda d: d.Close.pct_change(), r"NaN/inf positions at 1 bar .*fillna\(0\)"),
        (lambda d: d.Close / d.Close * 1.5, r"outside \[-1, 1\] at 60 bars \(first 1.5"),
        (lambda d: "long", "returned str as positions"),
        (lambda d: (d.Close > 0,), "a tuple of 1"),
        (lambda d: (d.Close, d.Close > 0), "entry of dtype float64"),
        (lambda d: d[["Open", "Close"]], "DataFrame with 2 columns"),
        (lambda d: d.Close.astype(str), "dtype object"),
    ],
)
def test_wrong_returns_say_what_is_wrong(ret, message):
    df = make_ohlcv(np.linspace(100, 130, 60))
    with pytest.raises(StrategyOutputError, match=message):
        backtest(df, FunctionStrategy(ret, name="bad", lookahead_check=False))


def test_a_boolean_series_means_long_where_true_and_exceptions_pass_through(alpha):
    above = FunctionStrategy(lambda d: d.Close > d.Close.rolling(50).mean(), name="above")
    assert set(backtest(alpha, above).equity["position"].unique()) == {0, 1}

    def broken(data, k=1):
        return data.Close / 0 if k else 1 / 0

    with pytest.raises(ZeroDivisionError):
        backtest(alpha, FunctionStrategy(broken, {"k": 0}))


def test_looking_ahead_is_refused(alpha):
    def peek(data):
        return (data.Close.shift(-1) > data.Close).astype(float)

    with pytest.raises(StrategyOutputError, match="uses data from after the bar it decides on"):
        backtest(alpha, FunctionStrategy(peek))

    def zscore(d):  # normalized with the mean and deviation of the whole sample
        return ((d.Close - d.Close.mean()) / (3 * d.Close.std())).clip(-1, 1)

    full_sample = FunctionStrategy(zscore)
    with pytest.raises(StrategyOutputError, match="lookahead_check=False"):
        backtest(alpha, full_sample)
    assert backtest(alpha, FunctionStrategy(peek, lookahead_check=False)).stats["sharpe"] > 3
