"""The backtest events (no chat message): ``getResult`` (a stored result as Arrow IPC bytes),
``getRuns`` and ``getStrategies``, and the ``strategies``/``templates``/``runs`` fields of the
``joinSession`` ack.

Example (client):
    >>> client.call("getResult", {"sessionId": sid, "runId": "run_3fa2b1c4d5e6"})  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

from chatops_widget import engine
from chatops_widget.protocol import SESSION_ID_PATTERN, ErrorCode, GetResult, ProtocolError, parse
from chatops_widget.server.host import Host

from ..errors import BacktestError, to_protocol
from ..service import BacktestService

__all__ = ["WAIT_MAX", "BacktestEvents"]

WAIT_MAX = 0.5  # s: the longest a ``getResult`` with ``wait`` waits (then: ``pending``)


class BacktestEvents:
    """The plugin's client events and join-ack fields, over one :class:`BacktestService`."""

    def __init__(self, service: BacktestService, host: Host) -> None:
        self.svc, self.host = service, host

    def register(self, host: Host) -> None:
        """Add the events and the join-ack fields to ``host``."""
        host.on_event("getResult", self.get_result, ordered=False)  # a read that may wait
        host.on_event("getRuns", self.get_runs)
        host.on_event("getStrategies", self.get_strategies)
        host.on_join(self.join_extras)

    async def get_result(self, sid: str, data: Any) -> dict[str, Any]:
        """``getResult {sessionId, runId, wait?}`` -> ``{runId, kind, stats, meta, frames,
        <name>: bytes}``. With ``wait: true`` (or seconds) an unfinished run of the session is
        awaited for up to :data:`WAIT_MAX` s, so a client can ask as the run starts and have
        the result the moment it is stored (a round trip sooner than asking on ``completed``);
        if it is still going then, the ack is ``{runId, pending: true, status, progress}``
        (ask again). The wait holds back none of the connection's other events."""
        wait, data = _pop_wait(data)
        req = parse(GetResult, data)
        self.host.require_joined(sid, req.sessionId, "getResult")
        svc = self.svc
        stored = svc.results.cached(req.runId)
        job = svc.jobs.get(req.runId) if stored is None and wait else None
        if job is not None and job.session_id == req.sessionId and not job.done:
            # registered unordered: the connection's later events are handled meanwhile
            if not await svc.jobs.wait_done(job, wait):
                info = {"runId": req.runId, "sessionId": req.sessionId, "pending": True}
                return {**info, "status": job.status, "progress": round(job.progress, 2)}
            stored = svc.results.cached(req.runId)
        if stored is None:  # read Parquet in a thread: a big result must not stall the loop
            stored = await asyncio.to_thread(svc.results.load, req.runId)
        if stored is None or stored.session_id != req.sessionId:
            job = svc.jobs.get(req.runId)
            if job is not None and job.session_id == req.sessionId and not job.done:
                raise ProtocolError(
                    ErrorCode.NOT_FOUND,
                    f"{req.runId} is still {job.status} ({job.progress:.0f}%); wait for it to "
                    "finish",
                )
            try:
                svc.summary_of(req.sessionId, req.runId)  # raises NotFound with a hint
            except BacktestError as exc:
                raise to_protocol(exc) from None
            raise ProtocolError(ErrorCode.NOT_FOUND, f"{req.runId} has no stored result")
        out = stored.wire()
        out.pop("ok", None)
        return out

    async def get_runs(self, sid: str, data: Any) -> dict[str, Any]:
        """``getRuns {sessionId}`` -> ``{runs: [...]}`` (what /status shows, no chat message)."""
        session_id = self._session_of(sid, data, "getRuns")
        return {"sessionId": session_id, "runs": self.svc.runs(session_id)}

    async def get_strategies(self, sid: str, data: Any) -> dict[str, Any]:
        """``getStrategies {sessionId}`` -> ``{strategies: [...]}`` (no chat message)."""
        self._session_of(sid, data, "getStrategies")
        hosted = self.svc.hosted.listing() if self.svc.hosted else []
        return {"strategies": [s.info() for s in self.svc.strategies.all()], "hosted": hosted}

    def join_extras(self, session_id: str) -> dict[str, Any]:
        """The ``strategies``, ``templates`` and ``runs`` fields of a ``joinSession`` ack; the
        first join also starts the service's warm-up (its catalog, the simulator's imports)."""
        self.svc.warm_up()
        return {
            "strategies": [s.info() for s in self.svc.strategies.all()],
            "templates": [t.spec() for t in engine.templates().values()],
            "runs": self.svc.runs(session_id),
        }

    def _session_of(self, sid: str, data: Any, event: str) -> str:
        session_id = data.get("sessionId") if isinstance(data, dict) else data
        if not isinstance(session_id, str) or not re.fullmatch(SESSION_ID_PATTERN, session_id):
            raise ProtocolError(
                ErrorCode.BAD_REQUEST,
                f"{event}: expected {{'sessionId': 'session_...'}}, got {str(data)[:80]!r}",
            )
        self.host.require_joined(sid, session_id, event)
        return session_id


def _pop_wait(data: Any) -> tuple[float, Any]:
    if not isinstance(data, dict) or "wait" not in data:
        return 0.0, data
    data = dict(data)
    wait = data.pop("wait")
    if isinstance(wait, bool):
        return (WAIT_MAX if wait else 0.0), data
    if isinstance(wait, (int, float)) and wait >= 0:  # nan fails the test; huge ints do not
        return float(min(wait, WAIT_MAX)), data
    raise ProtocolError(
        ErrorCode.BAD_REQUEST, f"getResult: wait must be true/false or seconds >= 0, got {wait!r}"
    )
