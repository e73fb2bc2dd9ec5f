"""The job pool on Dask: the same ``start`` / ``run(fn, *args)`` / ``close`` as :class:`WorkerPool`.

Chosen with ``CHATOPS_JOBS=dask``. ``CHATOPS_DASK_SCHEDULER=tcp://host:port`` connects to a
running Dask scheduler (its workers need ``chatops_widget`` installed: tasks name its functions);
without it, :meth:`DaskPool.start` creates a process-based ``distributed.LocalCluster`` with one
single-threaded worker per slot (inside the server's start-up, never at import time). Tasks go
through ``distributed.Client(asynchronous=True).submit`` on the server's own event loop. A
:class:`Shared` argument is scattered to the cluster once and later tasks pass its future, so a
sweep's chunks do not each ship the OHLCV frame. ``distributed`` is optional:
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
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

from .pool import CACHE_SLOTS, Shared, WorkerDied, map_shared, without_parent_main

__all__ = ["SCHEDULER_ENV", "DaskPool", "import_distributed"]

SCHEDULER_ENV = "CHATOPS_DASK_SCHEDULER"

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

    async def start(self) -> None:
        """Connect to the scheduler (or start the local cluster); a failure is logged, then raised.

        Logged because the ASGI start-up reports a failed hook without its message.
        """
        try:
            await self._start()
        except Exception as exc:
            log.error("the Dask job pool did not start: %s", exc)
            raise

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
            )
        self._client = await distributed.Client(self._cluster, asynchronous=True)

    async def _shared(self, x: Shared) -> Any:
        """The cluster-side future for ``x``'s value (scattered the first time its key is seen)."""
        fut = self._scattered.get(x.key)
        if fut is None:
            fut = asyncio.ensure_future(self._client.scatter(x.value, hash=False))
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

    async def run(self, fn: Any, *args: Any) -> Any:
        """Run ``fn(*args)`` on a Dask worker; re-raises its exception (or :class:`WorkerDied`)."""
        if self._client is None:
            raise RuntimeError("DaskPool.start() was not called")
        shared: dict[Hashable, Any] = {}
        for a in args:
            values = a.values() if isinstance(a, dict) else (a,)
            for x in values:
                if isinstance(x, Shared) and x.key not in shared:
                    shared[x.key] = await self._shared(x)
        args = map_shared(args, lambda x: shared[x.key])
        future = self._client.submit(fn, *args, pure=False)
        try:
            return await future
        except asyncio.CancelledError:
            done = future.cancel()
            if inspect.isawaitable(done):  # let the cancel go through in the background
                task = asyncio.ensure_future(done)
                self._cancels.add(task)
                task.add_done_callback(self._cancels.discard)
            raise
        except import_distributed().KilledWorker as exc:
            raise WorkerDied(f"a Dask worker died while running this task: {exc}") from None

    async def close(self) -> None:
        """Disconnect (and stop the local cluster, if this pool started one)."""
        self._scattered.clear()
        client, self._client = self._client, None
        cluster, self._cluster = self._cluster, None
        if client is not None:
            if cluster is not None:  # our workers stop before our scheduler: no heartbeat errors
                try:
                    await client.retire_workers(close_workers=True)
                except Exception as exc:  # best effort; the cluster closes them anyway
                    log.debug("retiring the local Dask workers: %s", exc)
            await client.close()
        if cluster is not None:
            await cluster.close()
