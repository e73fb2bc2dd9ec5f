"""Worker processes for big sweeps: every core, not the GIL's share of them.

Threads overlap only where numpy releases the GIL; a sweep's chunks also spend ~30 % of their
time in Python, so on two cores two threads run a 1,225-pair sweep at ~1x of one thread, and
two processes at ~1.3-1.5x. Starting processes (``spawn``: safe beside a Jupyter kernel's
threads, unlike ``fork``) and importing the engine takes longer than such a sweep, so:

- a sweep uses the processes only when they are already up (:func:`acquire`), one sweep at a
  time (another one meanwhile runs on threads);
- a big sweep that could have used them starts them in the background once it has finished
  (:func:`start_pool`), for the session's next sweeps;
- only the built-in templates go, by name (:func:`by_name`: a worker resolves its own copy); a
  strategy made in the session (a Python function, a rule, a registered template) stays on
  threads;
- only the main process starts them (never a worker of the server or of Dask), and not with
  ``CHATOPS_SWEEP_PROCESSES=0``.

A sweep is cut into one part per process, every ``w``-th chunk (the grid's order groups the
heavy combinations; the bars travel once to each process). Each process reports every
finished chunk on a queue, so progress is per chunk as on threads, and checks a shared cancel
flag before each chunk, so a cancel stops within a chunk.

Example:
    >>> import dataclasses
    >>> from chatops_widget.engine import get_template
    >>> tpl = get_template("sma_cross")
    >>> by_name(tpl), by_name(dataclasses.replace(tpl))  # a copy may differ from the worker's
    ('sma_cross', None)
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import queue
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import pandas as pd

from ._builtins import BUILTINS
from ._templates import Combo, StrategyBase
from ._types import FloatArray

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

__all__ = ["ENV", "Pool", "acquire", "by_name", "start_pool"]

#: ``0`` keeps every sweep on threads (no worker processes are started).
ENV = "CHATOPS_SWEEP_PROCESSES"

Parts = list[dict[str, FloatArray]]


class Pool:
    """The worker processes, their progress queue and their shared cancel flag."""

    def __init__(self, workers: int) -> None:
        from concurrent.futures import ProcessPoolExecutor  # not imported until a pool starts

        ctx = multiprocessing.get_context("spawn")
        self.workers = workers
        self.done: Any = ctx.Queue()  # the combinations of each finished chunk
        self.cancel: Any = ctx.Event()
        self.ready = threading.Event()
        self.busy = threading.Lock()  # one sweep at a time (the queue and flag are its)
        self.sweeps = 0  # sweeps run here (tests and benchmarks read it)
        self.executor: ProcessPoolExecutor = ProcessPoolExecutor(
            workers, mp_context=ctx, initializer=_init, initargs=(self.done, self.cancel)
        )

    def run(
        self,
        data: pd.DataFrame,
        name: str,
        parts: list[list[list[Combo]]],
        money: tuple[float, float, float],
        orders: dict[str, Any],
        on_chunk: Callable[[int], bool],
        summary: bool = True,
    ) -> list[Parts]:
        """Each part (a list of chunks) in a process; ``on_chunk(combinations)`` after every
        finished chunk, on this thread; it returns ``True`` to cancel (the processes stop
        before their next chunk); ``summary``: as :func:`._backtest.chunk_stats`. Returns each
        part's finished chunks' stats, in order."""
        self.sweeps += 1
        self.cancel.clear()
        while True:  # nothing left over from an earlier sweep
            try:
                self.done.get_nowait()
            except queue.Empty:
                break
        futs: list[Future[Parts]] = [
            self.executor.submit(_run_part, data, name, part, money, orders, summary)
            for part in parts
        ]
        expected = sum(len(part) for part in parts)
        seen = 0
        while seen < expected:
            try:
                combos = self.done.get(timeout=0.05)
            except queue.Empty:
                if all(f.done() for f in futs):
                    break  # every part returned: cancelled, or its last reports still queued
                continue
            seen += 1
            if on_chunk(combos):
                self.cancel.set()
        return [f.result() for f in futs]


_lock = threading.Lock()
_pool: Pool | None = None


def enabled() -> bool:
    """Whether this process may use (and start) sweep processes."""
    return os.environ.get(ENV, "1") != "0" and multiprocessing.parent_process() is None


def by_name(tpl: StrategyBase) -> str | None:
    """``tpl``'s name if it is a built-in template (a worker has the same), else ``None``."""
    return tpl.name if any(tpl is t for t in BUILTINS) else None


@contextmanager
def acquire(workers: int) -> Iterator[Pool | None]:
    """The pool, held for one sweep, if it is up with ``workers`` processes and free; else
    ``None`` (the sweep runs on threads)."""
    pool = _pool
    if not enabled() or pool is None or not pool.ready.is_set() or pool.workers < workers:
        yield None
        return
    if not pool.busy.acquire(blocking=False):
        yield None
        return
    try:
        yield pool
    finally:
        pool.busy.release()


def start_pool(workers: int) -> None:
    """Start ``workers`` processes in the background (once; nothing if not :func:`enabled`)."""
    global _pool
    if not enabled() or workers < 2:
        return
    with _lock:
        if _pool is not None:
            return
        pool = _pool = Pool(workers)

    def warm() -> None:
        try:  # every process up, the engine imported: the next sweep waits for none of it
            for fut in [pool.executor.submit(_warm) for _ in range(workers)]:
                fut.result(timeout=120)
            pool.ready.set()
        except Exception:  # a broken pool is never used; sweeps stay on threads
            pool.executor.shutdown(wait=False, cancel_futures=True)

    threading.Thread(target=warm, name="chatops-sweep-pool", daemon=True).start()


# ---------------------------------------------------------------------------- in a worker

_done: Any = None
_cancel: Any = None


def _init(done: Any, cancel: Any) -> None:
    global _done, _cancel
    _done, _cancel = done, cancel


def _warm() -> int:
    from . import _backtest, _stats  # noqa: F401  (what a chunk needs: pandas, the engine)

    return os.getpid()


def _run_part(
    data: pd.DataFrame,
    name: str,
    chunks: list[list[Combo]],
    money: tuple[float, float, float],
    orders: dict[str, Any],
    summary: bool = True,
) -> Parts:
    """The chunks' stats, in order, up to a cancel (checked before each chunk)."""
    from ._backtest import chunk_stats, prepare
    from ._orders import Orders

    tpl, bars, _ = prepare(data, name)
    tpl.precompute(bars, [c for chunk in chunks for c in chunk])
    cash, commission, spread = money
    order = Orders.from_kwargs(**orders)
    out: Parts = []
    for chunk in chunks:
        if _cancel is not None and _cancel.is_set():
            break
        out.append(chunk_stats(tpl, bars, chunk, cash, commission, spread, order, summary))
        if _done is not None:
            _done.put(len(chunk))
    return out


@atexit.register
def _shutdown() -> None:
    if _pool is not None:
        _pool.executor.shutdown(wait=False, cancel_futures=True)
