"""The worker pool and job runner on their own: real worker processes, real threads."""

from __future__ import annotations

import asyncio
import operator
import os
import time

import pytest

from chatops_widget.server.backtest.jobs.manager import JobCancelled, JobManager
from chatops_widget.server.backtest.jobs.pool import Shared, WorkerDied, WorkerPool


def _boom() -> None:
    raise ValueError("bad thing happened")


def _die() -> None:
    os._exit(3)


def _pid() -> int:
    return os.getpid()


def _identity_of(task: dict) -> tuple[int, int]:
    return id(task["data"]), len(task["data"])


def _slow(x: int) -> int:
    time.sleep(0.3)
    return x


def test_worker_pool_runs_raises_survives_a_dead_worker_and_moves_big_data(arun):
    async def scenario():
        pool = WorkerPool(2)
        await pool.start()
        try:
            assert await pool.run(operator.add, 2, 3) == 5
            assert await pool.run(_pid) != os.getpid()
            with pytest.raises(ValueError, match="bad thing happened"):
                await pool.run(_boom)
            with pytest.raises(WorkerDied):
                await pool.run(_die)
            got = await asyncio.gather(*[pool.run(operator.mul, i, i) for i in range(8)])
            assert got == [i * i for i in range(8)]  # a new worker replaced the dead one
            big = os.urandom(3_000_000)  # above the in-loop I/O limit both ways
            assert await pool.run(bytes, big) == big
        finally:
            await pool.close()

    arun(scenario())


def test_shared_values_cross_the_pipe_once_per_worker(arun):
    async def scenario():
        pool = WorkerPool(1)
        await pool.start()
        try:
            blob = Shared("blob-v1", b"x" * 500_000)
            first = await pool.run(_identity_of, {"data": blob, "n": 1})
            again = await pool.run(_identity_of, {"data": blob, "n": 2})
            other = await pool.run(_identity_of, {"data": Shared("blob-v2", b"y" * 10)})
            assert first == again  # the very same object in the worker: sent once
            assert other[1] == 10 and other[0] != first[0]
        finally:
            await pool.close()

    arun(scenario())


@pytest.mark.parametrize("mode", ["process", "thread"])
def test_jobs_report_progress_and_a_queued_job_is_cancelled_before_it_starts(arun, mode):
    async def scenario():
        seen: list[tuple[str, str, float]] = []

        async def hook(job):
            seen.append((job.run_id, job.status, job.progress))

        jobs = JobManager(workers=1, mode=mode, on_update=hook)
        await jobs.start()
        try:
            first = jobs.create("session_1", "demo", run_id="run_first")
            second = jobs.create("session_1", "demo", run_id="run_second")
            a = asyncio.ensure_future(jobs.run_chunks(first, _slow, [1, 2, 3]))
            await asyncio.sleep(0.1)
            b = asyncio.ensure_future(jobs.run_chunks(second, _slow, [4]))
            await asyncio.sleep(0.1)
            assert second.status == "queued"
            jobs.cancel("run_second")
            with pytest.raises(JobCancelled):
                await b
            assert await a == [1, 2, 3]
            await jobs.report(first, status="completed")
        finally:
            await jobs.shutdown()
        mine = [(s, p) for r, s, p in seen if r == "run_first"]
        assert [p for _, p in mine] == sorted(p for _, p in mine)
        assert mine[-1] == ("completed", 100.0)
        assert [s for s, _ in mine][:2] == ["queued", "running"]  # announced once, first
        # a job waiting for a slot is announced as queued at once, then cancelled
        assert [s for r, s, _ in seen if r == "run_second"] == ["queued", "cancelled"]

    arun(scenario())


def test_workers_that_cannot_start_fail_tasks_with_a_reason_instead_of_restarting_forever(
    arun, monkeypatch
):
    import _support

    from chatops_widget.server.backtest.jobs import pool as _pool

    monkeypatch.setattr(_pool, "worker_main", _support.exit_at_once)

    async def scenario():
        pool = WorkerPool(1)
        await pool.start()
        try:
            errors = []
            for _ in range(10):
                try:
                    await asyncio.wait_for(pool.run(operator.add, 1, 2), 30)
                except WorkerDied as exc:
                    errors.append(str(exc))
                if pool.broken:
                    break
            assert pool.broken and "exit right after they start" in pool.broken
            assert "exit code 3" in pool.broken
            started = len(pool._workers)
            with pytest.raises(WorkerDied, match="exit right after they start"):
                await asyncio.wait_for(pool.run(operator.add, 1, 2), 5)
            with pytest.raises(WorkerDied, match="exit right after they start"):
                await asyncio.wait_for(pool.submit(operator.add, 1, 2), 5)
            assert len(pool._workers) == started == 0  # no endless restarts
        finally:
            await pool.close()

    arun(scenario())
