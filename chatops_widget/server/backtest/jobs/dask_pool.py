"""The job pool on Dask: the same ``start`` / ``run(fn, *args)`` / ``close`` as :class:`WorkerPool`.

Chosen with ``CHATOPS_JOBS=dask``. ``CHATOPS_DASK_SCHEDULER=tcp://host:port`` connects to a
running Dask scheduler (its workers need ``chatops_widget`` installed: tasks name its functions);
without it, :meth:`DaskPool.start` creates a process-based ``distributed.LocalCluster`` with one
single-threaded worker per slot (inside the server's start-up, never at import time). Tasks go
through ``distributed.Client(asynchronous=True).submit`` on the server's own event loop. The
pool's size -- how many tasks run at once -- is the cluster's thread count, read from the
scheduler (:attr:`DaskPool.size` after :meth:`DaskPool.start`). Data travels by reference: a
file's bars as an ``engine.DataRef`` that the Dask worker reads from the shared data folder
itself (cached per worker), a frame held only in the server's memory as a :class:`Shared`
argument scattered to the cluster once (later tasks pass its future). A running task reports
its progress as Dask worker events (``get_worker().log_event`` on :data:`TOPIC`, received with
``client.subscribe_topic``) and is cancelled through a ``distributed.Event`` it checks at each
engine chunk (:mod:`.context`). ``distributed`` is optional:
``pip install "chatops-widget[dask]"``.

Example:
    >>> import asyncio, operator
    >>> async def main():
    ...     pool = DaskPool(1)
    ...     await pool.start()
    ...     try:
    ...         return await pool.run(operator.add, 2, 3)
    ...     finally:
    ...         await pool.close()
    >>> asyncio.run(main())  # doctest: +SKIP
    5
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import logging
import os
import uuid
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

from . import allocator
from .context import DaskContext, TaskState, bind
from .pool import CACHE_SLOTS, Shared, WorkerDied, map_shared, without_parent_main

__all__ = ["SCHEDULER_ENV", "TOPIC", "DaskPool", "import_distributed", "run_in_context"]

SCHEDULER_ENV = "CHATOPS_DASK_SCHEDULER"
#: The Dask event topic of task progress (``{"key", "seq", "fraction"}``).
TOPIC = "chatops-progress"
#: Seconds a cancelled task's ``Event`` stays set (the task may take that long to see it).
CANCEL_EVENT_TTL = 60.0
#: Seconds :meth:`DaskPool.close` waits for a local cluster's workers to finish their task.
IDLE_WAIT = 5.0
#: Imported by each worker of the local cluster as it starts (``dask_setup`` warms it up), so
#: no warm-up task is still running when the server stops.
PRELOAD = "chatops_widget.server.backtest.jobs.tasks"


def run_in_context(fn: Any, args: tuple[Any, ...], key: str, cancel_event: str) -> Any:
    """What a Dask worker runs: ``fn(*args)`` with a :class:`.context.DaskContext` (the first
    one in a worker process also sets its allocator up, :mod:`.allocator`)."""
    allocator.tune()
    with bind(DaskContext(TOPIC, key, cancel_event)):
        return fn(*args)


log = logging.getLogger(__name__)


def import_distributed() -> Any:
    """``import distributed``, or a clear error saying how to install it."""
    try:
        return importlib.import_module("distributed")
    except ImportError as exc:
        raise RuntimeError(
            "CHATOPS_JOBS=dask needs the optional 'distributed' package: "
            'pip install "chatops-widget[dask]" (or CHATOPS_JOBS=process, the default)'
        ) from exc


class DaskPool:
    """``size`` task slots on a Dask cluster; ``await run(fn, *args)`` runs one task there.

    ``address`` (default: ``$CHATOPS_DASK_SCHEDULER``) is a scheduler to connect to; empty or
    ``None`` starts a local cluster of ``size`` worker processes.
    """

    def __init__(self, size: int, address: str | None = None) -> None:
        self.size = size
        self.address = address if address is not None else os.environ.get(SCHEDULER_ENV) or None
        self._client: Any = None
        self._cluster: Any = None
        self._scattered: OrderedDict[Hashable, asyncio.Future[Any]] = OrderedDict()
        self._cancels: set[asyncio.Future[Any]] = set()  # cancels still in flight
        self._states: dict[str, TaskState] = {}  # task key -> its state (while it runs)
        self._futures: set[Any] = set()  # our Dask futures not finished yet
        #: progress events received, in order (``(key, seq, fraction)``; the last few hundred)
        self.events: list[tuple[str, int, float]] = []

    async def start(self) -> None:
        """Connect to the scheduler (or start the local cluster); a failure is logged, then raised.

        Logged because the ASGI start-up reports a failed hook without its message.
        """
        try:
            await self._start()
        except Exception as exc:
            log.error("the Dask job pool did not start: %s", exc)
            raise
        self._client.subscribe_topic(TOPIC, self._on_progress)
        self.size = await self.threads()

    async def threads(self) -> int:
        """The cluster's worker threads, from the scheduler (at least 1)."""
        threads = self._client.nthreads()  # {worker address: threads}, asked of the scheduler
        if inspect.isawaitable(threads):
            threads = await threads
        return max(1, sum(int(n) for n in dict(threads).values()))

    def _on_progress(self, event: Any) -> None:
        """A Dask worker event ``(time, {"key", "seq", "fraction"})`` of :data:`TOPIC`."""
        msg = event[1] if isinstance(event, tuple) and len(event) == 2 else event
        if not isinstance(msg, dict):
            return
        key, seq, fraction = str(msg.get("key")), int(msg.get("seq", 0)), msg.get("fraction", 0)
        self.events.append((key, seq, float(fraction)))
        del self.events[:-500]
        state = self._states.get(key)
        if state is not None:
            state.advance(float(fraction))

    async def _start(self) -> None:
        distributed = import_distributed()
        if self.address:
            try:
                self._client = await distributed.Client(
                    self.address, asynchronous=True, timeout="10s"
                )
            except OSError as exc:
                raise RuntimeError(
                    f"cannot reach the Dask scheduler {self.address!r} ({SCHEDULER_ENV}): {exc}"
                ) from exc
            return
        with without_parent_main():  # its worker processes need none of the parent's script
            self._cluster = await distributed.LocalCluster(
                n_workers=self.size,
                threads_per_worker=1,
                processes=True,
                asynchronous=True,
                host="127.0.0.1",  # loopback only, like the server; its HTTP side on a free port
                dashboard_address="127.0.0.1:0",
                preload=[PRELOAD],
            )
        self._client = await distributed.Client(self._cluster, asynchronous=True)

    async def _shared(self, x: Shared) -> Any:
        """The cluster-side future for ``x``'s value (scattered the first time its key is seen)."""
        fut = self._scattered.get(x.key)
        if fut is None:
            # on every worker: no task has to fetch it from another one (in-memory frames are small)
            fut = asyncio.ensure_future(self._client.scatter(x.value, hash=False, broadcast=True))
            self._scattered[x.key] = fut
            while len(self._scattered) > CACHE_SLOTS:
                self._scattered.popitem(last=False)
        self._scattered.move_to_end(x.key)
        try:
            return await asyncio.shield(fut)
        except asyncio.CancelledError:
            raise
        except Exception:
            self._scattered.pop(x.key, None)
            raise

    async def run(self, fn: Any, *args: Any, state: TaskState | None = None) -> Any:
        """Run ``fn(*args)`` on a Dask worker; re-raises its exception (or :class:`WorkerDied`).

        ``state`` (optional) receives the task's progress events; cancelling it sets the
        task's cancel ``Event`` (the task stops at its next engine chunk)."""
        if self._client is None:
            raise RuntimeError("DaskPool.start() was not called")
        shared: dict[Hashable, Any] = {}
        for a in args:
            values = a.values() if isinstance(a, dict) else (a,)
            for x in values:
                if isinstance(x, Shared) and x.key not in shared:
                    shared[x.key] = await self._shared(x)
        args = map_shared(args, lambda x: shared[x.key])
        name = getattr(fn, "__name__", "task")
        key = f"{name}-{uuid.uuid4().hex}"  # the prefix names the function on the dashboard
        event = f"chatops-cancel-{key}"
        if state is not None:
            self._states[key] = state
            state.on_cancel(lambda: self._background(self._set_event(event)))
        future = self._client.submit(run_in_context, fn, args, key, event, key=key, pure=False)
        self._futures.add(future)
        future.add_done_callback(self._futures.discard)
        try:
            return await future
        except asyncio.CancelledError:
            if state is not None:
                state.cancel()
            self._background(future.cancel())
            raise
        except import_distributed().KilledWorker as exc:
            raise WorkerDied(f"a Dask worker died while running this task: {exc}") from None
        finally:
            self._states.pop(key, None)
            if state is not None and state.cancelled:  # the scheduler forgets the event later
                loop = asyncio.get_running_loop()
                loop.call_later(CANCEL_EVENT_TTL, self._background_clear, event)

    def _background_clear(self, name: str) -> None:
        if self._client is not None:
            distributed = import_distributed()
            self._background(distributed.Event(name, client=self._client).clear())

    async def _idle(self, client: Any) -> None:
        """Cancel our futures and wait (up to :data:`IDLE_WAIT` s) until no worker runs one."""
        if self._futures:
            await client.cancel(list(self._futures), force=True)
        loop = asyncio.get_running_loop()
        until = loop.time() + IDLE_WAIT
        while loop.time() < until:
            busy = client.processing()
            if inspect.isawaitable(busy):
                busy = await busy
            if not any(busy.values()):
                return
            await asyncio.sleep(0.05)

    async def _set_event(self, name: str) -> None:
        distributed = import_distributed()
        await distributed.Event(name, client=self._client).set()

    def _background(self, done: Any) -> None:
        """Let an awaitable (a cancel) go through in the background."""
        if inspect.isawaitable(done):
            task = asyncio.ensure_future(done)
            self._cancels.add(task)
            task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Future[Any]) -> None:
        self._cancels.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.debug("a Dask cancel failed: %s", task.exception())

    async def close(self) -> None:
        """Disconnect (and stop the local cluster, if this pool started one).

        Our tasks are cancelled first, and a local cluster is closed once its workers are
        idle (a worker still busy when its scheduler goes away logs heartbeat tracebacks),
        waiting at most :data:`IDLE_WAIT` s for a running task to notice its cancel. The
        cluster's own close retires the workers, then stops the scheduler (retiring them
        here as well raced with it: a nanny's own close was cancelled, an error logged).
        """
        self._scattered.clear()
        for state in list(self._states.values()):
            state.cancel()
        client, self._client = self._client, None
        cluster, self._cluster = self._cluster, None
        if client is not None:
            if cluster is not None:
                try:
                    await self._idle(client)
                except Exception as exc:  # best effort; the cluster closes them anyway
                    log.debug("waiting for the local Dask workers: %s", exc)
            await client.close()
        if cluster is not None:
            await cluster.close()
