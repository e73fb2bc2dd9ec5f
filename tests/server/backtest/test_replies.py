"""What the backtest replies say, on the real server: cost rates at full precision and the
amounts paid, the period of a run, a neutral way to fetch results, and comparisons that say
when their strategies cover different symbols, periods or bar frequencies."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from chatops_widget import engine
from chatops_widget._serialization import from_arrow_bytes, to_arrow_bytes
from chatops_widget.server import EmbeddedServer, standard_plugins


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = EmbeddedServer(
        data_dir=tmp_path_factory.mktemp("replies-data"), plugins=standard_plugins(assistant=False)
    ).start()
    yield srv
    srv.stop()


async def _joined(raw_client_cls, srv, sid):
    c = await raw_client_cls(srv.url, srv.token).connect()
    assert (await c.call("joinSession", sid))["ok"]
    return c


async def _run(c, sid, text, timeout=60.0):
    ack = await c.call("executeCommand", {"sessionId": sid, "command": text})
    assert ack["ok"], ack
    res = await c.wait_event("commandResult", lambda r: r["command"] == text, timeout=timeout)
    assert res["ok"], res
    reply = await c.wait_event(
        "message",
        lambda m: m["role"] == "assistant" and m["metadata"]["commandResult"]["command"] == text,
        timeout=timeout,
    )
    return res, reply["content"]


def test_backtest_reply_shows_cost_rates_amounts_period_and_a_neutral_python_hint(
    server, raw_client_cls, arun
):
    async def scenario():
        sid = "session_replies_costs"
        c = await _joined(raw_client_cls, server, sid)
        res, text = await _run(c, sid, "/run_backtest strategy_1 commission=0.0005 spread=0.0002")
        st = res["summary"]["stats"]
        local = engine.backtest(
            engine.sample_catalog().get("ALPHA"), "sma_cross", {"fast": 10, "slow": 30},
            commission=0.0005, spread=0.0002,
        ).stats  # fmt: skip
        assert st["commissions_paid"] == pytest.approx(local["commissions_paid"])
        assert st["spread_paid"] == pytest.approx(local["spread_paid"]) and st["spread_paid"] > 0
        assert "commission 0.05 % of notional per fill, spread 0.02 % of price per entry" in text
        paid_c = engine.format_stat("commissions_paid", local["commissions_paid"])
        paid_s = engine.format_stat("spread_paid", local["spread_paid"])
        assert f"paid {paid_c} in commissions + {paid_s} in spread" in text
        assert "0.001" not in text and "0.00 %" not in text
        assert "on ALPHA, 2015-01-02..2024-12-31, 2,608 bars" in text
        run_id = res["runId"]
        assert f"In Python: `results['{run_id}']`" in text
        assert "`w.results[...]` on a panel `w`" in text and "`client.results[...]`" in text
        assert f"client.results['{run_id}']" not in text  # the notebook may have no `client`

        _, free = await _run(c, sid, "/run_backtest strategy_1")
        assert "costs: none (commission 0 %, spread 0 %)" in free
        await c.close()

    arun(scenario(), timeout=120)


def _hourly(symbol: str, n: int = 3000) -> pd.DataFrame:
    idx = pd.date_range("2023-01-02 09:00", periods=n, freq="h")
    close = 100 * np.exp(np.cumsum(np.random.default_rng(7).normal(0, 0.002, n)))
    df = pd.DataFrame({"Open": close, "High": close * 1.001, "Low": close * 0.999,
                       "Close": close, "Volume": 1000.0}, index=idx)  # fmt: skip
    df.attrs["symbol"] = symbol
    return df


def test_comparison_of_different_symbols_periods_and_bar_sizes_says_so(
    server, raw_client_cls, arun
):
    async def scenario():
        sid = "session_replies_compare"
        c = await _joined(raw_client_cls, server, sid)
        res, _ = await _run(c, sid, "/create_strategy sma_cross symbol=BRAVO start=2019-01-01")
        later = res["summary"]["strategyId"]
        up = await c.call(
            "uploadData",
            {"sessionId": sid, "symbol": "HOURLY", "data": to_arrow_bytes(_hourly("HOURLY"))},
        )
        assert up["ok"], up
        res, _ = await _run(c, sid, "/create_strategy sma_cross symbol=HOURLY fast=10 slow=50")
        hourly = res["summary"]["strategyId"]

        res, text = await _run(c, sid, f"/compare_strategies strategy_1 {later} {hourly}")
        s = res["summary"]
        info = s["info"]
        assert info["strategy_1"]["symbol"] == "ALPHA" and info[later]["symbol"] == "BRAVO"
        assert info["strategy_1"]["start"] == "2015-01-02" and info[later]["start"] >= "2019-01-01"
        assert info["strategy_1"]["bars"] == 2608 and info[hourly]["bars"] == 3000
        assert info["strategy_1"]["frequency"] == "daily" and info[hourly]["frequency"] == "hourly"
        assert s["common"] == [info[hourly]["start"], info[hourly]["end"]]  # inside the rest
        assert len(s["warnings"]) == 2
        assert "different periods" in s["warnings"][0] and "common period" in s["warnings"][0]
        assert "different bar frequencies" in s["warnings"][1]
        for w in s["warnings"]:
            assert f"**Warning:** {w}" in text
        for row in ("| symbol | ALPHA | BRAVO | HOURLY |", "| frequency | daily | daily | hourly |",
                    "| bars | 2,608 |", "| start | 2015-01-02 |"):  # fmt: skip
            assert row in text, (row, text)

        got = await c.call("getResult", {"sessionId": sid, "runId": res["runId"]})
        bench = from_arrow_bytes(got["benchmark"])
        assert list(bench.columns) == ["ALPHA", "BRAVO", "HOURLY"]
        alpha = engine.sample_catalog().get("ALPHA")["Close"]
        assert bench["ALPHA"].dropna().iloc[-1] == pytest.approx(
            1e6 * alpha.iloc[-1] / alpha.iloc[0]
        )
        assert got["meta"]["summary"]["info"] == info

        res, text = await _run(c, sid, "/compare_strategies strategy_1 strategy_2")
        assert res["summary"]["warnings"] == [] and "Warning" not in text
        assert list(from_arrow_bytes(
            (await c.call("getResult", {"sessionId": sid, "runId": res["runId"]}))["benchmark"]
        ).columns) == ["ALPHA"]  # fmt: skip
        await c.close()

    arun(scenario(), timeout=180)
