"""The owners' kernels, as the server talks to them: a ``hostedRun`` request goes to a
connection of the owner's kernel client, which answers with ``hostedProgress`` events and one
``hostedResult`` -- accepted only from a connection of that client, so nobody else can answer
for it.

:meth:`OwnerKernels.call` sends a request and waits for its answer, watching the run's
``/cancel`` and the owner's timeout (the kernel is told to stop: ``hostedCancel``). A kernel
that disconnects during a run gets :data:`RECONNECT_GRACE` seconds to come back (its answer is
queued meanwhile and arrives after the reconnect); a request it had not started yet is sent
again when it re-registers.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from chatops_widget._serialization import to_arrow_bytes
from chatops_widget.protocol import (
    ErrorCode,
    HostedProgress,
    HostedResult,
    HostedRun,
    ProtocolError,
    ServerEvent,
    parse,
)
from chatops_widget.server.host import Host

from ..errors import BacktestError, Invalid
from ..jobs.manager import Job, JobCancelled, JobManager
from .registry import HostedStrategy

if TYPE_CHECKING:
    from .._runspec import RunSpec

__all__ = ["RECONNECT_GRACE", "Forbidden", "OwnerKernels", "Unavailable", "offline"]

#: Seconds a run waits for its owner's kernel to reconnect before it fails.
RECONNECT_GRACE = 15.0
_POLL = 0.05  # s between checks for a cancel or the timeout


class Unavailable(BacktestError):
    """The owner's kernel of a hosted strategy is not connected."""

    code = ErrorCode.UNAVAILABLE


class Forbidden(BacktestError):
    """A private hosted strategy, run by someone else than its owner."""

    code = ErrorCode.FORBIDDEN


def offline(h: HostedStrategy) -> Unavailable:
    """The error of a run whose owner's kernel is away."""
    return Unavailable(
        f"{h.name} is hosted by {h.hosted_by}, which is not connected; ask "
        f"{h.owner} to open it (its ChatOpsClient reconnects by itself)"
    )


@dataclass
class _Pending:
    request_id: str
    job: Job
    strategy: HostedStrategy
    message: dict[str, Any]
    future: asyncio.Future[HostedResult]
    progress: bool = True  # forward its progress to the job (a single run)
    started: bool = False
    sent_to: set[str] = field(default_factory=set)


class OwnerKernels:
    """Requests to the owners' kernels and their answers (see the module docstring)."""

    def __init__(self, jobs: JobManager, host: Host) -> None:
        self.jobs, self.host = jobs, host
        self.pending: dict[str, _Pending] = {}

    async def call(
        self,
        job: Job,
        spec: RunSpec,
        request_id: str,
        kind: Literal["backtest", "sweep"],
        *,
        progress: bool = True,
        **fields: Any,
    ) -> HostedResult:
        """Send ``hostedRun`` to the owner's kernel and wait for its ``hostedResult``."""
        h: HostedStrategy = spec.hosted
        if not self.host.connections(h.owner_client):
            raise offline(h)
        data = await asyncio.to_thread(to_arrow_bytes, spec.data)
        message = HostedRun(
            runId=request_id,
            sessionId=job.session_id,
            name=h.name,
            version=h.version,
            kind=kind,
            startedBy=job.started_by or "guest",
            symbol=spec.symbol,
            cash=spec.cash,
            commission=spec.commission,
            spread=spec.spread,
            orders=dict(getattr(spec, "orders", None) or {}),
            timeout=h.timeout,
            data=data,
            **fields,
        ).model_dump(exclude_none=True)
        loop = asyncio.get_running_loop()
        pending = _Pending(request_id, job, h, message, loop.create_future(), progress)
        self.pending[request_id] = pending
        try:
            await self._send(pending)
            deadline = time.monotonic() + h.timeout
            while True:
                done, _ = await asyncio.wait({pending.future}, timeout=_POLL)
                if done:
                    return pending.future.result()
                if job.cancel_requested:
                    await self._stop(pending, "cancelled")
                    raise JobCancelled(job.run_id)
                if time.monotonic() > deadline:
                    await self._stop(pending, "timeout")
                    raise Invalid(
                        f"{h.name} did not finish within {h.timeout:g} s (the limit "
                        f"{h.owner} set when registering it); it was cancelled"
                    )
        finally:
            self.pending.pop(request_id, None)

    async def _send(self, pending: _Pending) -> None:
        for sid in self.host.connections(pending.strategy.owner_client)[-1:]:
            pending.sent_to.add(sid)
            await self.host.emit_to(sid, ServerEvent.HOSTED_RUN.value, pending.message)

    async def _stop(self, pending: _Pending, reason: str) -> None:
        payload = {"runId": pending.request_id, "reason": reason}
        for sid in self.host.connections(pending.strategy.owner_client):
            await self.host.emit_to(sid, ServerEvent.HOSTED_CANCEL.value, payload)

    def _mine(self, sid: str, run_id: str, event: str) -> _Pending:
        pending = self.pending.get(run_id)
        if pending is None or self.host.client_of(sid) != pending.strategy.owner_client:
            raise ProtocolError(
                ErrorCode.NOT_FOUND,
                f"{event}: {run_id} is not a run waiting "
                "for this kernel (it finished, timed out or was cancelled)",
            )
        return pending

    async def on_progress(self, sid: str, data: Any) -> dict[str, Any]:
        """``hostedProgress {runId, progress, message?}`` from the owner's kernel."""
        req = parse(HostedProgress, data)
        pending = self._mine(sid, req.runId, "hostedProgress")
        pending.started = True
        job = pending.job
        if job.status == "queued":
            await self.jobs.report(job, status="running")
        if pending.progress:
            await self.jobs.report(job, progress=min(99.0, float(req.progress)))
        return {"runId": req.runId}

    async def on_result(self, sid: str, data: Any) -> dict[str, Any]:
        """``hostedResult {runId, ok, ...}`` from the owner's kernel: the run's outcome."""
        req = parse(HostedResult, data)
        pending = self._mine(sid, req.runId, "hostedResult")
        if not pending.future.done():
            pending.future.set_result(req)
        return {"runId": req.runId}

    async def owner_back(self, client_id: str) -> None:
        """The owner's kernel is connected again: requests it never started are sent again."""
        for pending in list(self.pending.values()):
            if pending.strategy.owner_client == client_id and not pending.started:
                await self._send(pending)

    def owner_gone(self, client_id: str) -> None:
        """The owner's kernel disconnected: its runs fail unless it is back within the grace."""
        for pending in self.pending.values():
            if pending.strategy.owner_client == client_id:
                asyncio.get_running_loop().call_later(RECONNECT_GRACE, self._give_up, pending)

    def _give_up(self, pending: _Pending) -> None:
        if pending.future.done() or self.host.connections(pending.strategy.owner_client):
            return
        h = pending.strategy
        pending.future.set_exception(
            Unavailable(
                f"{h.hosted_by} disconnected while running {h.name} and did not come back within "
                f"{RECONNECT_GRACE:g} s; the run stopped"
            )
        )
