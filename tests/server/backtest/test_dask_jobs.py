"""Backtests on Dask (``CHATOPS_JOBS=dask``): a real server and a real client over loopback.

A real ``distributed.LocalCluster`` (one in-process worker thread) started by the test is the
"remote" scheduler the server connects to through ``CHATOPS_DASK_SCHEDULER``; another test uses
the default: a local cluster of worker processes the server creates in its own start-up.
"""

from __future__ import annotations

import asyncio
import sys
import time

import distributed  # the test extra installs it (chatops-widget[dask])
import numpy as np
import pandas as pd
import pytest

from chatops_widget import ChatOpsClient, engine
from chatops_widget.client import RunFailed
from chatops_widget.server import EmbeddedServer, standard_plugins
from chatops_widget.server.backtest.jobs.dask_pool import DaskPool

LONG_GRID = {"fast": range(2, 101), "slow": range(10, 111), "short": [True, False]}


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, dashboard_address="127.0.0.1:0"
    ) as c:
        yield c


@pytest.fixture(scope="module")
def served(cluster, tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CHATOPS_JOBS", "dask")
        mp.setenv("CHATOPS_DASK_SCHEDULER", cluster.scheduler_address)
        srv = EmbeddedServer(
            data_dir=tmp_path_factory.mktemp("dask-data"), plugins=standard_plugins(assistant=False)
        )
        srv.start()
    client = ChatOpsClient(srv.url, srv.token, timeout=20)
    client.create_session("dask")
    yield srv, client
    client.close()
    srv.stop()


def test_run_backtest_runs_on_the_scheduler_and_matches_the_local_engine(
    served, cluster, wait_until
):
    srv, client = served
    pool = srv.server.plugin("backtest").service.jobs._pool
    assert isinstance(pool, DaskPool) and pool.address == cluster.scheduler_address
    progress: list[dict] = []
    client.on("backtestProgress", progress.append)
    client.execute_command("/run_backtest strategy_1 fast=12")
    run_id = wait_until(lambda: next(iter(client.results), None))
    client.off("backtestProgress", progress.append)
    values = [e["progress"] for e in progress if e.get("runId") == run_id]
    assert values == sorted(values) and values[-1] == 100
    res = client.results[run_id]
    want = engine.backtest(engine.sample_catalog().get("ALPHA"), "sma_cross", {"fast": 12})
    pd.testing.assert_frame_equal(res.equity, want.equity)
    pd.testing.assert_frame_equal(res.trades, want.trades)
    assert res.stats["sharpe"] == pytest.approx(want.stats["sharpe"])
    assert res.info["start"] == want.info["start"]
    assert "backtest_task" in cluster.scheduler.task_prefixes  # it ran on the Dask worker


def test_sweep_on_dask_gives_one_row_per_combination(served, cluster):
    _, client = served
    grid = {"fast": range(5, 30, 5), "slow": [20, 40, 60]}
    table = client.sweep("ema_cross", "CHARLIE", **grid)
    combos, _ = engine.expand_grid(engine.templates()["ema_cross"], grid, 2608)
    assert len(table) == len(combos)
    assert {(r.fast, r.slow) for r in table.itertuples()} == {
        (c["fast"], c["slow"]) for c in combos
    }
    assert table["sharpe"].is_monotonic_decreasing
    assert "sweep_task" in cluster.scheduler.task_prefixes


def test_progress_comes_through_dask_worker_events_in_order(served):
    srv, client = served
    pool = srv.server.plugin("backtest").service.jobs._pool
    assert pool.size == 1  # read from the scheduler: the cluster has one worker thread
    seen: list[dict] = []
    client.on("backtestProgress", seen.append)
    before = len(pool.events)
    # 19,800 combinations (the limit is 20,000): several tasks, each long enough to log progress
    grid = {"fast": range(2, 101), "slow": range(100, 300)}
    run = client.sweep("sma_cross", "ALPHA", block=False, **grid)
    run.result(timeout=120)
    client.off("backtestProgress", seen.append)
    events = pool.events[before:]
    by_key: dict[str, list[tuple[int, float]]] = {}
    for key, seq, fraction in events:
        by_key.setdefault(key, []).append((seq, fraction))
    assert len(by_key) >= 4 and all(k.startswith("sweep_task-") for k in by_key)
    for got in by_key.values():  # each task's events arrive in the order they were logged
        assert [s for s, _ in got] == list(range(1, len(got) + 1))
        assert [f for _, f in got] == sorted(f for _, f in got)
        # a task logs its first chunk at once (then at most every REPORT_EVERY s) and its end
        assert 0 < got[0][1] < 1 and got[-1][1] == 1
    steps = [e["progress"] for e in seen if e["runId"] == run.run_id]
    assert steps == sorted(steps) and steps[-1] == 100
    # progress inside a task (not only at task boundaries) reached the client: it came from
    # the worker's events; how many depends on the machine's speed, so count only that some did
    ends = {round(100 * i / len(by_key), 2) for i in range(len(by_key) + 1)}
    assert [s for s in steps if round(s, 2) not in ends]


def test_cancel_of_a_long_sweep_on_dask_stops_its_tasks(served, cluster, wait_until):
    _, client = served
    worker = next(iter(cluster.workers.values()))
    run = client.sweep("sma_cross", "ALPHA", block=False, **LONG_GRID)
    wait_until(lambda: run.progress > 0)
    wait_until(lambda: worker.state.executing_count > 0)
    t0 = time.monotonic()
    run.cancel()
    assert run.wait(timeout=30) == "cancelled"
    # the task running on the Dask worker sees its cancel Event at its next engine chunk
    wait_until(lambda: worker.state.executing_count == 0, timeout=10)
    assert time.monotonic() - t0 < 2.0
    assert run.progress < 100
    with pytest.raises(RunFailed) as info:
        run.result()
    assert info.value.status == "cancelled"
    assert run.run_id not in client.results


def test_uploaded_bars_reach_dask_workers_by_reference(served, cluster):
    srv, client = served
    df = engine.sample_catalog().get("DELTA").iloc[:1500]
    client.upload_data("DREF", df)
    svc = srv.server.plugin("backtest").service
    assert isinstance(svc.resolve.data("DREF", None, None).data, engine.DataRef)
    grid = {"fast": [5, 10], "slow": [20, 50]}
    table = client.sweep("sma_cross", "DREF", **grid)
    want = engine.sweep(df, "sma_cross", grid).set_index(["fast", "slow"])
    got = table.set_index(["fast", "slow"]).loc[want.index]
    np.testing.assert_allclose(got["sharpe"], want["sharpe"], rtol=1e-12)
    # nothing of DREF was scattered: only the bundled sample (held in memory) ever is
    assert all(key[0] != "DREF" for key in svc.jobs._pool._scattered)


def test_default_is_a_local_cluster_created_at_server_start(tmp_path, monkeypatch):
    monkeypatch.setenv("CHATOPS_JOBS", "dask")
    monkeypatch.delenv("CHATOPS_DASK_SCHEDULER", raising=False)
    monkeypatch.setenv("CHATOPS_WORKERS", "1")
    with EmbeddedServer(data_dir=tmp_path, plugins=standard_plugins(assistant=False)) as srv:
        pool = srv.server.plugin("backtest").service.jobs._pool
        assert isinstance(pool, DaskPool) and pool.address is None
        assert pool._cluster is not None and len(pool._cluster.workers) == 1
        client = ChatOpsClient(srv.url, srv.token, timeout=30)
        try:
            client.create_session("local-dask")
            run = client.trigger_backtest("strategy_1", fast=12)
            res = run.result(timeout=30)
            assert run.status == "completed" and run.progress == 100
            want = engine.backtest(engine.sample_catalog().get("ALPHA"), "sma_cross", {"fast": 12})
            pd.testing.assert_frame_equal(res.equity, want.equity)
        finally:
            client.close()
    assert pool._cluster is None  # stopped with the server


def test_missing_distributed_names_the_extra_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if it were not installed

    async def scenario() -> None:
        with pytest.raises(RuntimeError, match=r'pip install "chatops-widget\[dask\]"'):
            await DaskPool(1).start()

    asyncio.run(scenario())
