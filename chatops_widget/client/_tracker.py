"""Runs in the kernel: handles for backtests started from Python, and every session result as
DataFrames.

A :class:`RunTracker` listens to a :class:`~chatops_widget.ChatOpsClient`'s ``backtestProgress``
and ``commandResult`` events, so it knows every run of the session -- started from this kernel,
by another member or from the chat panel. Results are fetched lazily with ``getResult`` (Arrow
IPC bytes, decoded to DataFrames) and cached.

Example:
    >>> run = client.trigger_backtest("strategy_1", fast=12)        # doctest: +SKIP
    >>> run.progress, run.status                                      # doctest: +SKIP
    (100.0, 'completed')
    >>> run.result().equity.tail()                                    # doctest: +SKIP
    >>> client.compare_strategies("strategy_1", "strategy_2").stats   # doctest: +SKIP
    >>> client.results.keys()                                         # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as _dt
import secrets
import shlex
import threading
import time
from collections.abc import Mapping
from concurrent.futures import CancelledError
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..protocol import ErrorCode, ProtocolError
from ._connection import check_ack
from ._decode import (
    Comparison,
    ResultCache,
    RunFailed,
    decode_result,
    runs_frame,
    strategies_frame,
)
from ._handles import RESULT_KINDS, TERMINAL, ResultsView, Run, RunState

if TYPE_CHECKING:
    from ._client import ChatOpsClient

__all__ = ["Run", "Comparison", "RunTracker", "ResultsView", "RunFailed", "command_text"]

_INPUT_ERRORS = frozenset({"bad_argument", "not_found", "unknown_command", "bad_request"})


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, range):
        if len(v) == 0:
            raise ValueError(f"empty range {v!r}")
        return f"{v[0]}:{v[-1]}:{abs(v.step)}" if v.step > 0 else ",".join(map(str, v))
    if isinstance(v, (list, tuple)):
        return ",".join(_value(x) for x in v)
    if isinstance(v, (pd.Timestamp, _dt.datetime, _dt.date)):
        return pd.Timestamp(v).strftime("%Y-%m-%d")
    return str(v)


def command_text(name: str, args: list[str], options: Mapping[str, Any]) -> str:
    """``/name args key=value ...`` with shell quoting where needed.

    >>> command_text("sweep", ["sma_cross"], {"symbol": "ALPHA", "fast": range(5, 20, 5)})
    '/sweep sma_cross symbol=ALPHA fast=5:15:5'
    """
    parts = [f"/{name}", *map(shlex.quote, args)]
    for key, v in options.items():
        if v is None:
            continue
        parts.append(f"{key}={shlex.quote(_value(v))}")
    return " ".join(parts)


class RunTracker:
    """Follows runs of the client's session; one per :class:`ChatOpsClient`."""

    def __init__(self, client: ChatOpsClient) -> None:
        self.client = client
        self._runs: dict[str, RunState] = {}
        self._cache = ResultCache()  # decoded results, bounded; dropped ones are re-fetched
        self.meta: dict[str, dict[str, Any]] = {}  # run id -> getResult "meta" (engineSeconds...)
        self._want: set[str] = set()  # runs someone waits on: fetched as soon as they complete
        self._prefetch: dict[str, concurrent.futures.Future[Any]] = {}
        self._by_command: dict[str, str] = {}
        self._awaited: dict[str, dict[str, Any] | None] = {}
        self._cond = threading.Condition()
        client.on("backtestProgress", self._on_progress)
        client.on("commandResult", self._on_result)
        client.on("connect", self._on_connect)

    # ------------------------------------------------------------------ events (loop thread)
    def _get(self, run_id: str, session_id: str | None) -> RunState:
        st = self._runs.get(run_id)
        if st is None:
            st = self._runs[run_id] = RunState(run_id, session_id)
        return st

    def _on_progress(self, data: dict[str, Any]) -> None:
        with self._cond:
            st = self._get(data["runId"], data.get("sessionId"))
            st.seen = True
            if data.get("status") == "completed":
                self._maybe_prefetch(st)  # the result is stored before "completed" is sent
            if st.status not in TERMINAL:
                st.status = data.get("status", st.status)
                st.progress = max(st.progress, float(data.get("progress", 0.0)))
                st.strategy_id = data.get("strategyId") or st.strategy_id
                if st.status == "failed":
                    st.error = data.get("message")
                else:
                    st.label = data.get("message") or st.label
                st.updated = time.time()
            self._cond.notify_all()

    def _on_result(self, data: dict[str, Any]) -> None:
        summary = data.get("summary") or {}
        with self._cond:
            if data.get("command") in self._awaited:
                self._awaited[data["command"]] = data
                self._cond.notify_all()
            run_id = data.get("runId") or self._by_command.get(data.get("command", ""))
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
            self._cond.notify_all()

    def _on_connect(self, *_: Any) -> None:
        """After a (re)connect: settle unfinished runs from the join ack's ``runs`` list (events
        sent while we were away are lost; a run the server no longer knows was lost in a restart).
        """
        if getattr(self.client, "_conn", None) is None:  # the first connect, inside __init__
            return
        session = self.client.current_session_id
        rows = {r.get("runId"): r for r in self.client.join_info.get("runs", [])}
        with self._cond:
            for st in self._runs.values():
                if st.session_id != session or (st.status in TERMINAL and st.summary):
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
    def state(self, run_id: str) -> RunState:
        with self._cond:
            st = self._runs.get(run_id)
            if st is None:
                raise KeyError(f"unknown run {run_id!r}")
            return st

    def completed_ids(self) -> list[str]:
        session = self.client.current_session_id
        ids = [
            r["runId"]
            for r in self.client.join_info.get("runs", [])
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
            return st is None or st.status not in TERMINAL

    def wait(self, run_id: str, timeout: float | None) -> str:
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while True:
                st = self._runs[run_id]
                if st.status in TERMINAL and (st.status != "completed" or st.summary):
                    return st.status
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    raise TimeoutError(f"{run_id} is still {st.status} ({st.progress:.0f}%)")
                self._cond.wait(left if left is not None else 1.0)

    def _maybe_prefetch(self, st: RunState) -> None:
        """On the loop thread: send ``getResult`` now if someone waits for this run."""
        if st.run_id in self._prefetch or st.run_id in self._cache:
            return
        if not (st.mine or st.run_id in self._want):
            return
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        payload = {"sessionId": st.session_id or self.client.current_session_id, "runId": st.run_id}
        task = asyncio.ensure_future(
            self.client._conn.direct("getResult", payload, self.client.timeout)
        )

        def done(t: asyncio.Future[Any]) -> None:
            if t.cancelled():
                future.cancel()
            elif t.exception() is not None:
                future.set_exception(t.exception())  # type: ignore[arg-type]
            else:
                future.set_result(t.result())

        task.add_done_callback(done)
        self._prefetch[st.run_id] = future

    def want(self, run_id: str, timeout: float | None = None) -> bool:
        """Mark ``run_id`` as awaited: its result is fetched as soon as it completes.

        For an unfinished backtest, ``getResult`` with ``wait`` goes out now (pipelined: the
        server answers the moment the result exists, a round trip sooner than asking on
        ``completed``). Returns ``True`` if that answer holds the result (ready to decode).
        """
        with self._cond:
            self._want.add(run_id)
            st = self._runs.get(run_id)
            if (
                st is None
                or st.kind != "backtest"
                or st.status in TERMINAL
                or run_id in self._prefetch
                or run_id in self._cache
                or getattr(self.client, "_conn", None) is None
            ):
                return False
            payload = {
                "sessionId": st.session_id or self.client.current_session_id,
                "runId": run_id,
                "wait": True,
            }
            conn = self.client._conn
            future = self.client._submit(conn.direct("getResult", payload, self.client.timeout))
            self._prefetch[run_id] = future
        try:
            ack = future.result(self.client.timeout + 5 if timeout is None else timeout)
        except Exception:  # TimeoutError, ConnectionLost, ...: fall back to waiting
            ack = None
        if isinstance(ack, dict) and ack.get("ok") and not ack.get("pending"):
            return True
        with self._cond:  # not ready (or failed): fetch as usual once it completes
            if self._prefetch.get(run_id) is future:
                del self._prefetch[run_id]
            st = self._runs.get(run_id)
            if st is not None and st.status == "completed":
                self._maybe_prefetch_threadsafe(st)
        return False

    def _maybe_prefetch_threadsafe(self, st: RunState) -> None:
        loop = getattr(self.client, "_loop", None)
        if loop is not None and loop.alive:
            loop.call_soon(self._prefetch_locked, st)

    def _prefetch_locked(self, st: RunState) -> None:
        with self._cond:
            self._maybe_prefetch(st)

    def result(self, run_id: str) -> Any:
        with self._cond:
            if run_id in self._cache:
                return self._cache.get(run_id)
            st = self._runs.get(run_id)
            pending = self._prefetch.get(run_id)  # kept until cached: no second prefetch
        if st is not None and st.status in {"failed", "cancelled"}:
            reason = st.error or f"{run_id} was {st.status} at {st.progress:.0f}%"
            raise RunFailed(run_id, st.status, reason)
        ack = None
        if pending is not None:
            try:
                ack = check_ack(pending.result(self.client.timeout + 5))
            except (ProtocolError, TimeoutError, ConnectionError, CancelledError):
                ack = None  # fetch again below
            if ack is not None and ack.get("pending"):
                ack = None
        if ack is None:
            session = (st.session_id if st else None) or self.client.current_session_id
            ack = self.client.call("getResult", {"sessionId": session, "runId": run_id})
        value = decode_result(ack)
        with self._cond:
            if st is not None and ack.get("meta", {}).get("summary"):
                # complete after a reconnect, or before commandResult (a pipelined getResult)
                st.summary = ack["meta"]["summary"]
                if st.status not in TERMINAL:
                    st.status, st.progress = "completed", 100.0
            self._cache.put(run_id, value)
            self.meta[run_id] = ack.get("meta", {})
            self._prefetch.pop(run_id, None)
        return value

    # ------------------------------------------------------------------ starting runs
    def start(self, name: str, args: list[str], options: dict[str, Any], kind: str) -> Run:
        """Send ``/name args options run_id=<new>`` and return its :class:`Run` at once."""
        run_id = f"run_{secrets.token_hex(6)}"
        text = command_text(name, args, {**options, "run_id": run_id})
        with self._cond:
            st = self._get(run_id, self.client.current_session_id)
            st.kind, st.command, st.mine = kind, text, True
            self._by_command[text] = run_id
        self.client.execute_command(text)
        with self._cond:
            st.session_id = self.client.current_session_id
            # the server answers at once with "queued" (or with an error for bad input)
            self._cond.wait_for(lambda: st.seen, self.client.timeout)
            if st.status == "failed" and st.error_code in _INPUT_ERRORS:
                raise ProtocolError(st.error_code, st.error or "bad input")
        return Run(self, run_id)

    def _rows(self, event: str, key: str) -> list[dict[str, Any]]:
        session = self.client.current_session_id
        if session is None:
            raise ProtocolError(ErrorCode.NOT_JOINED, "join or create a session first")
        return self.client.call(event, {"sessionId": session}).get(key, [])

    def frame(self) -> pd.DataFrame:
        """``client.runs``: the server's list for the session (kind, status, who, command...)."""
        return runs_frame(self._rows("getRuns", "runs"))

    def command(self, text: str, timeout: float | None = None) -> dict[str, Any]:
        """Run a command and wait for its ``commandResult``; return the summary (or raise)."""
        timeout = self.client.timeout if timeout is None else timeout
        with self._cond:
            self._awaited[text] = None
        try:
            self.client.execute_command(text)
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

    def strategies_frame(self) -> pd.DataFrame:
        """``client.strategies``: one row per stored strategy (index ``id``)."""
        return strategies_frame(self._rows("getStrategies", "strategies"))
