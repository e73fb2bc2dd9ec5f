"""Progress and cancel inside a running task, whichever pool runs it.

A task function (:mod:`.tasks`) asks :func:`current` for its :class:`TaskContext` and hands
``ctx.progress`` and ``ctx.cancelled`` to the engine (``engine.sweep(progress=, cancel=)``), so
a long task reports how far it is and stops at its next chunk boundary when its job is
cancelled. The server side of one task is a :class:`TaskState` (its ``fraction`` done, and
``cancel()``), which each pool connects to the task in its own way:

- the process pool (:mod:`.pool`): a small shared-memory array per worker (``[task number,
  fraction, task number to cancel]``) that the worker writes and the pool reads
  (:class:`ShmContext`);
- threads: the :class:`TaskState` itself (:class:`StateContext`);
- Dask (:mod:`.dask_pool`): progress as Dask worker events (``log_event``, received with
  ``subscribe_topic``) and a ``distributed.Event`` per task for the cancel
  (:class:`DaskContext`).

Outside any pool (a plain call) the context reports nothing and is never cancelled.

Example (inside a task function):
    >>> ctx = current()
    >>> ctx.progress(3, 10); ctx.cancelled()
    False
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

__all__ = ["StateContext", "TaskContext", "TaskState", "bind", "current"]

#: Seconds between two progress reports (or cancel checks that cost a round trip) of a task.
REPORT_EVERY = 0.1


class TaskState:
    """The server's view of one task: ``fraction`` done (0..1) and whether it was cancelled.

    >>> s = TaskState(); s.cancel(); s.cancelled
    True
    """

    def __init__(self) -> None:
        self.fraction = 0.0
        self.cancelled = False
        self._on_cancel: list[Callable[[], Any]] = []

    def on_cancel(self, fn: Callable[[], Any]) -> None:
        """Call ``fn`` when the task is cancelled (at once if it already is)."""
        if self.cancelled:
            fn()
        else:
            self._on_cancel.append(fn)

    def cancel(self) -> None:
        """Ask the task to stop at its next check (a no-op once asked)."""
        if self.cancelled:
            return
        self.cancelled = True
        for fn in self._on_cancel:
            try:
                fn()
            except Exception:  # e.g. the worker is gone already
                pass
        self._on_cancel.clear()

    def advance(self, fraction: float) -> None:
        """Record progress (it never goes down)."""
        if fraction > self.fraction:
            self.fraction = min(1.0, fraction)


class TaskContext:
    """What a task sees: :meth:`progress` to report, :meth:`cancelled` to check."""

    def progress(self, done: float, total: float) -> None:
        """``done`` of ``total`` units of this task are finished."""

    def cancelled(self) -> bool:
        """Whether the task's job was cancelled (stop at the next chunk boundary)."""
        return False


class StateContext(TaskContext):
    """A task on a thread of the server: reads and writes its :class:`TaskState` directly."""

    def __init__(self, state: TaskState) -> None:
        self.state = state

    def progress(self, done: float, total: float) -> None:
        """Record ``done / total`` in the state."""
        if total > 0:
            self.state.advance(done / total)

    def cancelled(self) -> bool:
        """The state's cancel flag."""
        return self.state.cancelled


class ShmContext(TaskContext):
    """A task in a worker process: ``shm = [task number, fraction, task number to cancel]``."""

    def __init__(self, shm: Any, number: float) -> None:
        self.shm, self.number = shm, number

    def progress(self, done: float, total: float) -> None:
        """Write ``done / total`` where the pool reads it."""
        if total > 0:
            self.shm[1] = min(1.0, done / total)

    def cancelled(self) -> bool:
        """Whether the pool marked this task (by its number) as cancelled."""
        return bool(self.shm[2] == self.number)


class DaskContext(TaskContext):
    """A task on a Dask worker: progress as worker events on ``topic``, cancel by an Event."""

    def __init__(self, topic: str, key: str, cancel_event: str) -> None:
        self.topic, self.key, self.event_name = topic, key, cancel_event
        self._seq = 0
        self._sent = 0.0
        self._checked = 0.0
        self._cancelled = False
        self._event: Any = None

    def progress(self, done: float, total: float) -> None:
        """Log a progress event (at most every :data:`REPORT_EVERY` s, and the last one)."""
        now = time.monotonic()
        if total <= 0 or (now - self._sent < REPORT_EVERY and done < total):
            return
        self._sent, self._seq = now, self._seq + 1
        import distributed

        msg = {"key": self.key, "seq": self._seq, "fraction": min(1.0, done / total)}
        distributed.get_worker().log_event(self.topic, msg)

    def cancelled(self) -> bool:
        """Whether the task's cancel ``Event`` is set (asked at most every ``REPORT_EVERY`` s)."""
        now = time.monotonic()
        if self._cancelled or now - self._checked < REPORT_EVERY:
            return self._cancelled
        self._checked = now
        import distributed

        try:
            if self._event is None:
                self._event = distributed.Event(self.event_name)
            self._cancelled = bool(self._event.is_set())
        except Exception:  # the scheduler is gone: the result is not wanted either
            self._cancelled = True
        return self._cancelled


_NONE = TaskContext()
_local = threading.local()


def current() -> TaskContext:
    """The context of the task running on this thread (a silent one outside any pool)."""
    ctx: TaskContext = getattr(_local, "ctx", _NONE)
    return ctx


class bind:  # noqa: N801 - used as a context manager, like a function
    """``with bind(ctx): fn(...)`` -- ``ctx`` is :func:`current` on this thread meanwhile."""

    def __init__(self, ctx: TaskContext) -> None:
        self.ctx = ctx

    def __enter__(self) -> TaskContext:
        self._before = getattr(_local, "ctx", _NONE)
        _local.ctx = self.ctx
        return self.ctx

    def __exit__(self, *exc: object) -> None:
        _local.ctx = self._before
