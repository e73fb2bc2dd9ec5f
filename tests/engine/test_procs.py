"""Big sweeps on worker processes (chatops_widget/engine/_procs.py): the same rows as one
thread, progress per chunk, a cancel within a second; only built-in templates go, only once
the processes are up (a big sweep starts them for the next one), never with
CHATOPS_SWEEP_PROCESSES=0. Real spawned processes, no stand-ins."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import textwrap
import threading
import time

import pandas as pd
import pytest

from chatops_widget.engine import SweepCancelled, _procs, get_template, sweep

from .conftest import long_walk

GRID = {"fast": list(range(3, 60, 3)), "slow": list(range(20, 200, 10))}  # 342 combinations


@pytest.fixture(scope="module")
def pool():
    if not _procs.enabled():
        pytest.fail(f"sweep processes are off here ({_procs.ENV}=0 or not the main process)")
    _procs.start_pool(2)
    assert _procs._pool is not None and _procs._pool.ready.wait(120), "no processes in 120 s"
    return _procs._pool


def test_a_big_sweep_on_processes_gives_the_rows_of_one_thread(pool):
    df = long_walk(20_000)
    before = pool.sweeps
    calls: list[int] = []
    parallel = sweep(df, "sma_cross", GRID, commission=0.001, stop_loss=0.05,
                     progress=lambda done, total: calls.append(done))  # fmt: skip
    assert pool.sweeps == before + 1, "the sweep did not run on the processes"
    serial = sweep(df, "sma_cross", GRID, commission=0.001, stop_loss=0.05, workers=1)
    pd.testing.assert_frame_equal(parallel, serial)
    assert parallel.attrs == serial.attrs
    # progress per chunk, as on threads: rising to the total
    chunk = max(1, (1 << 18) // len(df))
    assert calls == sorted(calls) and calls[-1] == len(serial)
    assert len(calls) >= len(serial) // chunk - 1


def test_cancel_stops_a_sweep_on_processes_within_a_second(pool):
    df = long_walk(200_000)
    grid = {"fast": list(range(2, 40)), "slow": list(range(50, 90))}  # 1,520 combinations
    stop = threading.Event()
    seen: list[tuple[int, float]] = []

    def progress(done: int, total: int) -> None:
        seen.append((done, time.perf_counter()))
        if done >= 3:
            stop.set()

    before = pool.sweeps
    with pytest.raises(SweepCancelled) as err:
        sweep(df, "sma_cross", grid, progress=progress, cancel=stop)
    assert pool.sweeps == before + 1
    assert time.perf_counter() - seen[-1][1] < 1.0
    # the finished rows of each process's part: a chunk (one combination here) each at most
    assert 3 <= err.value.done <= 3 + 2 < err.value.total == 1_520
    assert len(err.value.partial) == err.value.done
    # the rows it kept are the grid's own, for the combinations each process had finished
    full = sweep(df, "sma_cross", err.value.partial[["fast", "slow"]].to_dict("records"),
                 workers=1)  # fmt: skip
    pd.testing.assert_frame_equal(
        err.value.partial.reset_index(drop=True), full.reset_index(drop=True), check_like=True
    )


def test_strategies_made_in_the_session_stay_on_threads(pool, monkeypatch):
    df = long_walk(20_000)
    copy = dataclasses.replace(get_template("sma_cross"))  # not the workers' own object
    before = pool.sweeps
    threaded = sweep(df, copy, GRID)
    assert pool.sweeps == before
    pd.testing.assert_frame_equal(threaded, sweep(df, "sma_cross", GRID, workers=1))
    monkeypatch.setenv(_procs.ENV, "0")
    sweep(df, "sma_cross", GRID)
    assert pool.sweeps == before, f"{_procs.ENV}=0 still used the processes"
    # a small grid stays on the calling thread
    monkeypatch.delenv(_procs.ENV)
    sweep(df, "sma_cross", {"fast": [5, 10], "slow": [50, 100]})
    assert pool.sweeps == before


def test_the_first_big_sweep_starts_the_processes_for_the_next(tmp_path):
    # a fresh interpreter: nothing started yet
    script = textwrap.dedent(
        """
        import numpy as np, pandas as pd
        from chatops_widget.engine import sweep, _procs
        rng = np.random.default_rng(1)
        close = 100 * np.exp(np.cumsum(rng.normal(0, 0.002, 20_000)))
        idx = pd.date_range("2001-01-01", periods=len(close), freq="min")
        df = pd.DataFrame({"Open": close, "High": close, "Low": close, "Close": close}, idx)
        grid = {"fast": list(range(3, 60, 3)), "slow": list(range(20, 200, 10))}
        if __name__ == "__main__":
            sweep(df, "sma_cross", {"fast": [5], "slow": [50]})
            assert _procs._pool is None, "a small sweep started processes"
            first = sweep(df, "sma_cross", grid)
            assert _procs._pool is not None and _procs._pool.sweeps == 0
            assert _procs._pool.ready.wait(120)
            second = sweep(df, "sma_cross", grid)
            assert _procs._pool.sweeps == 1
            pd.testing.assert_frame_equal(first, second)
            print("ok")
        """
    )
    (tmp_path / "first.py").write_text(script)
    env = {k: v for k, v in os.environ.items() if k != _procs.ENV}
    out = subprocess.run([sys.executable, str(tmp_path / "first.py")], capture_output=True,
                         text=True, timeout=300, env=env)  # fmt: skip
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-3000:]
