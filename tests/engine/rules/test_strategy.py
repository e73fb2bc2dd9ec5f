"""RuleStrategy: works wherever a template does, with the same numbers as the templates it can
express; params, validation, serialization, stops and re-entry."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from chatops_widget.engine import (
    STAT_NAMES,
    ParamError,
    RuleError,
    RuleStrategy,
    backtest,
    expand_grid,
    sweep,
    templates,
)
from chatops_widget.engine.rules import TEMPLATE_RULES, template_rule

EMA = dict(entry="crosses_above(ema($fast), ema($slow))",
           exit="crosses_below(ema($fast), ema($slow))")  # fmt: skip


def ema_rule(**kw):
    return RuleStrategy(**EMA, params={"fast": 12, "slow": 26}, where="$fast < $slow", **kw)


CASES = [(n, s) for n, t in sorted(templates().items())
         for s in ([False, True] if "short" in t.param_names else [False])]  # fmt: skip


@pytest.mark.parametrize("name,short", CASES)
def test_every_template_as_a_rule_gives_identical_results(alpha, name, short):
    assert set(TEMPLATE_RULES) == set(templates())
    rule = template_rule(name, short)
    params = {"short": short} if "short" in templates()[name].param_names else {}
    a = backtest(alpha, name, params, commission=0.001, spread=0.0005)
    b = backtest(alpha, rule, commission=0.001, spread=0.0005)
    pd.testing.assert_frame_equal(a.equity, b.equity)
    pd.testing.assert_frame_equal(a.trades, b.trades)
    assert a.stats.drop("bars").equals(b.stats.drop("bars"))


@pytest.mark.parametrize("short", [False, True])
def test_rule_sweep_rows_equal_the_template_sweep(alpha, short):
    grid = {"fast": [3, 5, 10, 20], "slow": [10, 30, 60]}
    tpl = sweep(alpha, "ema_cross", {**grid, "short": [short]}, commission=0.001, chunk_size=5)
    rule = template_rule("ema_cross", short)
    got = sweep(alpha, rule, grid, commission=0.001, chunk_size=3)
    assert got.attrs["skipped"] == tpl.attrs["skipped"] == 2 and len(got) == 10
    for name in STAT_NAMES:  # (beta's matrix product may round differently per chunk size)
        np.testing.assert_allclose(got[name], tpl[name], rtol=1e-13, atol=0, err_msg=name)


def test_backtest_sweep_split_and_grid_accept_a_rule(alpha):
    s = ema_rule(name="ema_x")
    r = backtest(alpha, s, {"fast": "10", "slow": 40})
    assert r.strategy == "ema_x" and r.params == {"fast": 10, "slow": 40}
    assert r.info["strategy"] == "ema_x"
    combos, skipped = expand_grid(s, {"fast": [5, 40], "slow": [20, 40]}, alpha.shape[0])
    assert [(c["fast"], c["slow"]) for c in combos] == [(5, 20), (5, 40)] and skipped == 2
    t = sweep(alpha, s, {"fast": [5, 10], "slow": [30, 60]}, split="2020-01-01")
    cut = alpha.index.searchsorted(pd.Timestamp("2020-01-01"))
    oos = sweep(alpha.iloc[cut:], s, {"fast": [5, 10], "slow": [30, 60]})
    np.testing.assert_allclose(t.oos_sharpe, oos.sharpe, rtol=1e-12)
    assert t.attrs["strategy"] == "ema_x"
    with pytest.raises(ParamError, match="where \\$fast < \\$slow is false for fast=30, slow=20"):
        backtest(alpha, s, {"fast": 30, "slow": 20})
    with pytest.raises(ParamError, match="needs more than 5001 bars of data, but the data has"):
        backtest(alpha, s, {"slow": 5000, "fast": 2})


def test_each_distinct_indicator_is_computed_once_per_sweep(alpha, monkeypatch):
    from chatops_widget.engine import _indicators

    calls = []
    real = _indicators.ema
    monkeypatch.setattr(_indicators, "ema", lambda x, w: calls.append(w) or real(x, w))
    windows = list(range(5, 40, 5))
    t = sweep(alpha, ema_rule(), {"fast": windows, "slow": windows}, chunk_size=4)
    assert len(t) == 21
    assert sorted(calls) == windows  # 7 EMAs for 21 pairs in 6 chunks, both rules


def test_params_are_typed_from_their_use():
    s = RuleStrategy("rsi($n) < $lo and close > sma($slow)[$k]", "rsi($n) > $hi",
                     {"n": 14, "lo": 30, "hi": 70.5, "slow": {"default": 200, "max": 400,
                      "doc": "trend filter"}, "k": 1})  # fmt: skip
    spec = {p.name: (p.type, p.default, p.min, p.max) for p in s.params}
    assert spec == {"n": (int, 14, 2, 100_000), "lo": (int, 30, None, None),
                    "slow": (int, 200, 1, 400), "k": (int, 1, 0, 100_000),
                    "hi": (float, 70.5, None, None)}  # fmt: skip
    assert s.validate({"lo": "25", "slow": "300"})["slow"] == 300
    with pytest.raises(ParamError, match="must be in \\[1, 400\\], got 500"):
        s.validate({"slow": 500})
    with pytest.raises(ParamError, match=r"must be an int, got 2\.5"):
        s.validate({"n": 2.5})


@pytest.mark.parametrize(
    "kwargs,error,fragment",
    [
        (dict(entry="close > sma($n)", exit="False"), RuleError,
         "entry: $n at 13 has no default; give params={'n': ...}"),
        (dict(entry="close > sma($fast)", exit="False", params={"fats": 5}), RuleError,
         "(did you mean $fats?)"),
        (dict(entry="close > sma($n)", exit="False", params={"n": 5, "x": 1}), ParamError,
         "parameter 'x' is not used by any rule"),
        (dict(entry="close > sma($n)", exit="False", params={"n": 5.5}), ParamError,
         "$n is a window (a whole number of bars) at 13, but its default is 5.5"),
        (dict(entry="close > sma($n)", exit="False", params={"n": "abc"}), ParamError,
         "$n must have a number as default"),
        (dict(entry="close > sma($n)", exit="False", params={"n": True}), ParamError,
         "must have a number as default"),
        (dict(entry="close > sma($n)", exit="False", params={"n": {"dflt": 5}}), ParamError,
         "is a default value or a dict with 'default'"),
        (dict(entry="close > sma($n)", exit="False", params={"n": 0}), ParamError,
         "must be in [1, 100000], got 0"),
        (dict(entry="close > 1", exit="False", short_entry="close < 1"), RuleError,
         "give short_entry and short_exit together"),
        (dict(entry="close > 1", exit="False", where="close > 1"), RuleError,
         "where: may only compare $params and numbers"),
        (dict(entry="close > sma($n)", exit="False", params={"n": 5}, where="$m > 1"),
         RuleError, "where: $m at 1 is not used in any rule"),
        (dict(entry="close > 1", exit="sma(5)"), RuleError, "exit: 'sma(5)' is a number"),
        (dict(entry="close > 1", exit="False", name=""), ParamError, "name is 1 to 64"),
    ],
)  # fmt: skip
def test_bad_strategies_say_what_is_wrong(kwargs, error, fragment):
    with pytest.raises(error) as err:
        RuleStrategy(**kwargs)
    assert fragment in str(err.value), str(err.value)


def test_serializes_to_a_plain_dict_and_back():
    s = RuleStrategy("rsi(14) < $lo", "rsi(14) > 70", {"lo": {"default": 30, "min": 5}},
                     short_entry="rsi(14) > 80", short_exit="rsi(14) < 50", name="dip",
                     description="buy the dip")  # fmt: skip
    d = json.loads(json.dumps(s.to_dict()))
    assert d["kind"] == "rule" and d["params"]["lo"]["min"] == 5
    back = RuleStrategy.from_dict(d)
    assert back == s and hash(back) == hash(s) and back.params == s.params
    json.dumps(s.spec())
    assert s.spec()["entry"] == "rsi(14) < $lo" and s.spec()["params"][0]["name"] == "lo"
    assert "dip" in repr(s) and "dip" in s._repr_html_()
    with pytest.raises(ParamError, match="unknown key 'entyr' \\(did you mean 'entry'\\?\\)"):
        RuleStrategy.from_dict({**d, "entyr": "x"})
    with pytest.raises(RuleError, match="'exit' is missing"):
        RuleStrategy.from_dict({"entry": "close > 1"})


def test_after_a_stop_a_rule_re_enters_on_its_next_true_entry(walk):
    always = RuleStrategy("close > 0", "False", name="always")
    r = backtest(walk, always, stop_loss=0.02)
    t = r.trades
    assert (t.exit_reason == "stop_loss").sum() > 5
    stopped = t[t.exit_reason == "stop_loss"]
    # the entry condition holds on the stop bar's close: back in at the next open
    nxt = t.entry_bar.to_numpy()[1:][t.exit_reason.to_numpy()[:-1] == "stop_loss"]
    assert (nxt == stopped.exit_bar.to_numpy()[: len(nxt)] + 1).all()
    # an entry on a crossing event re-enters only at the next crossing
    once = RuleStrategy("crosses_above(close, sma(20))", "False", name="once")
    r = backtest(walk, once, stop_loss=0.02)
    d = walk.Close - walk.Close.rolling(20).mean()
    crossings = np.flatnonzero((d > 0) & (d.shift(1) < 0))  # no exact ties in this data
    assert len(r.trades) > 3 and set(r.trades.entry_bar) <= set(crossings + 1)


def test_short_rules_and_volume(walk):
    s = RuleStrategy("close > sma(10) and volume > 0", "close < sma(10)", short_entry="False",
                     short_exit="True")  # fmt: skip
    r = backtest(walk, s)
    assert (r.equity.position >= 0).all() and len(r.trades) > 3
