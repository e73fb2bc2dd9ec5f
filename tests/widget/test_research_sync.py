"""What the panel is sent of a research result: JSON, curves downsampled, tables as rows."""

from __future__ import annotations

import json

import numpy as np

from chatops_widget import engine
from chatops_widget.widget._sync import MAX_POINTS, result_payload

CAT = engine.sample_catalog()


def test_walkforward_payload():
    wf = engine.walk_forward(CAT.get("ALPHA"), "sma_cross", {"fast": [5, 10], "slow": [30, 60]},
                             train=500, test=250)  # fmt: skip
    msg = json.loads(json.dumps(result_payload(wf, {"runId": "run_wf"})))
    assert msg["kind"] == "walkforward" and msg["runId"] == "run_wf"
    s = msg["series"]
    assert len(s["t"]) <= MAX_POINTS and set(s) == {"t", "equity", "benchmark", "drawdown"}
    assert s["equity"][0] == 1_000_000  # the starting point, before the first test bar
    assert abs(s["equity"][-1] - wf.equity.equity.iloc[-1]) < 1  # 7 significant digits
    assert len(msg["windows"]) == len(wf.windows) == len(msg["paramSeries"]["fast"])
    assert msg["paramSeries"]["slow"] == wf.windows.slow.tolist()
    assert msg["windows"][0]["oos_return"] == wf.windows.oos_return.iloc[0]
    wfe = wf.stats["wfe"]
    assert msg["stats"]["wfe"] == (None if np.isnan(wfe) else wfe)
    assert msg["totalPoints"] == len(wf.equity)


def test_universe_payload():
    u = engine.compare_universe(CAT, ["sma_cross", "buy_and_hold"])
    msg = json.loads(json.dumps(result_payload(u, {"runId": "run_u"})))
    assert msg["kind"] == "universe" and msg["strategies"] == ["sma_cross", "buy_and_hold"]
    assert msg["symbols"] == CAT.symbols() and len(msg["rows"]) == 10
    assert {"sharpe", "total_return", "max_drawdown"} <= set(msg["metrics"])
    row = msg["rows"][0]
    assert row["sharpe"] == u.table.sharpe.iloc[0] and row["note"] == ""


def test_portfolio_payload():
    p = engine.backtest_portfolio(CAT, "sma_cross", symbols=["ALPHA", "BRAVO"], weights=[0.6, 0.4])
    msg = json.loads(json.dumps(result_payload(p, {"runId": "run_p"})))
    assert msg["kind"] == "portfolio" and msg["weights"] == [0.6, 0.4]
    n = len(msg["series"]["t"])
    assert n <= MAX_POINTS and all(len(v) == n for v in msg["contributions"].values())
    assert abs(msg["contributions"]["BRAVO"][-1] - p.contributions.BRAVO.iloc[-1]) < 1
    assert [r["symbol"] for r in msg["bySymbol"]] == ["ALPHA", "BRAVO"]
    assert sum(r["trades"] for r in msg["bySymbol"]) == len(p.trades)
