"""The backtest service behind the commands: data, stored strategies, jobs and results together.

One :class:`BacktestService` per server, made by
:class:`~chatops_widget.server.backtest.BacktestPlugin`. It resolves what a command names
(strategy ids, templates, symbols), starts jobs in the worker pool (:mod:`.jobs`), streams
``backtestProgress`` to the session, stores results (:mod:`.storage`) and builds the
``commandResult`` summaries (docs/commands.md, "Events").

Example (inside the server; the commands call it like this):
    >>> svc = BacktestService(host)                                     # doctest: +SKIP
    >>> spec = svc.backtest_spec("strategy_1", {"fast": "12"})          # doctest: +SKIP
    >>> summary = await svc.run_backtest("session_1", spec)             # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
from typing import Any, Protocol

from chatops_widget import engine
from chatops_widget.protocol import BacktestProgress, ServerEvent, StartRun
from chatops_widget.server.host import Host

from ._runspec import RunSpec
from .errors import Invalid, NotFound, did_you_mean
from .jobs import tasks as _work
from .jobs.manager import Job, JobCancelled, JobManager
from .resolve import Prepared, Resolver
from .storage.results import ResultStore, StoredResult, write_result
from .storage.strategies import StrategyStore, seed_specs

__all__ = ["BacktestService", "RunSpec"]

log = logging.getLogger(__name__)

SWEEP_CHUNKS = 20  # progress granularity of a sweep (chunks, each one pool task)
SAVE_DELAY = 0.25  # s after "completed" before the result is written to Parquet


class HostedHook(Protocol):
    """What the service asks of the strategies hosted in members' kernels (:mod:`.hosted`)."""

    def check(self, prepared: Prepared, sid: str | None) -> None:
        """Refuse a run that cannot go now (owner not connected, someone else's private one)."""

    def involved(self, prepared: Prepared) -> bool:
        """Whether ``prepared`` names a hosted strategy or a finished run."""

    async def run(self, prepared: Prepared, session_id: str, **fields: Any) -> dict[str, Any]:
        """Run ``prepared`` (in the owner's kernel); its summary."""

    def listing(self) -> list[dict[str, Any]]:
        """Every hosted strategy, as members see it."""

    def names(self) -> list[str]:
        """The hosted strategies' names."""


