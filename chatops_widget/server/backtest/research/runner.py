"""Running research plans as jobs: one job and one progress bar per run, its work split into
pool tasks by :mod:`..jobs.splitting`, the result stored like every run's (``getResult``: Arrow
frames) and summarized for ``commandResult``.

Stored frames: ``windows``, ``equity``, ``trades`` (walk-forward); ``table`` (universe: one
row per strategy and symbol); ``equity``, ``sleeves``, ``contributions``, ``positions``,
``trades``, ``rebalances`` (portfolio). A cancelled walk-forward keeps the windows finished
before the cancel: they are stitched and stored as the run's result (``meta.partial``), and the
cancelled summary says how many.
"""

from __future__ import annotations

import asyncio
from typing import Any, Protocol

from ..jobs import research_tasks as work
from ..jobs import splitting
from ..jobs.manager import Job, JobCancelled, JobManager
from ..storage.results import ResultStore, StoredResult
from .plans import PortfolioPlan, UniversePlan, WalkForwardPlan

__all__ = ["ResearchRuns"]

#: Windows listed in a walk-forward's summary (the stored ``windows`` frame has all).
SUMMARY_WINDOWS = 60
#: Symbols listed in a universe's summary.
SUMMARY_SYMBOLS = 60


class _Service(Protocol):
    """What the runner uses of :class:`~..service.BacktestService`."""

    jobs: JobManager
    results: ResultStore

    async def _job(self, session_id: str, kind: str, run_id: str | None, **fields: Any) -> Job:
        """Register a job."""

    async def _guard(self, job: Job, coro: Any) -> Any:
        """Await a job step with clear errors."""

    async def _finish(self, job: Job, result: StoredResult) -> None:
        """Store a result and report the job completed."""


