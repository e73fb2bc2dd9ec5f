"""The kernel's early fetches of results (a mixin of :class:`~._tracker.RunTracker`).

A ``getResult`` goes out before anyone asks for the result, so it is in hand when they do: on
``completed`` for a run someone waits on (or this kernel started), and -- with ``wait``, answered
the moment the result is stored -- as soon as an awaited backtest or, while the tracker follows
the session (``follow``), any run is seen starting. An answer that holds a followed run's result
is told to ``on_ready``; one that says ``pending`` (still running when the wait ended) is
forgotten, and the run is fetched on ``completed``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..protocol import TERMINAL_STATUSES
from ._connection import Connection
from ._loop import LoopThread

if TYPE_CHECKING:  # only in annotations
    from ._decode import ResultCache
    from ._runstate import RunState

__all__ = ["Prefetching"]

log = logging.getLogger("chatops_widget.client")


class Prefetching:
    """Early ``getResult`` requests; the tracker's state is shared (see the module docstring)."""

    _conn: Connection
    _loop: LoopThread
    timeout: float
    follow: bool
    _on_ready: Callable[[str, str | None], None] | None
    _runs: dict[str, RunState]
    _cache: ResultCache
    _want: set[str]
    _prefetch: dict[str, concurrent.futures.Future[Any]]
    _cond: threading.Condition

    def _maybe_prefetch(self, st: RunState, wait: bool = False) -> None:
        """On the loop thread, holding the lock: send ``getResult`` now (with ``wait``: answered
        when the result is stored) if someone waits for this run or follows the session."""
        if st.run_id in self._prefetch or st.run_id in self._cache:
            return
        followed = self.follow and st.session_id in (None, self._conn.session_id)
        if not (st.mine or st.run_id in self._want or followed):
            return
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        payload: dict[str, Any] = {
            "sessionId": st.session_id or self._conn.session_id,
            "runId": st.run_id,
        }
        if wait:
            payload["wait"] = True
        task = asyncio.ensure_future(self._conn.direct("getResult", payload, self.timeout))

        def done(t: asyncio.Future[Any]) -> None:
            if t.cancelled():
                future.cancel()
            elif (exc := t.exception()) is not None:
                future.set_exception(exc)
            else:
                future.set_result(t.result())
                self._answered(st, future, t.result())

        task.add_done_callback(done)
        self._prefetch[st.run_id] = future

    def _answered(self, st: RunState, future: Any, ack: Any) -> None:
        """A prefetch's ack (loop thread): tell the follower of a result, or -- still running
        when the wait ended -- forget it, to be fetched on ``completed``."""
        if not isinstance(ack, dict) or not ack.get("ok"):
            return  # failed or gone: result() says why, if anyone asks
        if ack.get("pending"):
            with self._cond:
                if self._prefetch.get(st.run_id) is future:
                    del self._prefetch[st.run_id]
                if st.status == "completed":  # ("completed" overtook the pending answer)
                    self._maybe_prefetch(st)
            return
        meta = ack.get("meta") or {}
        summary = meta.get("summary") or {}
        shown = summary.get("status", "completed") == "completed" and not meta.get("partial")
        if self.follow and shown and self._on_ready is not None:
            try:
                self._on_ready(st.run_id, st.session_id or self._conn.session_id)
            except Exception:  # a broken listener must not break the client's loop
                log.exception("resultReady listener failed for %s", st.run_id)

    def want(self, run_id: str, timeout: float | None = None) -> bool:
        """Mark ``run_id`` as awaited: its result is fetched as soon as it completes.

        For an unfinished backtest, ``getResult`` with ``wait`` goes out now (pipelined: the
        server answers the moment the result exists, a round trip sooner than asking on
        ``completed``). Returns ``True`` if that answer holds the result (ready to decode);
        otherwise it is fetched on ``completed`` (see :meth:`_answered`).
        """
        with self._cond:
            self._want.add(run_id)
            st = self._runs.get(run_id)
            if (
                st is None
                or st.kind != "backtest"
                or st.status in TERMINAL_STATUSES
                or run_id in self._prefetch
                or run_id in self._cache
            ):
                return False
        future = None
        try:
            future = self._loop.run(self._ask(st), self.timeout)
            if future is None:  # cached meanwhile
                return False
            ack = future.result(self.timeout + 5 if timeout is None else timeout)
        except Exception:  # TimeoutError, ConnectionLost, ...: fetch again when asked
            with self._cond:
                if future is not None and self._prefetch.get(run_id) is future:
                    del self._prefetch[run_id]
            return False
        return isinstance(ack, dict) and bool(ack.get("ok")) and not ack.get("pending")

    async def _ask(self, st: RunState) -> concurrent.futures.Future[Any] | None:
        """On the loop thread: the run's prefetch, sent now with ``wait`` unless one is out
        (``None``: its result is cached)."""
        with self._cond:
            self._maybe_prefetch(st, wait=True)
            return self._prefetch.get(st.run_id)
