"""The worker process's side of :class:`~.pool.WorkerPool`: its loop, its cache of
:class:`Shared` arguments, and how it starts without the parent's ``__main__``.

A worker reads ``(fn, args)`` calls from its pipe (each frame preceded by an 8-byte size), swaps
:class:`Ref` keys for the values it keeps, runs the call with the task's progress/cancel channel
bound (:mod:`.context`) and answers ``(ok, value)``. It exits when its parent does.
"""

from __future__ import annotations

import multiprocessing.spawn
import os
import pickle
import struct
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from . import allocator
from .context import ShmContext, TaskContext, bind

__all__ = [
    "CACHE_SLOTS",
    "Ref",
    "Shared",
    "map_shared",
    "remember",
    "send_frame",
    "single_threaded_libraries",
    "without_parent_main",
    "worker_main",
]

_SIZE = struct.Struct("!Q")
CACHE_SLOTS = 4  # Shared values each worker keeps (least recently used dropped first)


@dataclass(frozen=True)
class Shared:
    """An argument (or a top-level dict value of one) a worker keeps after the first time:
    later tasks with the same ``key`` send only the key. For data reused by many tasks."""

    key: Hashable
    value: Any = field(repr=False, compare=False)


@dataclass(frozen=True)
class Ref:
    """What is sent instead of a :class:`Shared` value the worker already keeps."""

    key: Hashable


def map_shared(args: tuple[Any, ...], fn: Callable[[Any], Any]) -> tuple[Any, ...]:
    """Apply ``fn`` to every :class:`Shared`/``Ref`` among ``args`` and their dict values."""

    def one(x: Any) -> Any:
        if isinstance(x, (Shared, Ref)):
            return fn(x)
        if isinstance(x, dict) and any(isinstance(v, (Shared, Ref)) for v in x.values()):
            return {k: fn(v) if isinstance(v, (Shared, Ref)) else v for k, v in x.items()}
        return x

    return tuple(one(a) for a in args)


def remember(cache: OrderedDict[Hashable, Any], key: Hashable, value: Any) -> None:
    """Keep ``key`` in ``cache`` as the newest entry, dropping the oldest beyond the slots."""
    cache[key] = value
    cache.move_to_end(key)
    while len(cache) > CACHE_SLOTS:
        cache.popitem(last=False)


def _watch_parent(parent_pid: int) -> None:
    def watch() -> None:
        while True:
            time.sleep(0.5)
            if os.getppid() != parent_pid:
                os._exit(0)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def worker_main(conn: Connection, parent_pid: int, shm: Any = None) -> None:
    """Worker loop: receive ``(fn, args)``, answer ``(True, result)`` or ``(False, exception)``;
    ``shm`` is the task's progress/cancel channel (see :class:`.context.ShmContext`)."""
    _watch_parent(parent_pid)
    allocator.tune()  # big temporaries reused, not mapped afresh (see .allocator)
    cache: OrderedDict[Hashable, Any] = OrderedDict()

    def resolve(x: Shared | Ref) -> Any:
        if isinstance(x, Shared):
            remember(cache, x.key, x.value)
            return x.value
        value = cache[x.key]
        cache.move_to_end(x.key)
        return value

    while True:
        try:
            conn.recv_bytes()  # the size header (unused here)
            fn, args = pickle.loads(conn.recv_bytes())
        except (EOFError, OSError):
            return
        try:
            args = map_shared(args, resolve)
            ctx = ShmContext(shm, shm[0]) if shm is not None else TaskContext()
            with bind(ctx):
                result = fn(*args)
            answer = pickle.dumps((True, result), protocol=pickle.HIGHEST_PROTOCOL)
        except BaseException as exc:
            try:
                answer = pickle.dumps((False, exc), protocol=pickle.HIGHEST_PROTOCOL)
            except Exception:
                answer = pickle.dumps((False, RuntimeError(f"{type(exc).__name__}: {exc}")))
        try:
            send_frame(conn, answer)
        except OSError:  # the server is gone (e.g. SIGKILL): exit quietly, as with no parent
            return


_START_LOCK = threading.RLock()  # held while a worker starts (both helpers below take it)


@contextmanager
def without_parent_main() -> Iterator[None]:
    """Spawn without re-running the parent's ``__main__`` in the child.

    ``spawn`` normally imports the parent's main script in every child (so functions defined
    there unpickle), which re-runs a script that has no ``if __name__ == "__main__"`` guard --
    starting another server per worker -- and crashes for a script read from standard input.
    Our workers run only ``chatops_widget`` functions, so they need none of it: the start-up
    data for the child is taken without the main-module entries.
    """
    original = multiprocessing.spawn.get_preparation_data

    def preparation(name: str) -> dict[str, Any]:
        data = original(name)
        data.pop("init_main_from_path", None)
        data.pop("init_main_from_name", None)
        return data

    with _START_LOCK:
        multiprocessing.spawn.get_preparation_data = preparation
        try:
            yield
        finally:
            multiprocessing.spawn.get_preparation_data = original


#: Set to 1 in a worker's environment unless already set: the pool runs one task per core, so
#: a BLAS or OpenMP thread pool per worker only competes for the cores (OpenBLAS's threads spin
#: for a while after each call, taking a core from the other workers). Dask sets the same.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


@contextmanager
def single_threaded_libraries() -> Iterator[None]:
    """While starting a worker: :data:`THREAD_VARIABLES` set to 1 where unset (the child reads
    its environment once, at start; the server's own environment is restored at once)."""
    added = [name for name in THREAD_VARIABLES if name not in os.environ]
    with _START_LOCK:
        for name in added:
            os.environ[name] = "1"
        try:
            yield
        finally:
            for name in added:
                os.environ.pop(name, None)


def send_frame(conn: Connection, data: bytes) -> None:
    """Write ``data`` to the pipe as one frame: its 8-byte size, then the bytes."""
    conn.send_bytes(_SIZE.pack(len(data)))
    conn.send_bytes(data)