class ResearchRuns:
    """Walk-forward, universe and portfolio runs over one backtest service."""

    def __init__(self, service: _Service) -> None:
        self.svc = service

    async def run(self, plan: Any, session_id: str, **fields: Any) -> dict[str, Any]:
        """Run ``plan`` to the end; its summary (``JobCancelled`` if cancelled)."""
        if isinstance(plan, WalkForwardPlan):
            return await self.walkforward(plan, session_id, **fields)
        if isinstance(plan, UniversePlan):
            return await self.universe(plan, session_id, **fields)
        if isinstance(plan, PortfolioPlan):
            return await self.portfolio(plan, session_id, **fields)
        raise TypeError(f"not a research plan: {type(plan).__name__}")

    # ------------------------------------------------------------------ walk-forward
    def _wf_info(self, plan: WalkForwardPlan) -> dict[str, Any]:
        spec = plan.spec
        return {"strategy": spec.template, "symbol": spec.symbol, "train": plan.train,
                "test": plan.test, "anchored": plan.anchored, "metric": plan.metric,
                "min_trades": plan.min_trades, "grid": plan.params}  # fmt: skip

    def _wf_summary(self, run_id: str, plan: WalkForwardPlan, out: dict[str, Any]) -> dict:
        spec = plan.spec
        return {
            "kind": "walkforward",
            "runId": run_id,
            "strategyId": spec.strategy_id,
            "template": spec.template,
            "symbol": spec.symbol,
            "params": plan.params,
            "train": plan.train,
            "test": plan.test,
            "anchored": plan.anchored,
            "metric": plan.metric,
            "minTrades": plan.min_trades,
            "grid": plan.grid,
            "defaultGrid": plan.default_grid,
            "windows": out["windows"][:SUMMARY_WINDOWS],
            "windowCount": len(out["windows"]),
            "stats": out["stats"],
            "status": "completed",
        }

    async def walkforward(self, plan: WalkForwardPlan, session_id: str, **fields: Any) -> dict:
        """Sweep every window in its own task, then stitch the test periods."""
        svc, spec = self.svc, plan.spec
        label = f"walk-forward {spec.template} {spec.symbol}"
        job = await svc._job(session_id, "walkforward", fields.pop("run_id", None),
                             strategy_id=spec.strategy_id or spec.template, label=label,
                             **fields)  # fmt: skip
        info = self._wf_info(plan)
        tasks = splitting.walkforward_tasks(plan)
        try:
            parts = await svc._guard(job, svc.jobs.run_chunks(job, work.wf_window_task, tasks))
        except JobCancelled as exc:
            await self._keep_partial(job, plan, info, list(getattr(exc, "results", [])), exc)
            raise
        choices = [p["choice"] for p in parts]
        task = splitting.walkforward_assemble_task(plan, choices, info)
        (out,) = await svc._guard(job, svc.jobs.run_chunks(job, work.wf_assemble_task, [task]))
        summary = self._wf_summary(job.run_id, plan, out)
        seconds = sum(p["seconds"] for p in parts) + out["seconds"]
        meta = {"summary": summary, "engineSeconds": seconds, "info": info}
        await svc._finish(job, StoredResult(job.run_id, session_id, "walkforward", out["stats"],
                                            meta, out["frames"]))  # fmt: skip
        return summary

    async def _keep_partial(
        self, job: Job, plan: WalkForwardPlan, info: dict, results: list, exc: JobCancelled
    ) -> None:
        """Stitch and store the windows finished before a cancel (the leading ones)."""
        done = []
        for r in results:
            if r is None:
                break
            done.append(r["choice"])
        if not done:
            return
        task = splitting.walkforward_assemble_task(plan, done, info)
        out = await self.svc.jobs.background(work.wf_assemble_task, task)
        summary = {**self._wf_summary(job.run_id, plan, out), "status": "cancelled",
                   "partial": True, "windowsDone": len(done),
                   "windowsTotal": len(plan.windows)}  # fmt: skip
        meta = {"summary": summary, "partial": True, "info": info}
        result = StoredResult(job.run_id, job.session_id, "walkforward", out["stats"], meta,
                              out["frames"])  # fmt: skip
        await asyncio.to_thread(self.svc.results.save, result)  # kept before it is announced
        exc.summary = {"partial": True, "windowsDone": len(done),  # type: ignore[attr-defined]
                       "windowsTotal": len(plan.windows)}  # fmt: skip

    # ------------------------------------------------------------------ universe
    async def universe(self, plan: UniversePlan, session_id: str, **fields: Any) -> dict:
        """Every strategy on every symbol, the symbols in chunks across the pool."""
        svc = self.svc
        labels = list(plan.specs)
        job = await svc._job(session_id, "universe", fields.pop("run_id", None),
                             strategy_id=",".join(labels),
                             label=f"{len(labels)} strategies x {len(plan.frames)} symbols",
                             **fields)  # fmt: skip
        tasks = splitting.universe_tasks(plan)
        parts = await svc._guard(job, svc.jobs.run_chunks(job, work.universe_task, tasks))
        combine = {"parts": parts, "metric": "sharpe"}
        (out,) = await svc._guard(job, svc.jobs.run_chunks(job, work.universe_combine_task,
                                                           [combine]))  # fmt: skip
        symbols = list(plan.frames)
        summary = {
            "kind": "universe",
            "runId": job.run_id,
            "strategies": labels,
            "symbols": symbols[:SUMMARY_SYMBOLS],
            "symbolCount": len(symbols),
            "metric": "sharpe",
            "ranking": out["ranking"],
            "best": out["best"],
            "count": out["count"],
            "skipped": out["skipped"],
            "status": "completed",
        }
        meta = {"summary": summary, "engineSeconds": sum(p["seconds"] for p in parts)}
        stats = {"count": out["count"], "skipped": out["skipped"]}
        await svc._finish(job, StoredResult(job.run_id, session_id, "universe", stats, meta,
                                            out["frames"]))  # fmt: skip
        return summary

    # ------------------------------------------------------------------ portfolio
    async def portfolio(self, plan: PortfolioPlan, session_id: str, **fields: Any) -> dict:
        """One strategy on several symbols from one pool of cash (one task)."""
        svc, spec = self.svc, plan.spec
        symbols = list(plan.frames)
        job = await svc._job(session_id, "portfolio", fields.pop("run_id", None),
                             strategy_id=spec.strategy_id or spec.template,
                             label=f"portfolio {spec.template} {','.join(symbols[:5])}"
                             f"{'...' if len(symbols) > 5 else ''}", **fields)  # fmt: skip
        (out,) = await svc._guard(
            job, svc.jobs.run_chunks(job, work.portfolio_task, splitting.portfolio_tasks(plan))
        )
        summary = {
            "kind": "portfolio",
            "runId": job.run_id,
            "strategyId": spec.strategy_id,
            "template": spec.template,
            "symbols": symbols,
            "weights": out["weights"],
            "rebalance": plan.rebalance,
            "params": out["params"],
            "stats": out["stats"],
            "contributions": out["contributions"],
            "status": "completed",
        }
        meta = {"summary": summary, "engineSeconds": out["seconds"]}
        await svc._finish(job, StoredResult(job.run_id, session_id, "portfolio", out["stats"],
                                            meta, out["frames"]))  # fmt: skip
        return summary
