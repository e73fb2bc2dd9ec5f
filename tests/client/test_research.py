"""Research runs from the kernel: walk_forward, compare_universe / compare_strategies(symbols=),
trigger_backtest(symbols=) / backtest_portfolio -- real clients on a real server; results are
the engine's own classes with DataFrames, equal to computing them in the notebook."""

from __future__ import annotations

import threading

import numpy as np
import pandas as pd
import pytest

from chatops_widget import ChatOpsClient, engine
from chatops_widget.client import RunFailed
from chatops_widget.client._research import start_fields
from chatops_widget.protocol import ProtocolError, StartRun
from chatops_widget.server import EmbeddedServer, standard_plugins

CAT = engine.sample_catalog()


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    srv = EmbeddedServer(
        data_dir=tmp_path_factory.mktemp("client-research"),
        plugins=standard_plugins(assistant=False),
    ).start()
    a = ChatOpsClient(srv.url, srv.token, timeout=30)
    b = ChatOpsClient(srv.url, srv.token, timeout=30)
    b.join_session(a.create_session("research"))
    yield a, b
    a.close()
    b.close()
    srv.stop()


def test_keyword_arguments_become_typed_research_requests():
    f = start_fields("comparison", ["strategy_1", "strategy_2"], {"symbols": "alpha,bravo"})
    assert f == {"kind": "universe", "targets": ["strategy_1", "strategy_2"],
                 "symbols": ["ALPHA", "BRAVO"]}  # fmt: skip
    f = start_fields("backtest", ["sma_cross"], {"symbols": ["A", "B"], "weights": {"b": 0.4,
                     "a": 0.6}, "fast": 5, "start": pd.Timestamp("2020-01-01")})  # fmt: skip
    assert f["weights"] == [0.6, 0.4] and f["params"] == {"fast": 5} and f["kind"] == "portfolio"
    f = start_fields("walkforward", ["sma_cross"], {"symbol": "ALPHA", "train": 500,
                     "test": "6m", "anchored": True, "min_trades": 2, "fast": [5, 10]})  # fmt: skip
    req = StartRun(sessionId="session_1", **f)
    assert req.command_text() == (
        "/walkforward sma_cross symbol=ALPHA train=500 test=6m anchored=true min_trades=2 fast=5,10"
    )
    assert start_fields("backtest", ["strategy_1"], {"fast": 5})["kind"] == "backtest"


def test_walk_forward_returns_the_engines_result(pair):
    a, b = pair
    grid = {"fast": range(5, 30, 5), "slow": [40, 80]}
    wf = a.walk_forward("sma_cross", "CHARLIE", train="2y", test="1y", commission=0.001, **grid)
    assert isinstance(wf, engine.WalkForwardResult)
    local = engine.walk_forward(CAT.get("CHARLIE"), "sma_cross", grid, train="2y", test="1y",
                                commission=0.001)  # fmt: skip
    pd.testing.assert_frame_equal(wf.windows, local.windows, check_dtype=False)
    pd.testing.assert_frame_equal(wf.equity, local.equity, check_freq=False, check_dtype=False)
    for k in local.stats.index:
        assert wf.stats[k] == pytest.approx(local.stats[k], rel=1e-12, nan_ok=True), k
    assert wf.symbol == "CHARLIE" and wf.info["train"] == "2y" and not wf.info["partial"]
    assert len(wf.trades) == local.stats["num_trades"]
    # the other member of the session gets the same result from client.results
    run_id = a.runs.run_id.iloc[-1]
    other = b.results[run_id]
    assert other.windows.equals(wf.windows)


def test_compare_strategies_over_symbols_is_a_universe_with_pivot(pair):
    a, _ = pair
    u = a.compare_strategies("strategy_1", "strategy_2", symbols=["ALPHA", "BRAVO", "ECHO"])
    assert isinstance(u, engine.UniverseResult)
    assert u.strategies == ["strategy_1", "strategy_2"] and u.symbols == ["ALPHA", "BRAVO", "ECHO"]
    p = u.pivot("sharpe")
    bt = engine.backtest(CAT.get("ECHO"), "ema_cross", {"fast": 12, "slow": 26})
    assert p.loc["strategy_2", "ECHO"] == pytest.approx(bt.stats["sharpe"], rel=1e-12)
    assert u.summary("total_return").index[0] in u.strategies
    everything = a.compare_universe("strategy_1", "buy_and_hold", symbols="*")
    assert everything.symbols == CAT.symbols() and len(everything.table) == 10


