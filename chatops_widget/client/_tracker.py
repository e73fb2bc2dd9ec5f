"""Runs in the kernel: every run of the session -- started from this kernel, by another member
or from the chat panel -- followed from its events, and its result fetched once and decoded.

A :class:`RunTracker` is fed the client's ``backtestProgress``, ``commandResult`` and
``connect`` events and talks to the server over the client's
:class:`~chatops_widget.client._connection.Connection` (it knows nothing else of the client).
Runs started from Python go out as typed ``startRun`` requests; results are fetched with
``getResult`` (Arrow IPC bytes, decoded to DataFrames) and cached within a byte budget.

With :attr:`RunTracker.follow` on (the client sets it while someone listens to its local
``resultReady`` event, as the chat panel does) every run of the session is fetched as soon as its
result exists: a run seen starting gets a ``getResult`` with ``wait`` (the server answers it the
moment the result is stored, alongside ``completed`` and ``commandResult``), and
``on_ready(run_id, session_id)`` tells the listener, which decodes it with
:meth:`RunTracker.result`.

Example:
    >>> run_id = tracker.start({"kind": "backtest", "targets": ["strategy_1"]})  # doctest: +SKIP
    >>> tracker.wait(run_id, 60), tracker.result(run_id).stats["sharpe"]         # doctest: +SKIP
"""

from __future__ import annotations

import concurrent.futures
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import CancelledError
from typing import TYPE_CHECKING, Any

from ..protocol import (
    RESULT_KINDS,
    TERMINAL_STATUSES,
    ClientEvent,
    ErrorCode,
    ProtocolError,
    new_run_id,
)
from ._connection import Connection
from ._decode import ResultCache, RunFailed, ack_nbytes, decode_result, runs_frame, strategies_frame
from ._loop import LoopThread
from ._prefetch import Prefetching
from ._runstate import RunState
from ._wire import check_ack

if TYPE_CHECKING:  # only in annotations
    import pandas as pd

__all__ = ["RunState", "RunTracker"]