class BacktestService:
    """Everything the backtest commands share; see the module docstring."""

    def __init__(self, host: Host, *, workers: int | None = None, mode: str | None = None):
        self.host = host
        self.catalog = engine.sample_catalog()
        folder = host.data_dir / "data"
        if folder.is_dir():
            try:
                self.catalog.add_folder(folder)
            except engine.EngineError as exc:
                log.error("skipping data folder %s: %s", folder, exc)
        #: symbol -> revision, bumped by each upload (see .uploads); part of the worker cache key
        self.revisions: dict[str, int] = {}
        self.strategies = StrategyStore(host.data_dir)  # shared by every server on the dir
        self.strategies.seed(seed_specs(self.catalog.symbols()))  # once per data dir
        self.results = ResultStore(host.data_dir)
        #: resolves what requests name (strategies, templates, symbols) and validates them
        self.resolve = Resolver(self.catalog, self.strategies, self.revisions)
        n = workers or int(os.environ.get("CHATOPS_WORKERS", 0)) or min(2, os.cpu_count() or 1)
        mode = mode or os.environ.get("CHATOPS_JOBS") or "process"
        if mode not in ("process", "thread", "dask"):
            raise ValueError(f"CHATOPS_JOBS must be 'process', 'thread' or 'dask', got {mode!r}")
        self.jobs = JobManager(workers=n, mode=mode, on_update=self._progress)  # type: ignore[arg-type]
        self._saves: set[asyncio.Task[Any]] = set()
        self._unsaved: dict[str, StoredResult] = {}
        #: strategies hosted in members' kernels (set by the plugin; see .hosted)
        self.hosted: HostedHook | None = None

    async def start(self) -> None:
        """Start the job manager's workers (a server start-up hook)."""
        await self.jobs.start(warmup=_work.warmup)

    async def shutdown(self) -> None:
        """Store what is not stored yet, then stop the workers (a shut-down hook)."""
        for run_id in list(self._unsaved):
            self._save(run_id)
        if self._saves:  # let pending result writes finish (briefly)
            await asyncio.wait(list(self._saves), timeout=10)
        await self.jobs.shutdown()

    def new_run_id(self, wanted: str | None) -> str | None:
        """``wanted`` if no run has that id yet (:class:`Invalid` if one has); None stays None."""
        if wanted is None:
            return None
        if self.jobs.get(wanted) is not None or self.results.record(wanted) is not None:
            raise Invalid(f"run id {wanted} is already used; pick another (or leave run_id out)")
        return wanted

    # ------------------------------------------------------------------ running
    def prepare(self, req: StartRun, sid: str | None = None) -> Prepared:
        """Validate ``req`` (:meth:`Resolver.prepare`) and, for a hosted strategy, whether it
        can run now for connection ``sid`` (its owner connected; private ones the owner's)."""
        prepared = self.resolve.prepare(req)
        if self.hosted is not None:
            self.hosted.check(prepared, sid)
        return prepared

    async def run(
        self,
        prepared: Prepared,
        session_id: str,
        *,
        run_id: str | None = None,
        command: str | None = None,
        started_by: str | None = None,
    ) -> dict[str, Any]:
        """Run a prepared request to the end; returns its summary (``JobCancelled`` if
        cancelled)."""
        fields = {"run_id": run_id, "command": command, "started_by": started_by}
        if self.hosted is not None and self.hosted.involved(prepared):
            return await self.hosted.run(prepared, session_id, **fields)
        if prepared.kind == "backtest":
            return await self.run_backtest(session_id, prepared.specs[0], **fields)
        if prepared.kind == "comparison":
            return await self.run_comparison(session_id, prepared.specs, **fields)
        return await self.run_sweep(
            session_id, prepared.specs[0], prepared.combos, skipped=prepared.skipped,
            sort=prepared.sort, split=prepared.split, **fields,
        )  # fmt: skip

    async def _job(self, session_id: str, kind: str, run_id: str | None, **fields: Any) -> Job:
        # its "queued" event goes out from run_chunks, once the first task is in a worker
        return self.jobs.create(session_id, kind, run_id=self.new_run_id(run_id), **fields)

    async def run_backtest(self, session_id: str, spec: RunSpec, **job_fields: Any) -> dict:
        """Run one backtest to the end; returns the ``backtest`` summary."""
        job = await self._job(
            session_id,
            "backtest",
            job_fields.pop("run_id", None),
            strategy_id=spec.strategy_id,
            label=spec.name or spec.template,
            **job_fields,
        )
        (out,) = await self._guard(
            job, self.jobs.run_chunks(job, _work.backtest_task, [spec.task()])
        )
        summary = {
            "kind": "backtest",
            "runId": job.run_id,
            "strategyId": spec.strategy_id,
            "template": spec.template,
            "symbol": spec.symbol,
            "params": out["params"],
            "stats": out["stats"],
            "status": "completed",
        }
        meta = {"summary": summary, "engineSeconds": out["engine_seconds"]}
        await self._finish(
            job, StoredResult(job.run_id, session_id, "backtest", out["stats"], meta, out["frames"])
        )
        return summary

    async def run_comparison(self, session_id: str, specs: list[RunSpec], **job_fields) -> dict:
        """Backtest several strategies (one pool task each) and line them up."""
        ids = [s.strategy_id or s.template for s in specs]
        job = await self._job(
            session_id,
            "comparison",
            job_fields.pop("run_id", None),
            strategy_id=",".join(ids),
            label=" vs ".join(ids),
            **job_fields,
        )
        tasks = [{**s.task(), "encode": False} for s in specs]
        parts = await self._guard(job, self.jobs.run_chunks(job, _work.backtest_task, tasks))
        # a few curves side by side: cheap, in a thread (the frames are encoded once, here)
        combined = await self._guard(job, asyncio.to_thread(_work.combine_comparison, parts))
        summary = {
            "kind": "comparison",
            "runId": job.run_id,
            "strategies": ids,
            "table": combined["stats"],
            "status": "completed",
        }
        meta = {
            "summary": summary,
            "engineSeconds": sum(p["engine_seconds"] for p in parts),
            "runs": [{"key": p["key"], "params": p["params"]} for p in parts],
        }
        await self._finish(
            job,
            StoredResult(
                job.run_id, session_id, "comparison", combined["stats"], meta, combined["frames"]
            ),
        )
        return summary

    async def run_sweep(
        self,
        session_id: str,
        spec: RunSpec,
        combos: list[dict],
        *,
        skipped: int = 0,
        sort: str = "sharpe",
        split: str | None = None,
        **job_fields: Any,
    ) -> dict:
        """A grid sweep in chunks (progress per chunk, cancellable between chunks); with
        ``split`` each chunk also runs out of sample (``oos_*`` columns)."""
        job = await self._job(
            session_id,
            "sweep",
            job_fields.pop("run_id", None),
            strategy_id=spec.strategy_id or spec.template,
            label=f"sweep {spec.template} {spec.symbol}",
            **job_fields,
        )
        size = max(1, math.ceil(len(combos) / SWEEP_CHUNKS))
        base = spec.task()
        base["split"] = split
        tasks = [{**base, "combos": combos[i : i + size]} for i in range(0, len(combos), size)]
        parts = await self._guard(job, self.jobs.run_chunks(job, _work.sweep_task, tasks))
        (combined,) = await self._guard(
            job, self.jobs.run_chunks(job, _work.combine_sweep, [{"parts": parts, "sort": sort}])
        )
        summary = {
            "kind": "sweep",
            "runId": job.run_id,
            "template": spec.template,
            "symbol": spec.symbol,
            "params": list(combos[0]),
            "rows": combined["rows"],
            "count": combined["count"],
            "skipped": skipped,
            "status": "completed",
        }
        if split is not None:
            first = parts[0].attrs
            summary.update(
                split=first.get("split"),
                inSample=first.get("in_sample"),
                outOfSample=first.get("out_of_sample"),
            )
        meta = {
            "summary": summary,
            "engineSeconds": sum(p.attrs.get("engine_seconds", 0.0) for p in parts),
        }
        stats = {"count": combined["count"], "skipped": skipped}
        if split is not None:
            stats["split"] = summary["split"]
        await self._finish(
            job, StoredResult(job.run_id, session_id, "sweep", stats, meta, combined["frames"])
        )
        return summary

    async def _guard(self, job: Job, coro: Any) -> Any:
        """Await a job step; turn cancel/failure into the job's summary or a clear error."""
        try:
            return await coro
        except JobCancelled:
            raise
        except engine.EngineError as exc:
            raise Invalid(f"{job.run_id} failed: {exc}") from None
        except Exception as exc:
            log.exception("%s failed", job.run_id)
            raise Invalid(f"{job.run_id} failed: {type(exc).__name__}: {exc}") from None

    async def finish(self, job: Job, result: StoredResult) -> None:
        """Store ``job``'s result and complete it (for runs made outside the pool)."""
        await self._finish(job, result)

    async def _finish(self, job: Job, result: StoredResult) -> None:
        """Keep the result (served at once), persist it in the background, then say completed."""
        for key, value in (("startedBy", job.started_by), ("command", job.command),
                           ("label", job.label), ("strategyId", job.strategy_id),
                           ("created", job.created)):  # fmt: skip
            result.meta.setdefault(key, value)  # who and what, kept after a restart
        self.results.remember(result)
        await self.jobs.report(job, status="completed")
        await asyncio.sleep(0)  # a waiting getResult answers now, next to "completed"
        # Parquet is written by a worker a moment later, off the path of this run's events.
        self._unsaved[result.run_id] = result
        asyncio.get_running_loop().call_later(SAVE_DELAY, self._save, result.run_id)

    def _save(self, run_id: str) -> None:
        result = self._unsaved.pop(run_id, None)
        if result is not None and self.jobs.running:
            self._spawn(self.jobs.background(write_result, self.results.root, result))

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._saves.add(task)
        task.add_done_callback(self._saved)

    def _saved(self, task: asyncio.Future[Any]) -> None:
        self._saves.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("storing a result failed: %s", task.exception())

    async def _progress(self, job: Job) -> None:
        event = BacktestProgress(
            runId=job.run_id,
            sessionId=job.session_id,
            strategyId=job.strategy_id,
            progress=round(job.progress, 2),
            status=job.status,  # type: ignore[arg-type]
            message=job.error if job.status == "failed" else job.label,
        )
        await self.host.emit_to_session(
            job.session_id, ServerEvent.BACKTEST_PROGRESS.value, event.wire()
        )

    # ------------------------------------------------------------------ lookups
    def summary_of(self, session_id: str, run_id: str) -> dict[str, Any]:
        """The summary of a run of this session (finished or not)."""
        job = self.jobs.get(run_id)
        if job is not None and job.session_id == session_id and job.status != "completed":
            info = job.info()
            return {k: info[k] for k in ("kind", "runId", "status", "progress", "error")}
        record = self.results.record(run_id)
        if record is None or record.get("sessionId") != session_id:
            known = [j.run_id for j in self.jobs.of_session(session_id)]
            raise NotFound(
                f"no run '{run_id}' in this session{did_you_mean(run_id, known)}; "
                "see /status for this session's runs"
            )
        return record.get("meta", {}).get("summary") or {"kind": record["kind"], "runId": run_id}

    def runs(self, session_id: str) -> list[dict[str, Any]]:
        """Rows for ``/status``: live jobs, plus stored runs from before a restart."""
        rows = [j.info() for j in self.jobs.of_session(session_id)]
        seen = {r["runId"] for r in rows}
        for rec in self.results.records(session_id):
            if rec["runId"] not in seen:
                rows.append({**rec, "status": "completed", "progress": 100.0})
        return rows
