"""Worker slots shared fairly between sessions: a semaphore whose waiters are served by key
(the session), the key served longest ago first, so a session with one small run is not stuck
behind another session's queue of big sweeps -- it waits for at most one task of each other
waiting session.

Example:
    >>> import asyncio
    >>> async def main():
    ...     slots, order = FairSlots(1), []
    ...     async def task(key, i):
    ...         async with slots.slot(key):
    ...             order.append(f"{key}{i}")
    ...             await asyncio.sleep(0)
    ...     await asyncio.gather(*[task("a", i) for i in range(3)], task("b", 0))
    ...     return order
    >>> asyncio.run(main())
    ['a0', 'b0', 'a1', 'a2']
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Hashable
from contextlib import asynccontextmanager

__all__ = ["FairSlots"]


class FairSlots:
    """``size`` slots; ``async with slots.slot(key):`` holds one (see the module docstring)."""

    def __init__(self, size: int) -> None:
        self.free = size
        self._waiting: OrderedDict[Hashable, deque[asyncio.Future[None]]] = OrderedDict()
        self._served: dict[Hashable, int] = {}  # key -> when it last got a slot (a counter)
        self._clock = 0

    @asynccontextmanager
    async def slot(self, key: Hashable) -> AsyncIterator[None]:
        """Hold a slot for ``key`` while the ``async with`` block runs."""
        await self.acquire(key)
        try:
            yield
        finally:
            self.release()

    async def acquire(self, key: Hashable) -> None:
        """Wait for a slot; waiting keys take turns."""
        if self.free > 0 and not self._waiting:
            self.free -= 1
            self._serve(key)
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(key, deque()).append(fut)
        try:
            await fut
        except asyncio.CancelledError:
            if fut.done() and not fut.cancelled():
                self.release()  # handed over just as it was cancelled: pass it on
            else:
                self._forget(key, fut)
            raise

    def release(self) -> None:
        """Give the slot to the waiting key served longest ago, or free it."""
        while self._waiting:
            key = min(self._waiting, key=lambda k: self._served.get(k, -1))
            queue = self._waiting[key]
            fut = queue.popleft()
            if not queue:
                del self._waiting[key]
            if not fut.done():
                self._serve(key)
                fut.set_result(None)
                return
        self.free += 1

    def _serve(self, key: Hashable) -> None:
        self._clock += 1
        self._served[key] = self._clock
        if len(self._served) > 10_000:  # forget long-gone keys
            for k in sorted(self._served, key=self._served.__getitem__)[:5_000]:
                del self._served[k]

    def _forget(self, key: Hashable, fut: asyncio.Future[None]) -> None:
        queue = self._waiting.get(key)
        if queue is not None and fut in queue:
            queue.remove(fut)
            if not queue:
                del self._waiting[key]
