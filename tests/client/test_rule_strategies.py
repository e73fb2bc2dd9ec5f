"""Rule strategies and order settings from the kernel: a real ChatOpsClient on a real server.

``create_strategy(name=..., entry=..., exit=..., stop_loss=..., fast=12)`` stores rules;
``trigger_backtest("dip", stop_loss=0.05)``, ``sweep("x", ...)`` and ``compare_strategies`` take
names and order settings (typed ``startRun.orders``); results are the engine's DataFrames.
"""

from __future__ import annotations

import pytest

from chatops_widget import ChatOpsClient, engine
from chatops_widget.client._requests import command_text, run_fields
from chatops_widget.protocol import ProtocolError, StartRun
from chatops_widget.server import EmbeddedServer, standard_plugins


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    srv = EmbeddedServer(
        data_dir=tmp_path_factory.mktemp("client-rules"), plugins=standard_plugins(assistant=False)
    ).start()
    c = ChatOpsClient(srv.url, srv.token, timeout=20)
    c.create_session("client-rules")
    yield c
    c.close()
    srv.stop()


def test_orders_go_into_the_typed_request():
    fields = run_fields("backtest", ["dip"], {"stop_loss": 0.05, "trailing_stop": (14, 3),
                                              "whole_units": True, "fast": 12})  # fmt: skip
    assert fields["orders"] == {"stop_loss": 0.05, "trailing_stop": "atr(14)*3",
                                "whole_units": True}  # fmt: skip
    assert fields["params"] == {"fast": 12}
    req = StartRun(sessionId="session_1", **fields)
    assert req.command_text() == (
        "/run_backtest dip stop_loss=0.05 trailing_stop='atr(14)*3' whole_units=true fast=12"
    )
    text = command_text("create_strategy", [], {"name": "x", "entry": "ema($fast) > close",
                                                "stop_loss": "5%", "fast": 12})  # fmt: skip
    assert text == "/create_strategy name=x entry='ema($fast) > close' stop_loss=5% fast=12"


def test_create_run_sweep_and_compare_rule_strategies(client):
    dip = client.create_strategy(name="dip", symbol="ALPHA", entry="rsi(14) < 30 and close > "
                                 "sma(200)", exit="rsi(14) > 70", stop_loss=0.05,
                                 take_profit="12%")  # fmt: skip
    x = client.create_strategy(name="x", entry="crosses_above(ema($fast), ema($slow))",
                               exit="crosses_below(ema($fast), ema($slow))", fast=12, slow=26,
                               where="$fast < $slow")  # fmt: skip
    frame = client.strategies
    assert frame.loc[dip, "name"] == "dip" and frame.loc[dip, "template"] == "rule"
    assert frame.loc[dip, "orders"] == {"stop_loss": 0.05, "take_profit": 0.12}
    assert frame.loc[x, "rule"]["where"] == "$fast < $slow"

    res = client.trigger_backtest("dip").result(timeout=60)
    rule = engine.RuleStrategy(entry="rsi(14) < 30 and close > sma(200)", exit="rsi(14) > 70")
    local = engine.backtest(engine.catalog.get("ALPHA"), rule, stop_loss=0.05, take_profit=0.12)
    assert res.trades["exit_reason"].tolist() == local.trades["exit_reason"].tolist()
    assert res.stats["total_return"] == pytest.approx(local.stats["total_return"])
    tighter = client.trigger_backtest("dip", stop_loss=0.01, take_profit="none").result(60)
    assert set(tighter.trades["exit_reason"]) <= {"stop_loss", "signal", "end"}

    table = client.sweep("x", "ALPHA", fast=range(5, 51, 5), slow=range(20, 201, 10),
                         split="2021-01-01")  # fmt: skip
    assert len(table) == 190 - 16 and table.attrs["skipped"] == 16  # fast >= slow: where
    assert {"fast", "slow", "sharpe", "oos_sharpe", "sqn", "bars_per_year"} <= set(table.columns)
    cmp = client.compare_strategies("dip", "x", "strategy_1", stop_loss=0.03)
    assert list(cmp.stats.columns) == [dip, x, "strategy_1"]
    assert cmp.stats.loc["num_trades"].notna().all()


def test_bad_rules_and_orders_raise_at_once_with_the_engines_words(client):
    with pytest.raises(ProtocolError, match=r"entry: unknown function 'rsl' at 1 \(did you mean"):
        client.create_strategy(name="bad", entry="rsl(14) < 30", exit="rsi(14) > 70")
    with pytest.raises(ProtocolError, match="stop_loss is a fraction of the entry price"):
        client.trigger_backtest("strategy_1", stop_loss=5)
    with pytest.raises(ProtocolError, match="give one way of sizing"):
        client.sweep("strategy_1", fast=[5, 10], size=0.5, units=3)
    with pytest.raises(ProtocolError, match="is a template's name"):
        client.create_strategy(name="ema_cross", entry="close > 1", exit="close < 1")