def test_portfolio_from_trigger_backtest_and_backtest_portfolio(pair):
    a, _ = pair
    run = a.trigger_backtest("strategy_1", symbols=["ALPHA", "BRAVO"], weights=[0.7, 0.3],
                             rebalance="weekly", commission=0.001)  # fmt: skip
    p = run.result(timeout=120)
    assert isinstance(p, engine.PortfolioResult) and p.symbols == ["ALPHA", "BRAVO"]
    local = engine.backtest_portfolio(CAT, "sma_cross", {"fast": 10, "slow": 30},
                                      symbols=["ALPHA", "BRAVO"], weights=[0.7, 0.3],
                                      rebalance="weekly", commission=0.001)  # fmt: skip
    assert np.allclose(p.equity["equity"], local.equity["equity"], rtol=1e-12)
    pd.testing.assert_frame_equal(p.sleeves, local.sleeves, check_freq=False)
    assert p.weights.tolist() == [0.7, 0.3] and p.info["rebalance"] == "weekly"
    assert p.stats["num_trades"] == local.stats["num_trades"]
    same = a.backtest_portfolio("strategy_1", "ALPHA,BRAVO", weights=[0.7, 0.3],
                                rebalance="weekly", commission=0.001)  # fmt: skip
    assert np.allclose(same.equity["equity"], p.equity["equity"])


def test_bad_research_input_raises_at_once(pair):
    a, _ = pair
    runs = len(a.runs)
    with pytest.raises(ProtocolError, match=r"weights sum to 0\.5"):
        a.trigger_backtest("strategy_1", symbols=["ALPHA", "BRAVO"], weights=[0.2, 0.3])
    with pytest.raises(ProtocolError, match="the limit is 500"):
        a.compare_universe("strategy_1", symbols=[f"S{i}" for i in range(1000)])
    with pytest.raises(ProtocolError, match="did you mean ECHO"):
        a.compare_universe("strategy_1", symbols=["ALPHA", "ECHOO"])
    with pytest.raises(ProtocolError, match="do not fit the data"):
        a.walk_forward("sma_cross", "ALPHA", train="8y", test="4y", fast=[5, 10])
    with pytest.raises(ProtocolError, match="ZULU"):
        a.walk_forward("sma_cross", "ZULU", train="2y", test="6m", fast=[5, 10])
    with pytest.raises(ProtocolError, match="1,000 symbols given; the limit is 500"):
        a.backtest_portfolio("strategy_1", [f"S{i}" for i in range(1000)])
    with pytest.raises(ProtocolError, match="unknown symbol CHARLY"):
        a.backtest_portfolio("strategy_1", ["ALPHA", "CHARLY"], weights=[0.5, 0.5])
    with pytest.raises(ProtocolError, match=r"weights sum to 1\.2"):
        a.backtest_portfolio("strategy_1", ["ALPHA", "BRAVO"], weights={"ALPHA": 0.6, "BRAVO": 0.6})
    assert len(a.runs) == runs  # no run was started


def test_a_cancelled_walk_forward_keeps_its_finished_windows(pair):
    a, _ = pair
    run = a.walk_forward("sma_cross", "DELTA", train=300, test=25, block=False, min_trades=1,
                         fast=range(2, 60, 2), slow=range(10, 300, 5))  # fmt: skip
    started = threading.Event()

    def watch():
        while run.progress < 3 and not run.done:
            started.wait(0.05)
        run.cancel()

    t = threading.Thread(target=watch)
    t.start()
    with pytest.raises(RunFailed) as info:
        run.result(timeout=180)
    t.join()
    assert info.value.status == "cancelled"
    part = info.value.partial
    assert isinstance(part, engine.WalkForwardResult) and part.info["partial"]
    assert 0 < len(part.windows) < 93 and part.stats["windows"] == len(part.windows)
