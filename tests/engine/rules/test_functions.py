"""Every rule function: its definition checked against TA-Lib or pandas, its warm-up, and the
crossing and three-valued-logic rules."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import talib  # test-only dependency (pyproject [test]: TA-Lib)
from backtesting.test import GOOG

from chatops_widget.engine._sim import Bars
from chatops_widget.engine.rules import FUNCTIONS, language, parse_rule
from chatops_widget.engine.rules._eval import Evaluator

BARS = Bars.from_frame(GOOG.rename(columns=str.title))
H, L, C = BARS.high, BARS.low, BARS.close


def values(expr: str, bars: Bars = BARS, **params) -> np.ndarray:
    """The numeric value of ``expr`` on ``bars`` (one combination)."""
    tree = parse_rule(f"{expr} > 0")
    return np.broadcast_to(Evaluator(bars, [params]).num(tree.left), (1, bars.n))[0]


def same(a, b, tol=1e-9):
    a, b = np.asarray(a, float), np.asarray(b, float)
    assert np.array_equal(np.isnan(a), np.isnan(b)), (np.isnan(a).sum(), np.isnan(b).sum())
    np.testing.assert_allclose(a[~np.isnan(a)], b[~np.isnan(b)], rtol=tol, atol=1e-9)


def test_every_function_is_documented_with_a_valid_example():
    lang = language()
    assert {f["name"] for f in lang["functions"]} == set(FUNCTIONS)
    wanted = ("sma ema wma rsi atr stdev bb_upper bb_lower bb_mid highest lowest roc macd "
              "macd_signal adx crosses_above crosses_below").split()  # fmt: skip
    assert set(wanted) <= set(FUNCTIONS)
    for f in FUNCTIONS.values():
        assert len(f.doc) > 20 and f.signature.startswith(f.name + "(")
        assert parse_rule(f.example).kind == "condition", f.example


@pytest.mark.parametrize("w", [2, 14, 50])
def test_against_ta_lib(w):
    same(values(f"sma({w})"), talib.SMA(C, w))
    same(values(f"wma({w})"), talib.WMA(C, w))
    same(values(f"stdev({w})"), talib.STDDEV(C, w))
    same(values(f"highest(high, {w})"), talib.MAX(H, w))
    same(values(f"lowest(low, {w})"), talib.MIN(L, w))
    same(values(f"roc({w})"), talib.ROCR(C, w) - 1)
    same(values(f"atr({w})"), talib.ATR(H, L, C, w))
    same(values(f"adx({w})"), talib.ADX(H, L, C, w), tol=1e-8)
    up, mid, low = talib.BBANDS(C, w, 2.5, 2.5, 0)
    same(values(f"bb_upper({w}, 2.5)"), up)
    same(values(f"bb_mid({w})"), mid)
    same(values(f"bb_lower({w}, k=2.5)"), low)


@pytest.mark.parametrize("w", [2, 14, 50])
def test_recursive_averages_against_pandas(w):
    # EMA and RSI start at the first bar (pandas ewm, adjust=False) as the templates do;
    # TA-Lib seeds them with a simple average instead, so they differ in the first windows
    c = pd.Series(C)
    ema = c.ewm(span=w, adjust=False).mean().to_numpy().copy()
    ema[: w - 1] = np.nan
    same(values(f"ema({w})"), ema)
    d = c.diff().fillna(0.0)
    up = d.clip(lower=0).ewm(alpha=1 / w, adjust=False).mean()
    dn = (-d).clip(lower=0).ewm(alpha=1 / w, adjust=False).mean()
    rsi = (100 - 100 / (1 + up / dn)).to_numpy().copy()
    rsi[:w] = np.nan
    same(values(f"rsi({w})"), rsi)
    macd = c.ewm(span=12, adjust=False).mean() - c.ewm(span=26, adjust=False).mean()
    macd[:25] = np.nan
    same(values("macd()"), macd)
    sig = macd.iloc[25:].ewm(span=w, adjust=False).mean().reindex(c.index)
    sig.iloc[: 25 + w - 1] = np.nan
    same(values(f"macd_signal(signal={w})"), sig)
    assert np.nanmax(np.abs(values(f"ema({w})") - talib.EMA(C, w))[10 * w :]) < 1e-6 * C.max()


def test_nested_series_start_at_their_first_defined_bar():
    inner = values("rsi(14)")
    nested = values("sma(rsi(14), 5)")
    assert np.isnan(nested[:18]).all() and not np.isnan(nested[18])
    same(nested[14:], pd.Series(inner[14:]).rolling(5).mean())


@pytest.mark.parametrize(
    "expr,params",
    [
        ("sma($n)", {"n": 20}), ("ema(high, 9)", {}), ("wma(30)", {}), ("rsi(7)", {}),
        ("stdev(10)", {}), ("bb_upper(15, 1.5)", {}), ("bb_lower()", {}), ("bb_mid(12)", {}),
        ("highest(high, 20)[1]", {}), ("lowest(8)", {}), ("roc(5)", {}), ("macd(5, 13)", {}),
        ("macd_signal(close, 8, 21, 5)", {}), ("atr(10)", {}), ("adx(7)", {}),
        ("sma(rsi(14), 5)", {}), ("ema(sma(10), $k)[$j]", {"k": 4, "j": 3}),
        ("(close - sma(50)) / atr(14)", {}),
    ],
)  # fmt: skip
def test_warmup_is_the_count_of_leading_undefined_bars(expr, params):
    v = values(expr, **params)
    tree = parse_rule(f"{expr} > 0").left
    lead = int(np.argmax(~np.isnan(v)))
    assert tree.warmup(params) == lead, (expr, tree.warmup(params), lead)
    assert not np.isnan(v[lead:]).any()


def _fires(rule: str, close, **params):
    idx = pd.date_range("2020-01-01", periods=len(close), freq="D")
    c = np.asarray(close, float)
    bars = Bars.from_frame(pd.DataFrame(
        {"Open": c, "High": c, "Low": c, "Close": c, "Volume": 0.0}, index=idx))  # fmt: skip
    return Evaluator(bars, [params]).fires(parse_rule(rule))[0].tolist()


def test_crossing_ignores_touches_and_the_warm_up():
    #         0  1  2  3  4  5  6  7
    close = [5, 1, 3, 3, 4, 2, 3, 4]
    assert _fires("crosses_above(close, 3)", close) == [0, 0, 0, 0, 1, 0, 0, 1]
    assert _fires("crosses_below(close, 3)", close) == [0, 1, 0, 0, 0, 1, 0, 0]
    # close vs its 2-bar mean: nothing on the first defined bar
    assert _fires("crosses_above(close, sma(2))", [1, 2, 1, 2]) == [0, 0, 0, 1]


def test_three_valued_logic_keeps_the_warm_up_silent():
    close = list(range(1, 11))
    assert _fires("not close < sma(5)", close) == [0] * 4 + [1] * 6  # undefined stays so
    assert _fires("close > sma(5) or True", close) == [1] * 10  # true or unknown: true
    assert _fires("close > sma(5) and False", close) == [0] * 10
    assert _fires("close[2] < close", close) == [0, 0] + [1] * 8
    assert _fires("crosses_above(close, 4)[1]", close) == [0] * 5 + [1] + [0] * 4
    assert _fires("close > $x", close, x=7) == [0] * 7 + [1] * 3
    assert _fires("close / (close - close) > 0", close) == [1] * 10  # x / 0 = inf, no error
