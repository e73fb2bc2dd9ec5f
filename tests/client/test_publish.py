"""client.publish: results made in a kernel (ours, backtesting.py's, vectorbt's) shared into the
session as runs, compared by name or run id with anything else, on a real server."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from backtesting import Backtest
from backtesting.test import GOOG

from chatops_widget import ChatOpsClient, engine
from chatops_widget.client import Comparison
from chatops_widget.protocol import ProtocolError
from chatops_widget.server import EmbeddedServer, standard_plugins

from ..engine.test_external import SmaCross


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    srv = EmbeddedServer(
        data_dir=tmp_path_factory.mktemp("publish-data"), plugins=standard_plugins(assistant=False)
    ).start()
    a = ChatOpsClient(srv.url, srv.token, timeout=20, name="alice")
    b = ChatOpsClient(srv.url, srv.token, timeout=20, name="bob")
    b.join_session(a.create_session("published"))
    yield a, b
    a.close()
    b.close()
    srv.stop()


def test_a_backtesting_py_result_becomes_a_run_of_the_session(pair, wait_until):
    a, b = pair
    stats = Backtest(GOOG, SmaCross, cash=10_000, commission=0.002, finalize_trades=True).run()
    run = a.publish(stats, name="bt_sma")
    mine = run.result(timeout=30)
    want = engine.as_result(stats)
    pd.testing.assert_frame_equal(mine.trades, want.trades)
    np.testing.assert_allclose(mine.equity["equity"], want.equity["equity"])
    assert mine.stats["total_return"] == pytest.approx(stats["Return [%]"] / 100, rel=1e-12)
    assert mine.stats["buy_hold_return"] == pytest.approx(want.stats["buy_hold_return"])
    theirs = wait_until(lambda: run.run_id in b.results and b.results[run.run_id], 20)
    pd.testing.assert_frame_equal(theirs.trades, mine.trades)
    row = b.runs.set_index("run_id").loc[run.run_id]
    assert (row["started_by"], row["status"]) == ("alice", "completed")
    summary = b.results.summary(run.run_id)
    assert summary["published"] == {"by": "alice", "source": "backtesting.py"}
    said = [m["content"] for m in b.messages if "published **bt_sma**" in m["content"]]
    assert said and said[-1].startswith("alice published **bt_sma** (backtesting.py)")


def test_published_results_compare_by_name_and_by_run_id(pair):
    a, b = pair
    ours = engine.backtest(GOOG, "sma_cross", {"fast": 10, "slow": 30})
    run = a.publish(ours, name="ours_on_goog", data=GOOG)
    run.result(timeout=30)
    stats = Backtest(GOOG, SmaCross, cash=10_000, finalize_trades=True).run()
    bt = a.publish(stats, name="bt_plain")
    bt.result(timeout=30)
    cmp = b.compare_strategies("ours_on_goog", bt.run_id, "strategy_1")
    assert isinstance(cmp, Comparison)
    assert cmp.strategies == ["ours_on_goog", bt.run_id, "strategy_1"]
    assert cmp.stats.loc["sharpe", "ours_on_goog"] == pytest.approx(ours.stats["sharpe"])
    assert cmp.stats.loc["num_trades", bt.run_id] == len(stats["_trades"])
    assert len(cmp.equity.columns) == 3
    with pytest.raises(ProtocolError, match="is a finished run: it is compared as it ran"):
        b.compare_strategies("ours_on_goog", "strategy_1", start="2020-01-01")
    with pytest.raises(ProtocolError, match="is a template"):
        a.publish(ours, name="sma_cross")


def test_a_vectorbt_portfolio_becomes_a_run(pair):
    import vectorbt as vbt  # in the test extra (imported here: it takes seconds)

    a, b = pair
    close = GOOG.Close
    fast, slow = vbt.MA.run(close, 10), vbt.MA.run(close, 30)
    pf = vbt.Portfolio.from_signals(
        close,
        fast.ma_crossed_above(slow),
        fast.ma_crossed_below(slow),
        init_cash=10_000,
        fees=0.001,
    )
    run = a.publish(pf, name="vbt_sma")
    got = run.result(timeout=30)
    assert got.stats["total_return"] == pytest.approx(pf.total_return(), rel=1e-12)
    assert got.stats["num_trades"] == len(pf.positions.records_readable)
    cmp = b.compare_strategies("vbt_sma", "strategy_1")
    assert cmp.stats.loc["total_return", "vbt_sma"] == pytest.approx(pf.total_return())
