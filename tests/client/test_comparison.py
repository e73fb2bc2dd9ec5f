"""``client.compare_strategies`` tells what the panel tells: each strategy's symbol and period,
warnings when they differ, buy & hold per symbol, and curves rebased over the common period."""

from __future__ import annotations

import pandas as pd
import pytest

from chatops_widget import ChatOpsClient, engine
from chatops_widget.server import EmbeddedServer, standard_plugins


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    srv = EmbeddedServer(
        data_dir=tmp_path_factory.mktemp("cmp-data"), plugins=standard_plugins(assistant=False)
    ).start()
    c = ChatOpsClient(srv.url, srv.token, timeout=30)
    c.create_session("comparison")
    yield c
    c.close()
    srv.stop()


def test_comparison_has_info_warnings_benchmark_and_a_rebased_view(client):
    later = client.create_strategy("ema_cross", "BRAVO", start="2019-01-01", fast=5, slow=20)
    cmp = client.compare_strategies("strategy_1", later)
    info = cmp.info
    assert list(info.index) == ["strategy_1", later]
    assert info.loc["strategy_1", "symbol"] == "ALPHA" and info.loc[later, "symbol"] == "BRAVO"
    assert info.loc["strategy_1", "start"] == pd.Timestamp("2015-01-02")
    assert info.loc[later, "start"] >= pd.Timestamp("2019-01-01")
    assert info.loc["strategy_1", "bars"] == 2608
    assert set(info["frequency"]) == {"daily"}
    assert len(cmp.warnings) == 1 and "different periods" in cmp.warnings[0]
    assert "warning:" in repr(cmp)
    start, end = cmp.common
    assert start == info.loc[later, "start"] and end == pd.Timestamp("2024-12-31")

    assert list(cmp.benchmark.columns) == ["ALPHA", "BRAVO"]
    bravo = engine.sample_catalog().get("BRAVO")["Close"]
    bravo = bravo[bravo.index >= start]
    got = cmp.benchmark["BRAVO"].dropna()
    assert got.iloc[-1] / got.iloc[0] == pytest.approx(bravo.iloc[-1] / bravo.iloc[0])

    rebased = cmp.rebased()
    assert rebased.index[0] == start and rebased.index[-1] == end
    assert list(rebased.columns) == ["strategy_1", later, "buy & hold ALPHA", "buy & hold BRAVO"]
    assert rebased.iloc[0].tolist() == pytest.approx([100.0] * 4)
    eq = cmp.equity["strategy_1"]
    assert rebased["strategy_1"].iloc[-1] == pytest.approx(100 * eq.iloc[-1] / eq[start])
    assert list(cmp.rebased(benchmark=False).columns) == ["strategy_1", later]

    same = client.compare_strategies("strategy_1", "strategy_2")
    assert same.warnings == [] and list(same.benchmark.columns) == ["ALPHA"]
    assert same.common == (pd.Timestamp("2015-01-02"), pd.Timestamp("2024-12-31"))
