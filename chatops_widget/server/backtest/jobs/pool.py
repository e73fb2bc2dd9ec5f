"""A small asyncio-native process pool: one pipe per worker, read by the event loop itself.

Why not ``concurrent.futures.ProcessPoolExecutor``: its hand-offs go through a manager thread
and queue feeder threads (3.3 ms per backtest task beyond the work itself on the 2-core build
machine, vs 2.6 ms for a pipe the loop watches with ``add_reader``), and it cannot tell its
workers to exit when the server is SIGKILLed (ours watch their parent). Messages are pickled
``(fn, args)`` calls and ``(ok, value)`` answers, each preceded by an 8-byte size; big ones are
written/read in a helper thread so the loop never blocks on a pipe. Arguments wrapped in
:class:`Shared` (e.g. a symbol's OHLCV frame) cross the pipe once per worker. Each worker also
shares three numbers with the pool (``[task number, fraction done, task number to cancel]``,
:class:`.context.ShmContext`): a task reports its progress there, :meth:`WorkerPool.poll` reads
it into the task's :class:`.context.TaskState`, and cancelling that state tells the task to
stop at its next check -- no message has to wait behind the running task in the pipe.

Example:
    >>> import asyncio, operator
    >>> async def main():
    ...     pool = WorkerPool(1)
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
import logging
import multiprocessing
import multiprocessing.spawn
import os
import pickle
import struct
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

from .context import TaskState
from .worker import (
    CACHE_SLOTS,
    Ref,
    Shared,
    map_shared,
    remember,
    send_frame,
    single_threaded_libraries,
    without_parent_main,
    worker_main,
)

__all__ = ["CACHE_SLOTS", "Shared", "WorkerDied", "WorkerPool", "map_shared", "without_parent_main"]

log = logging.getLogger(__name__)

_BIG = 256 * 1024  # bytes: above this, pipe I/O happens in a thread, not on the loop
_SIZE = struct.Struct("!Q")


EARLY_EXIT = 5.0  # s: a worker that dies this soon after its start counts as a failed start
MAX_FAILED_STARTS = 3  # in a row: then the pool waits before starting workers again, and says why
BACKOFF = (1.0, 30.0)  # s: the first wait, doubled each further failed start, up to the second


class WorkerDied(RuntimeError):
    """The worker process running a task exited (killed, out of memory, ...)."""


_BROKEN: Any = object()  # put in the idle queue once no worker can start


class _Worker:
    def __init__(self, ctx: Any) -> None:
        self.conn, child = ctx.Pipe()
        self.shm = ctx.RawArray("d", 3)  # [task number, fraction, task number to cancel]
        self.number = 0.0
        self.state: TaskState | None = None
        self.proc = ctx.Process(
            target=worker_main,
            args=(child, os.getpid(), self.shm),
            daemon=True,
            name="chatops-worker",
        )
        with without_parent_main(), single_threaded_libraries():
            self.proc.start()
        self.started = time.monotonic()
        child.close()
        self.future: asyncio.Future[Any] | None = None
        self.keys: OrderedDict[Hashable, None] = OrderedDict()  # mirrors the worker's cache


class WorkerPool:
    """``size`` worker processes (spawn); ``await run(fn, *args)`` runs on an idle one."""

    def __init__(self, size: int, on_notice: Callable[[str, str], Any] | None = None) -> None:
        self.size = size
        self._ctx = multiprocessing.get_context("spawn")
        self._idle: asyncio.Queue[_Worker] | None = None
        self._workers: list[_Worker] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._failed_starts = 0
        #: why workers cannot start now (every task fails fast until the next try)
        self.broken: str | None = None
        self._retry: asyncio.TimerHandle | None = None
        self._troubled = False  # workers crashed at start since the last one that worked
        #: ``on_notice(kind, text)``: ``"broken"`` when workers keep dying at start (a retry
        #: is scheduled), ``"recovered"`` when one works again
        self.on_notice = on_notice

    async def start(self) -> None:
        """Start the worker processes (on the running event loop)."""
        self._loop = asyncio.get_running_loop()
        self._idle = asyncio.Queue()
        for _ in range(self.size):
            self._add()

    def _add(self) -> None:
        w = _Worker(self._ctx)
        self._workers.append(w)
        assert self._loop is not None and self._idle is not None
        self._loop.add_reader(w.conn.fileno(), self._readable, w)
        self._idle.put_nowait(w)

    async def run(self, fn: Any, *args: Any, state: TaskState | None = None) -> Any:
        """Run ``fn(*args)`` in a worker; its exception is re-raised (or :class:`WorkerDied`).

        ``state`` (optional) receives the task's progress (:meth:`poll`) and passes its cancel
        on to the running task."""
        if self._idle is None or self._loop is None:
            raise RuntimeError("WorkerPool.start() was not called")
        if self.broken:
            raise WorkerDied(self.broken)
        w = await self._idle.get()
        if w is _BROKEN:
            self._idle.put_nowait(_BROKEN)  # for the next waiter
            raise WorkerDied(self.broken or "the pool is broken")
        if w not in self._workers:  # replaced meanwhile
            return await self.run(fn, *args, state=state)
        data = self._pack(w, fn, args)
        self._assign(w, state)
        if len(data) > _BIG:
            return await asyncio.shield(await self._send_big(w, data))
        return await asyncio.shield(self._send(w, data))

    def _assign(self, w: _Worker, state: TaskState | None) -> None:
        """Number the task ``w`` gets next and connect ``state`` to it."""
        w.number += 1
        w.shm[0], w.shm[1] = w.number, 0.0
        w.state = state
        if state is not None:
            number = w.number

            def cancel() -> None:
                if w.number == number and w.state is state:
                    w.shm[2] = number

            state.on_cancel(cancel)

    def poll(self) -> None:
        """Copy each running task's progress into its :class:`TaskState`."""
        for w in self._workers:
            if w.state is not None and w.shm[0] == w.number:
                w.state.advance(w.shm[1])

    def submit(self, fn: Any, *args: Any, state: TaskState | None = None) -> asyncio.Future[Any]:
        """Like :meth:`run`, but if a worker is idle the task is in its pipe when this returns
        (no loop iteration in between); the returned future holds the answer."""
        if self._idle is None or self._loop is None:
            raise RuntimeError("WorkerPool.start() was not called")
        if self.broken:
            failed = self._loop.create_future()
            failed.set_exception(WorkerDied(self.broken))
            return failed
        while not self._idle.empty():
            w = self._idle.get_nowait()
            if w not in self._workers:  # replaced meanwhile
                continue
            data = self._pack(w, fn, args)
            self._assign(w, state)
            if len(data) > _BIG:
                return asyncio.ensure_future(self._answer_big(w, data))
            return self._send(w, data)
        return asyncio.ensure_future(self.run(fn, *args, state=state))

    def _pack(self, w: _Worker, fn: Any, args: tuple[Any, ...]) -> bytes:
        def swap(x: Shared | Ref) -> Shared | Ref:
            if isinstance(x, Shared) and x.key in w.keys:
                w.keys.move_to_end(x.key)
                return Ref(x.key)
            remember(w.keys, x.key, None)
            return x

        return pickle.dumps((fn, map_shared(args, swap)), protocol=pickle.HIGHEST_PROTOCOL)

    def _send(self, w: _Worker, data: bytes) -> asyncio.Future[Any]:
        assert self._loop is not None
        w.future = self._loop.create_future()
        try:
            send_frame(w.conn, data)
        except OSError:
            self._replace(w)  # fails w.future with WorkerDied
        return w.future

    async def _send_big(self, w: _Worker, data: bytes) -> asyncio.Future[Any]:
        assert self._loop is not None
        w.future = self._loop.create_future()
        try:  # a big task is written from a thread so the loop never blocks on the pipe
            await self._loop.run_in_executor(None, send_frame, w.conn, data)
        except OSError:
            self._replace(w)
        return w.future

    async def _answer_big(self, w: _Worker, data: bytes) -> Any:
        return await asyncio.shield(await self._send_big(w, data))

    def _readable(self, w: _Worker) -> None:
        assert self._loop is not None
        try:
            (size,) = _SIZE.unpack(w.conn.recv_bytes())
            if size > _BIG:  # read the body in a thread; the reader resumes afterwards
                self._loop.remove_reader(w.conn.fileno())
                task = self._loop.run_in_executor(None, w.conn.recv_bytes)
                task.add_done_callback(lambda t: self._answered(w, t))
                return
            self._deliver(w, w.conn.recv_bytes())
        except (EOFError, OSError):
            self._replace(w)

    def _answered(self, w: _Worker, task: asyncio.Future[bytes]) -> None:
        if task.exception() is not None:
            self._replace(w)
            return
        assert self._loop is not None
        self._loop.add_reader(w.conn.fileno(), self._readable, w)
        self._deliver(w, task.result())

    def _deliver(self, w: _Worker, data: bytes) -> None:
        ok, value = pickle.loads(data)
        self._failed_starts = 0  # a worker that answers has started
        if self._troubled:
            self._troubled = False
            self._notice("recovered", "the backtest worker processes work again")
        if w.state is not None and ok:
            w.state.advance(1.0)
        fut, w.future, w.state = w.future, None, None
        assert self._idle is not None
        self._idle.put_nowait(w)
        if fut is not None and not fut.done():
            if ok:
                fut.set_result(value)
            else:
                fut.set_exception(value)

    def _replace(self, w: _Worker) -> None:
        """Drop a dead worker (failing its task) and start a new one."""
        if w not in self._workers:
            return
        self._workers.remove(w)
        assert self._loop is not None
        self._loop.remove_reader(w.conn.fileno())
        w.conn.close()
        if w.proc.is_alive():
            w.proc.kill()
        w.proc.join(0.5)  # its pipe closed first: reap it, so its exit code is known
        early = time.monotonic() - w.started < EARLY_EXIT and w.proc.exitcode != -9
        self._failed_starts = self._failed_starts + 1 if early else 0
        if self._failed_starts >= MAX_FAILED_STARTS and self._idle is not None:
            wait = min(BACKOFF[1], BACKOFF[0] * 2 ** (self._failed_starts - MAX_FAILED_STARTS))
            self.broken = (
                f"worker processes exit right after they start ({self._failed_starts} in a row, "
                f"last exit code {w.proc.exitcode}{_signal_name(w.proc.exitcode)}); the server "
                f"starts them again in {wait:g} s (see its log for their error)"
            )
            log.error("%s", self.broken)
            if self._retry is None:
                self._retry = self._loop.call_later(wait, self._recover)
            if not self._troubled:
                self._troubled = True
                self._notice("broken", self.broken)
        if w.future is not None and not w.future.done():
            w.future.set_exception(
                WorkerDied(self.broken or "a worker process died while running this task")
            )
        if self._idle is not None and not self.broken:
            self._add()
        elif self._idle is not None:  # wake the tasks waiting for a worker: they fail
            self._idle.put_nowait(_BROKEN)

    def _recover(self) -> None:
        """After the back-off: try starting the missing workers again."""
        self._retry, self.broken = None, None
        if self._idle is None:
            return
        keep = [w for w in _drain(self._idle) if w is not _BROKEN]
        for w in keep:
            self._idle.put_nowait(w)
        while len(self._workers) < self.size:
            self._add()

    def _notice(self, kind: str, text: str) -> None:
        if self.on_notice is not None:
            try:
                self.on_notice(kind, text)
            except Exception:  # a listener must not break the pool
                log.exception("worker pool notice failed")

    async def close(self) -> None:
        """Stop every worker now (running tasks are abandoned)."""
        if self._retry is not None:
            self._retry.cancel()
        workers, self._workers = self._workers, []
        self._idle = None
        for w in workers:
            if self._loop is not None:
                self._loop.remove_reader(w.conn.fileno())
            w.conn.close()
            w.proc.terminate()
            if w.future is not None and not w.future.done():
                w.future.set_exception(WorkerDied("the pool was closed"))
        for w in workers:
            await asyncio.get_running_loop().run_in_executor(None, w.proc.join, 2)
            if w.proc.is_alive():
                w.proc.kill()


def _drain(queue: asyncio.Queue[Any]) -> list[Any]:
    items = []
    while not queue.empty():
        items.append(queue.get_nowait())
    return items


def _signal_name(code: int | None) -> str:
    """`` (SIGSEGV)`` for a negative exit code (killed by that signal), else ``""``."""
    import signal

    try:
        return f" ({signal.Signals(-code).name})" if code is not None and code < 0 else ""
    except ValueError:
        return ""