class RunTracker(Prefetching):
    """Follows the runs of one connection's session (see the module docstring)."""

    def __init__(
        self,
        conn: Connection,
        loop: LoopThread,
        timeout: float,
        on_ready: Callable[[str, str | None], None] | None = None,
    ) -> None:
        self._conn, self._loop, self.timeout = conn, loop, timeout
        #: fetch every run of the session the moment its result exists (see the module doc)
        self.follow = False
        self._on_ready = on_ready  # told (loop thread) when a followed run's result is in hand
        self._asked: set[str] = set()  # runs asked for with ``wait`` (once each)
        self._runs: dict[str, RunState] = {}
        self._cache = ResultCache()  # decoded results, bounded; dropped ones are re-fetched
        self.meta: dict[str, dict[str, Any]] = {}  # run id -> getResult "meta" (engineSeconds...)
        self._want: set[str] = set()  # runs someone waits on: fetched as soon as they complete
        self._prefetch: dict[str, concurrent.futures.Future[Any]] = {}
        self._awaited: dict[str, dict[str, Any] | None] = {}
        self._cond = threading.Condition()

    # ------------------------------------------------------------------ events (loop thread)
    def _get(self, run_id: str, session_id: str | None) -> RunState:
        st = self._runs.get(run_id)
        if st is None:
            st = self._runs[run_id] = RunState(run_id, session_id)
        return st

    def on_progress(self, data: dict[str, Any]) -> None:
        """A ``backtestProgress`` event."""
        with self._cond:
            st = self._get(data["runId"], data.get("sessionId"))
            st.seen = True
            if data.get("status") == "completed":
                self._maybe_prefetch(st)  # the result is stored before "completed" is sent
            elif data.get("status") == "running" and self.follow and st.run_id not in self._asked:
                self._asked.add(st.run_id)  # answered as the result is stored (or "pending")
                self._maybe_prefetch(st, wait=True)
            if st.status not in TERMINAL_STATUSES:
                st.status = data.get("status", st.status)
                st.progress = max(st.progress, float(data.get("progress", 0.0)))
                st.strategy_id = data.get("strategyId") or st.strategy_id
                if st.status == "failed":
                    st.error = data.get("message")
                else:
                    st.label = data.get("message") or st.label
                st.updated = time.time()
            self._cond.notify_all()

    def on_result(self, data: dict[str, Any]) -> None:
        """A ``commandResult`` event."""
        summary = data.get("summary") or {}
        with self._cond:
            if data.get("command") in self._awaited:
                self._awaited[data["command"]] = data
                self._cond.notify_all()
            run_id = data.get("runId")
            if run_id is None:
                return
            st = self._get(run_id, data.get("sessionId"))
            st.command, st.seen = data.get("command") or st.command, True
            if not data.get("ok"):
                st.status = "failed"
                st.error = (data.get("error") or {}).get("message", "failed")
                st.error_code = (data.get("error") or {}).get("code")
            elif summary.get("kind") in RESULT_KINDS:
                st.kind = summary["kind"]
                st.status = summary.get("status", "completed")
                if st.status == "completed":
                    st.summary, st.progress = summary, 100.0
                    self._maybe_prefetch(st)
                else:  # cancelled (its summary says what it kept, e.g. finished windows)
                    st.summary = summary
            self._cond.notify_all()

    def on_connect(self, *_: Any) -> None:
        """After a reconnect: settle unfinished runs from the join ack's ``runs`` list (events
        sent while we were away are lost; a run the server no longer knows was lost in a
        restart)."""
        session = self._conn.session_id
        rows = {r.get("runId"): r for r in self._conn.join_ack.get("runs", [])}
        with self._cond:
            for st in self._runs.values():
                if st.session_id != session or (st.status in TERMINAL_STATUSES and st.summary):
                    continue
                row = rows.get(st.run_id)
                if row is None and st.seen:
                    st.status = "failed"
                    st.error = f"{st.run_id} was lost: the server restarted before it finished"
                elif row is not None:
                    st.progress = max(st.progress, float(row.get("progress") or 0.0))
                    st.status, st.kind = row.get("status", st.status), row.get("kind", st.kind)
                    st.error = row.get("error") or st.error
                    if st.status == "completed" and not st.summary:
                        st.summary = {"kind": st.kind, "runId": st.run_id, "status": "completed"}
            self._cond.notify_all()

    # ------------------------------------------------------------------ queries
    @property
    def session_id(self) -> str | None:
        """The session whose runs are followed."""
        return self._conn.session_id

    def state(self, run_id: str) -> RunState:
        """What is known of ``run_id`` (``KeyError`` if nothing)."""
        with self._cond:
            st = self._runs.get(run_id)
            if st is None:
                raise KeyError(f"unknown run {run_id!r}")
            return st

    def completed_ids(self) -> list[str]:
        """The session's completed runs that have a result, oldest first."""
        session = self._conn.session_id
        ids = [
            r["runId"]
            for r in self._conn.join_ack.get("runs", [])
            if r.get("status") == "completed" and r.get("kind") in RESULT_KINDS
        ]
        with self._cond:
            for st in self._runs.values():
                # "completed" is sent once the result is stored: fetchable before commandResult
                if st.session_id == session and st.status == "completed":
                    ids.append(st.run_id)
        return list(dict.fromkeys(ids))

    def maybe_done(self, run_id: str) -> bool:
        """True if ``run_id`` may have completed without our hearing of it yet (so ask)."""
        if not isinstance(run_id, str) or not run_id.startswith("run_"):
            return False
        with self._cond:
            st = self._runs.get(run_id)
            return st is None or st.status not in TERMINAL_STATUSES

    def wait(self, run_id: str, timeout: float | None) -> str:
        """Block until ``run_id`` ends; its status (``TimeoutError`` after ``timeout`` s)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while True:
                st = self._runs[run_id]
                if st.status in TERMINAL_STATUSES and (st.status != "completed" or st.summary):
                    return st.status
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    raise TimeoutError(f"{run_id} is still {st.status} ({st.progress:.0f}%)")
                self._cond.wait(left if left is not None else 1.0)

    @property
    def cache_limit(self) -> int:
        """Bytes of decoded DataFrames kept (least recently used dropped beyond it)."""
        return self._cache.limit

    @cache_limit.setter
    def cache_limit(self, limit: int) -> None:
        with self._cond:
            self._cache.limit = limit
            self._cache.shrink()

    def cached(self, run_id: str) -> Any:
        """The decoded result of ``run_id`` if the kernel holds it, else ``None``."""
        with self._cond:
            return self._cache.get(run_id)

    # ------------------------------------------------------------------ results
    def result(self, run_id: str) -> Any:
        """The decoded result of ``run_id`` (fetched once; :class:`RunFailed` if it failed)."""
        with self._cond:
            if run_id in self._cache:
                return self._cache.get(run_id)
            st = self._runs.get(run_id)
            pending = self._prefetch.get(run_id)  # kept until cached: no second prefetch
        if st is not None and st.status in {"failed", "cancelled"}:
            reason = st.error or f"{run_id} was {st.status} at {st.progress:.0f}%"
            raise RunFailed(run_id, st.status, reason, st.error_code, self._partial(st))
        ack = None
        if pending is not None:
            try:
                ack = check_ack(pending.result(self.timeout + 5))
            except (ProtocolError, TimeoutError, ConnectionError, CancelledError):
                ack = None  # fetch again below
            if ack is not None and ack.get("pending"):
                ack = None
        if ack is None:
            session = (st.session_id if st else None) or self._conn.session_id
            ack = self._call(ClientEvent.GET_RESULT, {"sessionId": session, "runId": run_id})
        value = decode_result(ack)
        with self._cond:
            if st is not None and ack.get("meta", {}).get("summary"):
                # complete after a reconnect, or before commandResult (a pipelined getResult)
                st.summary = ack["meta"]["summary"]
                if st.status not in TERMINAL_STATUSES:
                    st.status, st.progress = "completed", 100.0
            self._cache.put(run_id, value, ack_nbytes(ack) or None)
            self.meta[run_id] = ack.get("meta", {})
            self._prefetch.pop(run_id, None)
        return value

    def _partial(self, st: RunState) -> Any:
        """What a cancelled run kept (``summary.partial``: e.g. finished windows), decoded."""
        if st.status != "cancelled" or st.kind != "walkforward":
            return None
        with self._cond:  # "cancelled" arrives just before the commandResult that says it
            self._cond.wait_for(lambda: st.summary is not None, self.timeout)
        if not (st.summary or {}).get("partial"):
            return None
        payload = {"sessionId": st.session_id or self._conn.session_id, "runId": st.run_id}
        try:
            return decode_result(self._call(ClientEvent.GET_RESULT, payload))
        except (ProtocolError, TimeoutError, ConnectionError):
            return None

    # ------------------------------------------------------------------ requests
    def _call(self, event: ClientEvent | str, payload: Any, *, keep: bool = False) -> Any:
        name = event.value if isinstance(event, ClientEvent) else event
        coro = self._conn.request(name, payload, self.timeout, keep=keep)
        return check_ack(self._loop.run(coro, self.timeout + 5))

    def _session(self) -> str:
        session = self._conn.session_id
        if session is None:
            raise ProtocolError(ErrorCode.NOT_JOINED, "join or create a session first")
        return session

    def start(self, fields: dict[str, Any]) -> str:
        """Send a ``startRun`` (``fields``: its kind, targets, options) and return the run id at
        once; a bad request raises ``ProtocolError`` with the server's explanation."""
        session, run_id = self._session(), new_run_id()
        payload = {
            **fields,
            "sessionId": session,
            "runId": run_id,
            "clientMessageId": uuid.uuid4().hex,
        }
        with self._cond:
            st = self._get(run_id, session)
            st.kind, st.mine = fields["kind"], True
        try:
            ack = self._call(ClientEvent.START_RUN, payload, keep=True)
        except ProtocolError:
            with self._cond:
                self._runs.pop(run_id, None)
            raise
        if isinstance(ack.get("message"), dict):
            self._conn.accept(ack["message"])
            with self._cond:
                st.command = ack["message"].get("content")
        return run_id

    def adopt(self, run_id: str, kind: str) -> None:
        """Follow ``run_id`` as this kernel's own (a published result), fetched when done."""
        with self._cond:
            st = self._get(run_id, self._conn.session_id)
            st.kind, st.mine = kind, True

    def cancel(self, run_id: str) -> None:
        """Ask the server to stop ``run_id`` (``/cancel``)."""
        text = f"/cancel {run_id}"
        self._call(ClientEvent.EXECUTE_COMMAND, {"sessionId": self._session(), "command": text})

    def command(self, text: str, timeout: float | None = None) -> dict[str, Any]:
        """Run a command and wait for its ``commandResult``; return the summary (or raise)."""
        timeout = self.timeout if timeout is None else timeout
        with self._cond:
            self._awaited[text] = None
        try:
            payload = {"sessionId": self._session(), "command": text}
            self._call(ClientEvent.EXECUTE_COMMAND, payload)
            with self._cond:
                if not self._cond.wait_for(lambda: self._awaited[text] is not None, timeout):
                    raise TimeoutError(f"no result for {text!r} within {timeout} s")
                data = self._awaited[text] or {}
        finally:
            with self._cond:
                self._awaited.pop(text, None)
        if not data.get("ok"):
            err = data.get("error") or {}
            code = err.get("code", "internal")
            raise ProtocolError(
                code if code in ErrorCode._value2member_map_ else "internal",
                err.get("message", "command failed"),
            )
        return data.get("summary") or {}

    def frame(self) -> pd.DataFrame:
        """``client.runs``: the server's list for the session (kind, status, who, command...)."""
        ack = self._call(ClientEvent.GET_RUNS, {"sessionId": self._session()})
        return runs_frame(ack.get("runs", []))

    def strategies_frame(self) -> pd.DataFrame:
        """``client.strategies``: one row per stored strategy (index ``id``)."""
        ack = self._call(ClientEvent.GET_STRATEGIES, {"sessionId": self._session()})
        return strategies_frame(ack.get("strategies", []))
