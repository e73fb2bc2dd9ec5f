"""Long runs on every worker of the process pool: progress that rises smoothly, a cancel that
stops the running tasks within a second, bars the workers read from the data folder themselves.

A real server (its own worker processes) on a data folder with a generated 1-minute Parquet
file, and a real kernel client.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from chatops_widget import ChatOpsClient, engine
from chatops_widget.server import EmbeddedServer, standard_plugins
from chatops_widget.server.backtest.jobs.splitting import split_count

BARS = 120_000
# 1,600 combinations: 192M cells, several seconds on two workers (a long job: >= 20 progress
# steps; 800 became too few steps once sweeps got faster)
GRID = {"fast": range(2, 42), "slow": range(50, 250, 5)}


def minute_bars(n: int, seed: int = 4) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.001, n)))
    idx = pd.date_range("2020-01-01", periods=n, freq="min", name="Date")
    return pd.DataFrame(
        {"Open": close * (1 + rng.normal(0, 2e-4, n)), "High": close * 1.001,
         "Low": close * 0.999, "Close": close, "Volume": 1.0},
        index=idx,
    )  # fmt: skip


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    root = tmp_path_factory.mktemp("scale-jobs")
    (root / "data").mkdir()
    minute_bars(BARS).to_parquet(root / "data" / "MIN.parquet", row_group_size=20_000)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CHATOPS_WORKERS", "2")
        mp.delenv("CHATOPS_JOBS", raising=False)
        srv = EmbeddedServer(data_dir=root, plugins=standard_plugins(assistant=False)).start()
    # the workers start in the background (tasks run in threads until one is warm): these tests
    # are about the worker processes, so they begin once every worker has run its warm-up
    pool = srv.server.plugin("backtest").service.jobs
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and not (
        pool._warm_pool is not None and len(pool._warm_pool._workers) == 2
        and all(w.future is None for w in pool._warm_pool._workers)
    ):  # fmt: skip
        time.sleep(0.05)
    assert pool._warm_pool is not None, "the worker processes did not get warm within 180 s"
    client = ChatOpsClient(srv.url, srv.token, timeout=30)
    client.create_session("scale")
    yield srv, client
    client.close()
    srv.stop()


def _events(client: ChatOpsClient) -> list[dict]:
    seen: list[dict] = []
    client.on("backtestProgress", seen.append)
    return seen


def test_a_long_sweep_runs_on_every_worker_with_smooth_progress(served):
    srv, client = served
    seen = _events(client)
    run = client.sweep("sma_cross", "MIN", block=False, **GRID)
    table = run.result(timeout=300)
    client.off("backtestProgress", seen.append)
    steps = [e["progress"] for e in seen if e["runId"] == run.run_id]
    assert steps == sorted(steps) and steps[-1] == 100
    # rising with the work, not once per task: more distinct steps than 0 and the 12 task ends
    tasks = split_count(cells=1600 * BARS, items=1600, workers=2)
    assert len(set(steps)) > tasks + 1, steps
    assert len(table) == 1600
    df = minute_bars(BARS)
    few = [{"fast": 2, "slow": 50}, {"fast": 20, "slow": 100}, {"fast": 40, "slow": 140}]
    want = engine.sweep(df, "sma_cross", few).set_index(["fast", "slow"])
    got = table.set_index(["fast", "slow"]).loc[want.index]
    for name in ("total_return", "sharpe", "max_drawdown", "num_trades"):
        np.testing.assert_allclose(got[name], want[name], rtol=1e-12)
    pool = srv.server.plugin("backtest").service.jobs._pool
    assert len(pool._workers) == 2
    # the tasks wrote their rows to the run's folder, the combine removed them
    results = srv.server.plugin("backtest").service.results.root
    assert not (results / run.run_id / "parts").exists()


def test_cancel_stops_the_running_tasks_within_a_second(served, wait_until):
    srv, client = served
    pool = srv.server.plugin("backtest").service.jobs._pool
    run = client.sweep("sma_cross", "MIN", block=False, **GRID)
    wait_until(lambda: run.progress >= 5, timeout=120)
    wait_until(lambda: all(w.future is not None for w in pool._workers), timeout=30)
    t0 = time.monotonic()
    run.cancel()
    assert run.wait(timeout=30) == "cancelled"
    # both workers are free again: their tasks saw the cancel at their next engine chunk
    wait_until(lambda: all(w.future is None for w in pool._workers), timeout=10)
    stopped = time.monotonic() - t0
    # typically 0.1-0.5 s; the bound is loose for a loaded CI box, and still far below a task's
    # length (a task that only stopped at its end would take the rest of the sweep)
    assert stopped < 3.0, f"the workers took {stopped:.2f} s to stop"
    assert run.progress < 100
