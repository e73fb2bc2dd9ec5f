"""The job runner: CPU-bound engine work in a worker pool, off the server's event loop.

A :class:`JobManager` owns a :class:`._pool.WorkerPool` (``mode="process"``, the default: the
engine's numpy/pandas work holds the GIL often enough that threads would stall chat; or
``mode="dask"``: a :class:`._dask_pool.DaskPool` on a Dask cluster, beyond one machine) and an
``asyncio.Semaphore`` with one slot per worker. A job is ``queued`` until its first task gets a
slot, ``running`` while tasks execute, then ``completed``, ``failed`` or ``cancelled``. Long jobs
(sweeps) are split into chunks (:mod:`.splitting`): each chunk is one pool task; a task reports
how far it is from inside (:mod:`.context`), so progress is the share of the work done across
the running tasks and rises smoothly, and a cancel stops the running tasks at their next check
(an engine chunk: well within a second) and the job at once (a queued job is cancelled before
it ever starts).
Every status or progress change is reported through the ``on_update`` coroutine, on the loop;
the first report (``queued``) goes out once the job's first task is in a worker (or waits for a
slot), so announcing a run never delays its start.

Example:
    >>> import asyncio, operator
    >>> async def main():
    ...     jobs = JobManager(workers=1, mode="thread")
    ...     await jobs.start()
    ...     job = jobs.create("session_1", "demo")
    ...     out = await jobs.run_chunks(job, operator.neg, [1, 2, 3])
    ...     await jobs.report(job, status="completed")  # after storing the result
    ...     await jobs.shutdown()
    ...     return out, job.status, job.progress
    >>> asyncio.run(main())
    ([-1, -2, -3], 'completed', 100.0)
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Literal

from chatops_widget.protocol import TERMINAL_STATUSES, new_run_id

from .context import StateContext, TaskState, bind
from .fair import FairSlots
from .job import Job, JobCancelled
from .pool import WorkerDied, WorkerPool, map_shared

if TYPE_CHECKING:
    from .dask_pool import DaskPool

__all__ = ["Job", "JobCancelled", "JobManager"]

log = logging.getLogger(__name__)
startup = logging.getLogger("chatops_widget.startup")  # timestamps for benchmarks/coldstart

TERMINAL = TERMINAL_STATUSES
#: s after the start before worker processes are spawned: their start (an interpreter importing
#: the engine each, ~1 s of CPU) would otherwise compete with the server's own start-up and its
#: first requests on a small machine; tasks run in threads until a worker is warm.
WORKER_START_DELAY = 1.0
#: Seconds between two looks at the running tasks' progress (and at a cancel request).
POLL = 0.05
#: A job's progress is reported when it rose by this many percentage points (or a task ended).
STEP = 0.5


UpdateHook = Callable[[Job], Awaitable[None]]


class JobManager:
    """Runs jobs' tasks in a pool with ``workers`` slots; tracks jobs by run id."""

    def __init__(
        self,
        *,
        workers: int = 2,
        mode: Literal["process", "thread", "dask"] = "process",
        on_update: UpdateHook | None = None,
        on_notice: Callable[[str, str], Any] | None = None,
    ):
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        self.workers = workers
        self.mode = mode
        self.on_update = on_update
        self.on_notice = on_notice  # the process pool's "broken"/"recovered" notices
        self.jobs: dict[str, Job] = {}
        self._pool: WorkerPool | DaskPool | None = None
        self._warm_pool: WorkerPool | None = None  # set once a worker process is warm
        self._threads: ThreadPoolExecutor | None = None
        self._slots: FairSlots | None = None  # taken in turns by the sessions waiting
        self._tasks: set[asyncio.Future[Any]] = set()

    # ------------------------------------------------------------------ lifecycle
    async def start(self, warmup: Callable[[], Any] | None = None) -> None:
        """Create the pool; ``warmup`` (if given) runs once per worker so the first job is fast.

        Worker processes start in the background (:data:`WORKER_START_DELAY` s later): this
        returns before they are spawned, and until one has run ``warmup`` tasks run in threads
        (off the loop, like ``mode="thread"``), so a server is up and its first backtest done
        before its workers have finished importing the engine.
        """
        self._slots = FairSlots(self.workers)
        if self.mode == "thread":
            self._threads = ThreadPoolExecutor(self.workers, thread_name_prefix="chatops-job")
        elif self.mode == "dask":  # optional dependency: imported only when chosen
            from .dask_pool import DaskPool

            pool = DaskPool(self.workers)  # address: $CHATOPS_DASK_SCHEDULER or a LocalCluster
            await pool.start()
            self._pool = pool
            # as many tasks at once as the cluster has threads (its scheduler says how many)
            self.workers = pool.size
            self._slots = FairSlots(self.workers)
        else:
            # spawn: the server may live in a thread of a Jupyter kernel, and fork()ing a
            # multi-threaded process can deadlock the child. Workers exit if the server dies.
            self._threads = ThreadPoolExecutor(self.workers, thread_name_prefix="chatops-job")
            self._pool = WorkerPool(self.workers, on_notice=self.on_notice)
            self._keep(asyncio.ensure_future(self._warm(self._pool, warmup or _ready)))
            return
        if warmup is not None and self.mode != "dask":  # Dask workers warm up as they start
            futs = [self.background(warmup) for _ in range(self.workers)]
            self._keep(asyncio.ensure_future(asyncio.gather(*futs, return_exceptions=True)))

    async def _warm(self, pool: WorkerPool, warmup: Callable[[], Any]) -> None:
        """Spawn the workers, run ``warmup`` in each; tasks go to the pool once one is done."""
        await asyncio.sleep(WORKER_START_DELAY)
        startup.debug("jobs: spawning %d worker processes", self.workers)
        await pool.start()
        startup.debug("jobs: worker processes spawned")
        futs = [pool.submit(warmup) for _ in range(self.workers)]
        for fut in futs:  # a failure is logged below; the rest (closed pool) need no report
            fut.add_done_callback(lambda f: f.cancelled() or f.exception())
        for first in asyncio.as_completed(futs):
            try:
                await first
            except Exception as exc:  # a broken pool: its tasks fail with the reason
                log.warning("worker warm-up failed: %s", exc)
            break
        if self._pool is pool:  # not shut down meanwhile
            self._warm_pool = pool
            startup.debug("jobs: a worker is warm; tasks go to worker processes")
        await asyncio.gather(*futs, return_exceptions=True)
        startup.debug("jobs: every worker is warm")

    def _keep(self, task: asyncio.Future[Any]) -> None:
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def shutdown(self) -> None:
        """Cancel every unfinished job and stop the pool (without waiting for running tasks)."""
        for job in self.jobs.values():
            if not job.done:
                job.cancel_requested = True
        for task in list(self._tasks):
            task.cancel()
        pool, self._pool, self._warm_pool = self._pool, None, None
        if pool is not None:
            await pool.close()
        threads, self._threads = self._threads, None
        if threads is not None:
            threads.shutdown(wait=False, cancel_futures=True)

    @property
    def running(self) -> bool:
        """True between :meth:`start` and :meth:`shutdown`."""
        return self._pool is not None or self._threads is not None

    def background(
        self, fn: Callable[..., Any], *args: Any, state: TaskState | None = None
    ) -> asyncio.Future[Any]:
        """Run ``fn(*args)`` in the pool without taking a job slot (e.g. writing a result);
        ``state`` follows the task's progress and passes a cancel on (see :mod:`.context`)."""
        if self._warm_pool is not None:  # in a worker's pipe before this returns
            return self._warm_pool.submit(fn, *args, state=state)
        if self._pool is not None and not isinstance(self._pool, WorkerPool):
            return asyncio.ensure_future(self._pool.run(fn, *args, state=state))
        if self._threads is not None:  # mode="thread", or the workers are not warm yet
            args = map_shared(args, lambda x: x.value)
            ctx = StateContext(state or TaskState())
            loop = asyncio.get_running_loop()
            return loop.run_in_executor(self._threads, _bound, ctx, fn, *args)
        raise RuntimeError("JobManager.start() was not called")

    # ------------------------------------------------------------------ jobs
    def create(
        self, session_id: str, kind: str, *, run_id: str | None = None, **fields: Any
    ) -> Job:
        """Register a new ``queued`` job (not started: pass it to :meth:`run_chunks`)."""
        run_id = run_id or new_run_id()
        if run_id in self.jobs:
            raise ValueError(f"run id {run_id!r} is already in use")
        job = Job(run_id=run_id, session_id=session_id, kind=kind, **fields)
        self.jobs[run_id] = job
        return job

    def get(self, run_id: str) -> Job | None:
        """The job ``run_id`` (kept after it ends), or None."""
        return self.jobs.get(run_id)

    def of_session(self, session_id: str | None = None) -> list[Job]:
        """Jobs, oldest first, optionally only one session's."""
        jobs = sorted(self.jobs.values(), key=lambda j: j.created)
        return [j for j in jobs if session_id is None or j.session_id == session_id]

    def cancel(self, run_id: str) -> Job | None:
        """Ask ``run_id`` to stop: a queued job never starts, a running one stops between chunks."""
        job = self.jobs.get(run_id)
        if job is not None and not job.done:
            job.cancel_requested = True
        return job

    async def wait_done(self, job: Job, timeout: float) -> bool:
        """Wait up to ``timeout`` s for ``job`` to end; ``True`` if it did (any terminal status).

        Woken the moment :meth:`report` sets a terminal status, before ``on_update`` runs.
        """
        if job.done:
            return True
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[bool] = loop.create_future()
        job.waiters.append(waiter)

        def expire() -> None:
            if not waiter.done():
                waiter.set_result(False)

        timer = loop.call_later(timeout, expire)
        try:
            return await waiter
        finally:
            timer.cancel()
            job.waiters.remove(waiter)

    async def report(
        self, job: Job, *, status: str | None = None, progress: float | None = None
    ) -> None:
        """Update ``job`` (progress only ever rises) and tell ``on_update`` (after the
        job's ``queued`` report, if that has not gone out yet)."""
        if job.done:
            return
        await self.announce(job)
        changed = False
        if status is not None and status != job.status:
            job.status, changed = status, True
            if status in TERMINAL:
                job.finished = time.time()
                if status == "completed":
                    job.progress = 100.0
                waiting = [w for w in job.waiters if not w.done()]
                for waiter in waiting:  # wake wait_done() callers before the events go out
                    waiter.set_result(True)
                if waiting:
                    await asyncio.sleep(0)  # e.g. a parked getResult answers first
        if changed:
            startup.debug("jobs: %s %s", job.run_id, job.status)
        if progress is not None and progress > job.progress + 1e-9:
            job.progress, changed = min(100.0, progress), True
        if changed and self.on_update is not None:
            try:
                await self.on_update(job)
            except Exception:  # a broken listener must not break the job
                log.exception("progress hook failed for %s", job.run_id)

    async def announce(self, job: Job) -> None:
        """Send ``job``'s first report (``queued``) through ``on_update``, once."""
        if job.announced:
            return
        job.announced = True
        if self.on_update is not None:
            try:
                await self.on_update(job)
            except Exception:  # a broken listener must not break the job
                log.exception("progress hook failed for %s", job.run_id)

    async def run_chunks(
        self,
        job: Job,
        fn: Callable[..., Any],
        chunks: Sequence[Any],
        *args: Any,
        parallel: int | None = None,
    ) -> list[Any]:
        """Run ``fn(chunk, *args)`` for every chunk in the pool, at most ``parallel`` at once.

        Returns the results in chunk order. Progress rises from 0 to 100 with the work done:
        finished chunks plus what the running ones report (:mod:`.context`). Raises
        :class:`JobCancelled` (job status ``cancelled``) if a cancel arrives -- the running
        tasks are told to stop -- or re-raises the first task's exception (job status
        ``failed``).
        """
        if not self.running or self._slots is None:
            raise RuntimeError("JobManager.start() was not called")
        total = len(chunks)
        results: list[Any] = [None] * total
        limit = max(1, min(parallel or self.workers, self.workers))
        gate = asyncio.Semaphore(limit)
        done = 0
        states = [TaskState() for _ in range(total)]

        def share() -> float:
            """The share of the job's work done, in percent."""
            if self._warm_pool is not None:
                self._warm_pool.poll()
            return 100.0 * sum(s.fraction for s in states) / max(total, 1)

        async def one(i: int) -> None:
            nonlocal done
            async with gate, self._slots.slot(job.session_id):  # type: ignore[union-attr]
                if job.cancel_requested:
                    raise JobCancelled(job.run_id)
                t0 = time.perf_counter()
                task = self.background(fn, chunks[i], *args, state=states[i])
                try:
                    if job.status != "running":
                        try:  # the task goes to a worker first, the event overlaps it
                            await asyncio.sleep(0)
                            await self.report(job, status="running")
                        except BaseException:
                            task.cancel()
                            raise
                    try:
                        results[i] = await self._submit(task)
                    except WorkerDied:  # once: the worker, not the task, may be at fault
                        log.warning("%s: a worker died under task %d; retrying it", job.run_id, i)
                        retry = self.background(fn, chunks[i], *args, state=states[i])
                        results[i] = await self._submit(retry)
                except asyncio.CancelledError:
                    states[i].cancel()  # the running task stops at its next check
                    raise
                finally:
                    job.engine_seconds += time.perf_counter() - t0
            states[i].advance(1.0)
            done += 1
            if done < total:
                await self.report(job, progress=share())

        tasks = [asyncio.ensure_future(one(i)) for i in range(total)]
        try:
            await asyncio.sleep(0)  # the first tasks go to free workers, then "queued" goes out
            await self.announce(job)
            if job.cancel_requested:
                raise JobCancelled(job.run_id)
            await self._gather_or_cancel(job, tasks, share)
        except JobCancelled as exc:
            exc.results = results  # type: ignore[attr-defined]  # finished chunks (None: not)
            await self.report(job, status="cancelled")
            raise
        except BaseException as exc:
            job.error = job.error or _describe(exc)
            await self.report(job, status="failed")
            raise
        return results

    async def _gather_or_cancel(
        self, job: Job, tasks: list[asyncio.Task[Any]], share: Callable[[], float]
    ) -> None:
        pending: set[asyncio.Task[Any]] = set(tasks)
        try:
            while pending:
                finished, pending = await asyncio.wait(
                    pending, timeout=POLL, return_when=asyncio.FIRST_EXCEPTION
                )
                for t in finished:
                    if (exc := t.exception()) is not None:
                        raise exc
                if job.cancel_requested and pending:
                    raise JobCancelled(job.run_id)
                now = share()
                if pending and job.status == "running" and now >= job.progress + STEP:
                    await self.report(job, progress=min(now, 99.9))
        finally:
            for t in pending:
                t.cancel()
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)

    async def _submit(self, task: asyncio.Future[Any]) -> Any:
        try:
            return await task
        except WorkerDied as exc:
            log.error("a worker process died during a job: %s", exc)
            raise WorkerDied(f"a worker process died while running this job ({exc})") from None


def _ready() -> bool:
    """The default warm-up: a worker that answers is ready."""
    return True


def _bound(ctx: StateContext, fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)`` on a job thread, with ``ctx`` as its task context."""
    with bind(ctx):
        return fn(*args)


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) < 500 else text[:497] + "..."
