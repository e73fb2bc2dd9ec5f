"""Templates: self-description and parameter validation with clear errors."""

from __future__ import annotations

import json

import pytest

from chatops_widget.engine import (
    ParamError,
    UnknownStrategyError,
    backtest,
    get_template,
    sweep,
    templates,
)

EXPECTED = {
    "sma_cross",
    "ema_cross",
    "rsi_reversion",
    "bollinger",
    "momentum",
    "donchian_breakout",
    "buy_and_hold",
}


def test_all_templates_self_describe():
    ts = templates()
    assert set(ts) == EXPECTED
    for name, t in ts.items():
        spec = t.spec()
        json.dumps(spec)  # JSON-able for /help and autocomplete
        assert spec["name"] == name and len(spec["description"]) > 20
        for p in spec["params"]:
            assert set(p) == {"name", "type", "default", "min", "max", "doc"}
            assert p["type"] in {"int", "float", "bool"} and p["doc"]
        assert t.validate(None, n_bars=10_000) == t.defaults()
        assert name in t._repr_html_()
    sma = ts["sma_cross"].spec()["params"]
    assert [(p["name"], p["default"]) for p in sma] == [
        ("fast", 10),
        ("slow", 30),
        ("short", False),
    ]


@pytest.mark.parametrize(
    "params,param,fragment",
    [
        ({"fats": 5}, "fats", "did you mean 'fast'"),
        ({"fast": 2.5}, "fast", "must be an int"),
        ({"fast": "ten"}, "fast", "must be int"),
        ({"fast": True}, "fast", "got bool"),
        ({"short": "maybe"}, "short", "must be a bool"),
        ({"fast": 30, "slow": 20}, "fast", "must be smaller than slow"),
        ({"fast": 20, "slow": 20}, "fast", "must be smaller than slow"),
        ({"fast": 0}, "fast", "must be in [1,"),
        ({"slow": 600}, "slow", "needs more than 600 bars"),
    ],
)
def test_sma_cross_bad_params_name_the_parameter(params, param, fragment):
    with pytest.raises(ParamError) as ei:
        get_template("sma_cross").validate(params, n_bars=500)
    assert ei.value.param == param
    assert fragment in str(ei.value)
    assert param in str(ei.value)


def test_chat_style_strings_are_coerced():
    t = get_template("SMA_Cross")
    assert t.validate({"fast": "5", "slow": "20.0", "short": "yes"}) == {
        "fast": 5,
        "slow": 20,
        "short": True,
    }
    assert get_template("bollinger").validate({"k": "1.5"})["k"] == 1.5


def test_other_cross_parameter_rules():
    with pytest.raises(ParamError, match=r"lower .* must be below upper") as ei:
        get_template("rsi_reversion").validate({"lower": 80, "upper": 20})
    assert ei.value.param == "lower"
    with pytest.raises(ParamError, match="exit_window=300 needs more than 301 bars"):
        get_template("donchian_breakout").validate({"exit_window": 300}, n_bars=200)
    with pytest.raises(ParamError, match="takes no parameters"):
        get_template("buy_and_hold").validate({"x": 1})


def test_unknown_strategy_suggests():
    with pytest.raises(UnknownStrategyError, match="did you mean 'sma_cross'"):
        get_template("sma_crosss")


def test_backtest_rejects_window_longer_than_data(walk):
    with pytest.raises(ParamError, match="the data has 600"):
        backtest(walk, "momentum", {"lookback": 700})


@pytest.mark.parametrize("name", sorted(EXPECTED - {"buy_and_hold"}))
def test_sweep_rows_equal_single_backtests(walk, name):
    t = templates()[name]
    first = t.params[0]
    lo = int(first.default) if first.type is int else first.default
    grid = {first.name: [lo, lo + 4 if first.type is int else lo * 1.5], "short": [False, True]}
    table = sweep(walk, name, grid, commission=0.001, chunk_size=3)
    assert len(table) == 4
    for row in table.to_dict("records"):
        params = {p: row[p] for p in t.param_names}
        st = backtest(walk, name, params, commission=0.001).stats
        for stat in ("total_return", "sharpe", "max_drawdown", "num_trades", "exposure"):
            assert row[stat] == pytest.approx(st[stat], rel=1e-9, nan_ok=True), (params, stat)
