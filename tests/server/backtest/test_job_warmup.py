"""Worker processes start in the background: the job manager is ready at once, and tasks run in
threads (off the loop) until a worker is warm, then in worker processes. Real processes."""

from __future__ import annotations

import asyncio
import functools
import operator
import os
import time

from chatops_widget.server.backtest.jobs.manager import JobManager


def test_tasks_run_in_threads_until_a_worker_is_warm_then_in_workers(arun):
    async def scenario():
        jobs = JobManager(workers=1, mode="process")
        t0 = time.monotonic()
        await jobs.start(warmup=functools.partial(time.sleep, 1.0))  # a slow engine import
        assert time.monotonic() - t0 < 0.5  # start does not wait for the workers
        try:
            assert await jobs.background(os.getpid) == os.getpid()  # a thread of ours
            job = jobs.create("session_1", "demo")
            assert await jobs.run_chunks(job, operator.neg, [1, 2, 3]) == [-1, -2, -3]
            deadline = time.monotonic() + 60
            while jobs._warm_pool is None and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            assert jobs._warm_pool is not None, "no worker got warm within 60 s"
            pid = await jobs.background(os.getpid)
            assert pid != os.getpid() and pid in [w.proc.pid for w in jobs._warm_pool._workers]
            job = jobs.create("session_1", "demo")
            assert await jobs.run_chunks(job, operator.neg, [4]) == [-4]
        finally:
            await jobs.shutdown()
        assert jobs._pool is None and not jobs.running

    arun(scenario(), timeout=90)


def test_shutdown_while_the_workers_start_leaves_no_process(arun):
    async def scenario():
        jobs = JobManager(workers=2, mode="process")
        await jobs.start(warmup=functools.partial(time.sleep, 5.0))
        deadline = time.monotonic() + 10
        while not jobs._pool._workers and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        procs = [w.proc for w in jobs._pool._workers]  # spawned, still warming up
        assert len(procs) == 2 and jobs._warm_pool is None
        await jobs.shutdown()
        return procs

    procs = arun(scenario(), timeout=60)
    assert [p.is_alive() for p in procs] == [False, False]
