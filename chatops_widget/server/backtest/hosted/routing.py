"""Runs of hosted strategies: sent to the owner's kernel, awaited, stored like any other run.

A run of a hosted strategy is a job like the others (:class:`~..jobs.manager.Job`: ``queued``,
``running``, progress, ``/cancel``, ``/status``), but its work is a ``hostedRun`` request to a
connection of the owner's kernel client, carrying the bars (Arrow), the validated parameters
(or, for a sweep, the combinations) and the run's costs and orders. The kernel answers with
``hostedProgress`` events and one ``hostedResult``, accepted only from a connection of that
client. The result's frames are checked and its stats recomputed here (:mod:`.frames`), then it
is stored and announced exactly as a pool run's (same summary, same ``getResult``).

What can go wrong is reported as the run's failure, with who is responsible: the owner's
kernel not connected (refused before any job exists), its function raising (``my_mom failed
in alice's notebook: ZeroDivisionError: division by zero``), a wrong return, the owner's
timeout (the kernel is told to stop), the kernel disconnecting for longer than
:data:`.remote.RECONNECT_GRACE` seconds during the run. A comparison may mix hosted and stored
strategies: the stored ones run in the pool at the same time.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from chatops_widget._serialization import from_arrow_bytes
from chatops_widget.protocol import HostedResult
from chatops_widget.server.host import Host

from .._facts import comparison_summary
from ..errors import BacktestError, Invalid
from ..jobs import tasks as _work
from ..jobs.manager import Job, JobCancelled
from ..storage.results import StoredResult
from . import frames
from .registry import HostedStrategy
from .remote import OwnerKernels

if TYPE_CHECKING:
    from .._runspec import RunSpec
    from ..resolve import Prepared
    from ..service import BacktestService

__all__ = ["HostedRuns"]

log = logging.getLogger(__name__)


class HostedRuns:
    """Routes hosted runs (see the module docstring)."""

    def __init__(self, service: BacktestService, host: Host) -> None:
        self.svc, self.host = service, host
        #: the requests out in the owners' kernels, and their answers
        self.kernels = OwnerKernels(service.jobs, host)

    # ------------------------------------------------------------------ running
    @staticmethod
    def involved(prepared: Prepared) -> bool:
        """Whether a prepared request names a hosted strategy (or a finished run)."""
        return any(
            getattr(s, "hosted", None) is not None or getattr(s, "result_of", None)
            for s in prepared.specs
        )

    async def run(
        self,
        prepared: Prepared,
        session_id: str,
        *,
        run_id: str | None = None,
        command: str | None = None,
        started_by: str | None = None,
    ) -> dict[str, Any]:
        """Run a prepared request that names a hosted strategy; its summary (like the pool's)."""
        specs = prepared.specs
        ids = [s.strategy_id or s.template for s in specs]
        label = {
            "backtest": specs[0].name or ids[0],
            "comparison": " vs ".join(ids),
            "sweep": f"sweep {ids[0]} {specs[0].symbol}",
        }[prepared.kind]
        job = self.svc.jobs.create(
            session_id,
            prepared.kind,
            run_id=self.svc.new_run_id(run_id),
            strategy_id=",".join(ids),
            label=label,
            command=command,
            started_by=started_by,
        )
        await self.svc.jobs.announce(job)
        try:
            if prepared.kind == "backtest":
                return await self._backtest(job, specs[0])
            if prepared.kind == "sweep":
                return await self._sweep(job, prepared)
            return await self._comparison(job, specs)
        except JobCancelled:
            await self.svc.jobs.report(job, status="cancelled")
            raise
        except BacktestError as exc:
            job.error = job.error or str(exc)
            await self.svc.jobs.report(job, status="failed")
            raise
        except Exception as exc:
            log.exception("%s failed", job.run_id)
            job.error = f"{job.run_id} failed: {type(exc).__name__}: {exc}"
            await self.svc.jobs.report(job, status="failed")
            raise Invalid(job.error) from None

    async def _backtest(self, job: Job, spec: RunSpec) -> dict[str, Any]:
        h: HostedStrategy = spec.hosted
        res = await self.kernels.call(job, spec, job.run_id, "backtest", params=spec.params)
        result = await self._read(spec, res)
        stats, stored = frames.encode_backtest(result)
        summary = {
            "kind": "backtest",
            "runId": job.run_id,
            "strategyId": h.name,
            "template": h.name,
            "symbol": spec.symbol,
            "params": dict(spec.params),
            "stats": stats,
            "status": "completed",
            "hosted": _about(h),
        }
        meta = {"summary": summary, "engineSeconds": float(res.engineSeconds), "hosted": _about(h)}
        await self.svc.finish(job, _stored(job, "backtest", stats, meta, stored))
        return summary

    async def _sweep(self, job: Job, prepared: Prepared) -> dict[str, Any]:
        spec = prepared.specs[0]
        h: HostedStrategy = spec.hosted
        names = list(prepared.combos[0])
        res = await self.kernels.call(
            job, spec, job.run_id, "sweep", combos=prepared.combos, split=prepared.split
        )
        self._raise_failed(h, res)
        try:
            table = await asyncio.to_thread(
                frames.sweep_table, res.frames, names, len(prepared.combos)
            )
        except frames.BadResult as exc:
            raise Invalid(f"{h.name}: the sweep from {h.hosted_by} was refused: {exc}") from None
        combined = await asyncio.to_thread(
            _work.combine_sweep, {"parts": [table], "sort": prepared.sort}
        )
        summary = {
            "kind": "sweep",
            "runId": job.run_id,
            "template": h.name,
            "symbol": spec.symbol,
            "params": names,
            "rows": combined["rows"],
            "count": combined["count"],
            "skipped": prepared.skipped,
            "status": "completed",
            "hosted": _about(h),
        }
        stats: dict[str, Any] = {"count": combined["count"], "skipped": prepared.skipped}
        if prepared.split is not None:
            summary["split"] = stats["split"] = prepared.split
        meta = {"summary": summary, "engineSeconds": float(res.engineSeconds), "hosted": _about(h)}
        await self.svc.finish(job, _stored(job, "sweep", stats, meta, combined["frames"]))
        return summary

    async def _comparison(self, job: Job, specs: list[RunSpec]) -> dict[str, Any]:
        parts: list[Any] = [None] * len(specs)
        finished = [i for i, s in enumerate(specs) if getattr(s, "result_of", None)]
        local = [
            i
            for i, s in enumerate(specs)
            if getattr(s, "hosted", None) is None and i not in finished
        ]
        for i in finished:  # a run that has a result already: its stored frames
            parts[i] = await asyncio.to_thread(self._finished_part, specs[i])

        async def remote(i: int) -> None:
            spec = specs[i]
            res = await self.kernels.call(
                job, spec, f"{job.run_id}_{i}", "backtest", params=spec.params, progress=False
            )
            result = await self._read(spec, res)
            stats, _ = frames.encode_backtest(result)
            parts[i] = {
                "key": spec.hosted.name,
                "stats": stats,
                "params": dict(spec.params),
                "frames": {"equity": result.equity, "trades": result.trades},
                "engine_seconds": float(res.engineSeconds),
            }

        async def pool() -> None:
            tasks = [{**specs[i].task(), "encode": False} for i in local]
            out = await self.svc.jobs.run_chunks(job, _work.backtest_task, tasks)
            for i, part in zip(local, out, strict=True):
                parts[i] = part

        hosted = [i for i, s in enumerate(specs) if getattr(s, "hosted", None) is not None]
        todo = [asyncio.ensure_future(remote(i)) for i in hosted]
        if local:
            todo.append(asyncio.ensure_future(pool()))
        try:
            done, _ = await asyncio.wait(todo, return_when=asyncio.FIRST_EXCEPTION)
            for t in done:
                if t.exception() is not None:
                    raise t.exception()  # type: ignore[misc]
            await asyncio.gather(*todo)
        finally:
            for t in todo:
                t.cancel()
        symbols = [s.symbol for s in specs]
        combined = await asyncio.to_thread(_work.combine_comparison, parts, symbols)
        summary, meta = comparison_summary(job.run_id, parts, combined)
        await self.svc.finish(
            job, _stored(job, "comparison", combined["stats"], meta, combined["frames"])
        )
        return summary

    def _finished_part(self, spec: RunSpec) -> dict[str, Any]:
        stored = self.svc.results.load(spec.result_of or "")
        if stored is None or stored.kind != "backtest":
            raise Invalid(f"{spec.result_of} has no stored backtest result to compare")
        equity = from_arrow_bytes(stored.frames["equity"])
        trades = from_arrow_bytes(stored.frames["trades"])
        return {
            "key": spec.strategy_id,
            "stats": dict(stored.stats),
            "params": dict(spec.params),
            "frames": {"equity": equity, "trades": trades},
            "engine_seconds": 0.0,
        }

    async def _read(self, spec: RunSpec, res: HostedResult) -> Any:
        h: HostedStrategy = spec.hosted
        self._raise_failed(h, res)
        data = spec.data
        try:
            return await asyncio.to_thread(
                frames.backtest_result,
                res.frames,
                h.name,
                index=data.index,
                close=data["Close"],
                cash=spec.cash,
                commission=spec.commission,
                spread=spec.spread,
                params=dict(spec.params),
                symbol=spec.symbol,
                source=h.hosted_by,
            )
        except frames.BadResult as exc:
            raise Invalid(f"{h.name}: the result from {h.hosted_by} was refused: {exc}") from None

    @staticmethod
    def _raise_failed(h: HostedStrategy, res: HostedResult) -> None:
        if not res.ok:
            err = res.error
            what = f"{err.type}: {err.message}" if err else "no reason given"
            raise Invalid(f"{h.name} failed in {h.hosted_by}: {what}")

    # ------------------------------------------------------------------ the owner's kernel


def _about(h: HostedStrategy) -> dict[str, Any]:
    return {"owner": h.owner, "hostedBy": h.hosted_by, "version": h.version}


def _stored(
    job: Job, kind: str, stats: dict[str, Any], meta: dict[str, Any], frames_: dict[str, bytes]
) -> StoredResult:
    return StoredResult(job.run_id, job.session_id, kind, stats, meta, frames_)
