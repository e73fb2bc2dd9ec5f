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
import contextlib
import logging
import os
from collections.abc import Callable
from typing import Any

from chatops_widget import engine
from chatops_widget.protocol import (
    RESEARCH_KINDS,
    BacktestProgress,
    ServerEvent,
    StartRun,
    new_run_id,
)
from chatops_widget.server.faults import StorageError, storage_error
from chatops_widget.server.host import Host

from . import _notices
from ._data import ServiceData, make_data
from ._facts import comparison_summary
from ._hooks import HostedHook
from ._runspec import RunSpec
from .errors import Invalid, NotFound, StorageFailed, WorkerLost, did_you_mean
from .jobs import tasks as _work
from .jobs.manager import Job, JobCancelled, JobManager
from .jobs.pool import WorkerDied
from .jobs.splitting import sweep_tasks
from .research import plans as research_plans
from .research.runner import ResearchRuns
from .resolve import Resolver
from .storage.results import ResultStore, StoredResult
from .storage.runs import RunLog
from .storage.strategies import StrategyStore, seed_specs

__all__ = ["BacktestService", "RunSpec"]

log = logging.getLogger(__name__)
startup = logging.getLogger("chatops_widget.startup")  # timestamps for benchmarks/coldstart


class BacktestService:
    """Everything the backtest commands share; see the module docstring."""

    def __init__(self, host: Host, *, workers: int | None = None, mode: str | None = None):
        self.host = host
        self.strategies = StrategyStore(host.data_dir)  # shared by every server on the dir
        self._hosted: HostedHook | None = None  # set by the plugin (the hosted property)
        # the catalog and the resolver: made when first needed (_data.py)
        self._data = ServiceData(lambda: make_data(self))
        try:  # once per data dir (the first start there makes the catalog now, for its symbols)
            if not self.strategies.ever_stored():
                self.strategies.seed(seed_specs(self.catalog.symbols()))
        except StorageError as exc:  # a read-only or full data dir: the server still starts
            log.error("strategies not seeded: %s", exc.message)
        self.results = ResultStore(host.data_dir)
        self.runlog = RunLog(host.data_dir)  # every run from its creation: none vanishes
        n = workers or int(os.environ.get("CHATOPS_WORKERS", 0)) or min(2, os.cpu_count() or 1)
        mode = mode or os.environ.get("CHATOPS_JOBS") or "process"
        if mode not in ("process", "thread", "dask"):
            raise ValueError(f"CHATOPS_JOBS must be 'process', 'thread' or 'dask', got {mode!r}")
        self.jobs = JobManager(
            workers=n,
            mode=mode,  # type: ignore[arg-type]
            on_update=self._progress,
            on_notice=lambda kind, text: _notices.worker_notice(self, kind, text),
        )
        self._notes: set[asyncio.Future[Any]] = set()  # chat notes about the workers
        #: walk-forward, universe and portfolio runs (research/)
        self.research = ResearchRuns(self)

    @property
    def catalog(self) -> engine.DataCatalog:
        """The data: the bundled sample and the data folder's files (made on first use)."""
        return self._data.get()[0]

    @property
    def resolve(self) -> Resolver:
        """Resolves what requests name (strategies, templates, symbols) and validates them."""
        return self._data.get()[1]

    @property
    def hosted(self) -> HostedHook | None:
        """Strategies hosted in members' kernels (.hosted), resolved beside the stored ones."""
        return self._hosted

    @hosted.setter
    def hosted(self, hook: HostedHook | None) -> None:
        self._hosted = hook
        self._data.then(lambda data: setattr(data[1], "names", hook))

    def with_catalog(self, fn: Callable[[engine.DataCatalog], None]) -> None:
        """Run ``fn(catalog)`` once the catalog is made (now, if it is)."""
        self._data.then(lambda data: fn(data[0]))

    def warm_up(self) -> None:
        """Make the catalog and import what a first run needs, in the background (once)."""
        self._data.warm_up(_work.preload)

    async def start(self) -> None:
        """Settle the runs a dead server left, then start the workers (a start-up hook)."""
        await _notices.settle_interrupted(self)
        await self.jobs.start(warmup=_work.warmup)

    async def shutdown(self) -> None:
        """Stop the workers (a shut-down hook); every result is stored before it completes."""
        await self.jobs.shutdown()

    def new_run_id(self, wanted: str | None) -> str | None:
        """``wanted`` if no run has that id yet (:class:`Invalid` if one has); None stays None."""
        if wanted is None:
            return None
        if self.jobs.get(wanted) is not None or self.results.record(wanted) is not None:
            raise Invalid(f"run id {wanted} is already used; pick another (or leave run_id out)")
        return wanted

    # ------------------------------------------------------------------ running
    def prepare(self, req: StartRun, sid: str | None = None) -> Any:
        """A request resolved and validated before any job (research kinds by their plans)
        and, for a hosted strategy, whether it can run now for connection ``sid`` (its owner
        connected; private ones the owner's)."""
        if req.kind in RESEARCH_KINDS:
            return research_plans.prepare(self.resolve, req)
        prepared = self.resolve.prepare(req)
        if self.hosted is not None:
            self.hosted.check(prepared, sid)
        return prepared

    async def run(
        self,
        prepared: Any,
        session_id: str,
        *,
        run_id: str | None = None,
        command: str | None = None,
        started_by: str | None = None,
    ) -> dict[str, Any]:
        """Run a prepared request to the end; returns its summary (``JobCancelled`` if
        cancelled)."""
        fields = {"run_id": run_id, "command": command, "started_by": started_by}
        if prepared.kind in RESEARCH_KINDS:
            return await self.research.run(prepared, session_id, **fields)
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
        # logged first (a crash from here on leaves a run marked failed, not a run gone); its
        # "queued" event goes out from run_chunks, once the first task is in a worker
        run_id = self.new_run_id(run_id) or new_run_id()
        try:
            self.runlog.started(run_id, session_id, kind, fields.get("command"))
        except StorageError as exc:
            raise StorageFailed(f"the run cannot start: {exc.message}") from None
        return self.jobs.create(session_id, kind, run_id=run_id, **fields)

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
            **_strategy_facts(spec),
            "exits": out.get("exits") or {},
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
        symbols = [s.symbol for s in specs]
        combined = await self._guard(
            job, asyncio.to_thread(_work.combine_comparison, parts, symbols)
        )
        summary, meta = comparison_summary(job.run_id, parts, combined)
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
        """A grid sweep, cut into pool tasks by :func:`.jobs.splitting.sweep_tasks` (progress
        from inside the tasks, cancel at their next engine chunk; each writes its rows to the
        run's folder); with ``split`` each also runs out of sample (``oos_*`` columns)."""
        job = await self._job(
            session_id,
            "sweep",
            job_fields.pop("run_id", None),
            strategy_id=spec.strategy_id or spec.template,
            label=f"sweep {spec.template} {spec.symbol}",
            **job_fields,
        )
        base = spec.task()
        base["split"] = split
        folder = str(self.results.root / job.run_id / "parts")  # the rows stream to storage
        tasks = sweep_tasks(base, combos, bars=spec.bars, workers=self.jobs.workers, parts=folder)
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
            **_strategy_facts(spec),
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
        """Await a job step; a failure becomes the user's error (:class:`Invalid`: the engine
        refused the request) or the server's (:class:`WorkerLost`; anything else propagates:
        the command router logs it and answers ``internal``)."""
        try:
            return await coro
        except JobCancelled:
            raise
        except engine.EngineError as exc:
            raise Invalid(f"{job.run_id} failed: {exc}", run_id=job.run_id) from None
        except WorkerDied as exc:
            raise WorkerLost(f"{job.run_id} failed: {exc}", run_id=job.run_id) from None
        except OSError as exc:  # a task writing the run's files (a sweep's parts)
            err = storage_error(exc, "the run's results", self.results.root)
            if err is None:
                raise
            raise StorageFailed(f"{job.run_id} failed: {err.message}", run_id=job.run_id) from None

    async def finish(self, job: Job, result: StoredResult) -> None:
        """Store ``job``'s result and complete it (for runs made outside the pool)."""
        await self._finish(job, result)

    async def _finish(self, job: Job, result: StoredResult) -> None:
        """Store the result (Parquet, then its record) and only then say ``completed``: a result
        announced is a result kept. A storage failure fails the run, visibly."""
        for key, value in (("startedBy", job.started_by), ("command", job.command),
                           ("label", job.label), ("strategyId", job.strategy_id),
                           ("created", job.created)):  # fmt: skip
            result.meta.setdefault(key, value)  # who and what, kept after a restart
        try:
            await asyncio.to_thread(self.results.save, result)
        except Exception as exc:
            why = exc.message if isinstance(exc, StorageError) else "an internal error"
            job.error = f"{job.run_id} failed: its result could not be stored ({why})"
            await self.jobs.report(job, status="failed")
            if isinstance(exc, StorageError):
                raise StorageFailed(job.error, run_id=job.run_id) from None
            raise
        await self.jobs.report(job, status="completed")
        await asyncio.sleep(0)  # a waiting getResult answers now, next to "completed"

    async def _progress(self, job: Job) -> None:
        if job.done:
            with contextlib.suppress(StorageError):  # (logged once by it) the event still goes
                self.runlog.ended(job.run_id, job.status, job.error)
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
            with contextlib.suppress(StorageError):
                for row in self.runlog.rows(session_id):  # e.g. interrupted by a crash
                    if row["runId"] == run_id:
                        return {k: row[k] for k in ("kind", "runId", "status", "progress", "error")}
            known = [j.run_id for j in self.jobs.of_session(session_id)]
            raise NotFound(
                f"no run '{run_id}' in this session{did_you_mean(run_id, known)}; "
                "see /status for this session's runs"
            )
        return record.get("meta", {}).get("summary") or {"kind": record["kind"], "runId": run_id}

    def runs(self, session_id: str) -> list[dict[str, Any]]:
        """Rows for ``/status``: live jobs, plus stored results and the run log (runs from
        before a restart, e.g. ones a crash interrupted)."""
        rows = [j.info() for j in self.jobs.of_session(session_id)]
        seen = {r["runId"] for r in rows}
        for rec in self.results.records(session_id):
            if rec["runId"] not in seen:
                rows.append({**rec, "status": "completed", "progress": 100.0})
                seen.add(rec["runId"])
        with contextlib.suppress(StorageError):
            rows += [r for r in self.runlog.rows(session_id) if r["runId"] not in seen]
        return rows


def _strategy_facts(spec: RunSpec) -> dict[str, Any]:
    """What a summary says about the strategy besides its params: a rule strategy's rules
    (``rule: {entry, exit, ...}``) and the order settings in force (``orders``), if any."""
    out: dict[str, Any] = {}
    if spec.rule is not None:
        keys = ("entry", "exit", "short_entry", "short_exit", "where")
        out["rule"] = {k: spec.rule[k] for k in keys if spec.rule.get(k) is not None}
    if spec.orders:
        out["orders"] = dict(spec.orders)
    return out
