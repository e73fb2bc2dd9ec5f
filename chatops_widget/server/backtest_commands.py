"""The backtest commands: ``/run_backtest``, ``/compare_strategies``, ``/sweep``, ``/status``,
``/cancel``, ``/result``, ``/strategies``, ``/create_strategy``, ``/data``, ``/templates``, plus the
``getResult`` event (results as Arrow IPC bytes) and the ``strategies``/``templates``/``runs``
fields of the ``joinSession`` ack.

All commands share one grammar (:func:`.commands.parse_command`); the heavy lifting is in
:class:`.backtest_service.BacktestService`. ``run_id=run_<hex>`` may be given to
``/run_backtest``, ``/compare_strategies`` and ``/sweep`` to choose the run id (the Python client
does this, so ``trigger_backtest`` can return a handle at once).

Example (chat):
    /run_backtest strategy_1 fast=12
    /run_backtest sma_cross symbol=ALPHA fast=5 slow=20 start=2020-01-01
    /compare_strategies strategy_1 strategy_2
    /sweep sma_cross symbol=ALPHA fast=5:50:5 slow=20:200:10
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

from .. import engine
from ..protocol import SESSION_ID_PATTERN, ErrorCode, GetResult, ProtocolError, parse
from . import _format
from ._cmdargs import (
    bad,
    check_bare_params,
    check_options,
    no_arguments,
    parse_dates,
    parse_float,
    parse_run_id,
    require_grid,
)
from .backtest_service import BacktestService
from .commands import CommandContext, CommandReply, router
from .jobs import JobCancelled

__all__: list[str] = []

_COMMON = {"start", "end", "cash", "commission", "run_id"}
_TEMPLATES = ", ".join(sorted(engine.templates()))


def _svc(ctx_or_server: Any) -> BacktestService:
    server = getattr(ctx_or_server, "server", ctx_or_server)
    svc = server.state.get("backtest")
    if svc is None:
        raise ProtocolError(ErrorCode.INTERNAL, "the backtest service is not running yet; retry")
    return svc


def _money(opts: dict[str, str]) -> dict[str, float]:
    return {
        "cash": parse_float("cash", opts.pop("cash", None), 1_000_000.0, 1.0, 1e15),
        "commission": parse_float("commission", opts.pop("commission", None), 0.0, 0.0, 0.5),
    }


def _job_fields(ctx: CommandContext, opts: dict[str, str]) -> dict[str, Any]:
    run_id = opts.pop("run_id", None)
    return {
        "run_id": parse_run_id(run_id) if run_id is not None else None,
        "command": ctx.command.text,
        "started_by": ctx.sid,
    }


def _template_of(svc: BacktestService, target: str) -> engine.Template | None:
    """The template a strategy id or template name stands for (``None`` if neither)."""
    s = svc.strategies.get(target)
    return engine.templates().get(s.template if s else target.strip().lower())


def _cancelled(kind: str, exc: JobCancelled, svc: BacktestService) -> CommandReply:
    run_id = str(exc.args[0])
    job = svc.jobs.get(run_id)
    pct = job.progress if job else 0.0
    summary = {"kind": kind, "runId": run_id, "status": "cancelled", "progress": pct}
    return CommandReply(summary, run_id=run_id, text=f"**{run_id}** cancelled at {pct:.0f}%.")


# ---------------------------------------------------------------------- running


@router.command(
    "run_backtest",
    usage="/run_backtest <strategy_id | template> [symbol=..] [start=YYYY-MM-DD] [end=YYYY-MM-DD] "
    "[cash=..] [commission=..] [param=value ...]",
    summary="Backtest a stored strategy (or a template) and share the result with the session.",
    details="Options override the stored strategy's symbol, dates and params, e.g. "
    "`/run_backtest strategy_1 fast=12 start=2020-01-01`. With a template name, `symbol` "
    f"defaults to the first symbol of /data. Templates: {_TEMPLATES} (see /templates). "
    "Progress streams as backtestProgress; the result (equity, trades, stats) is stored and "
    "any member can fetch it: `client.results['run_…']`.",
)
async def run_backtest(ctx: CommandContext) -> CommandReply:
    svc, cmd = _svc(ctx), ctx.command
    usage = router.get("run_backtest").usage  # type: ignore[union-attr]
    if len(cmd.args) > 1:
        check_bare_params(cmd.args[1:], _template_of(svc, cmd.args[0]))
    if len(cmd.args) != 1:
        raise bad(f"give exactly one strategy id or template (got {len(cmd.args)}). Usage: {usage}")
    opts = dict(cmd.options)
    fields = _job_fields(ctx, opts)
    start, end = parse_dates(opts)
    opts.pop("start", None), opts.pop("end", None)
    symbol = opts.pop("symbol", None)
    spec = svc.backtest_spec(cmd.args[0], opts, symbol=symbol, start=start, end=end, **_money(opts))
    try:
        summary = await svc.run_backtest(ctx.session_id, spec, **fields)
    except JobCancelled as exc:
        return _cancelled("backtest", exc, svc)
    return CommandReply(summary, run_id=summary["runId"], text=_format.backtest_text(summary))


@router.command(
    "compare_strategies",
    usage="/compare_strategies <strategy_id> <strategy_id> [...] [start=..] [end=..]",
    summary="Backtest two or more stored strategies and compare their stats side by side.",
    details="Each strategy runs on its own symbol and dates (start/end override all of them). "
    "The summary is a metrics x strategies table; in Python `client.compare_strategies(...)` "
    "returns `.stats` (DataFrame) and `.equity` (aligned equity curves).",
)
async def compare_strategies(ctx: CommandContext) -> CommandReply:
    svc, cmd = _svc(ctx), ctx.command
    usage = router.get("compare_strategies").usage  # type: ignore[union-attr]
    if len(cmd.args) < 2:
        raise bad(f"give two or more strategy ids, e.g. strategy_1 strategy_2. Usage: {usage}")
    dupes = sorted({a for a in cmd.args if cmd.args.count(a) > 1})
    if dupes:
        raise bad(f"{', '.join(dupes)} given more than once; list each strategy once")
    opts = dict(cmd.options)
    check_options(opts, _COMMON, usage)
    fields = _job_fields(ctx, opts)
    start, end = parse_dates(opts)
    money = _money(opts)
    for sid in cmd.args:
        if not sid.startswith("strategy_"):
            raise bad(f"'{sid}' is not a strategy id; compare stored strategies (see /strategies)")
    specs = [svc.backtest_spec(sid, {}, start=start, end=end, **money) for sid in cmd.args]
    try:
        summary = await svc.run_comparison(ctx.session_id, specs, **fields)
    except JobCancelled as exc:
        return _cancelled("comparison", exc, svc)
    return CommandReply(summary, run_id=summary["runId"], text=_format.comparison_text(summary))


@router.command(
    "sweep",
    usage="/sweep <template> symbol=.. param=lo:hi:step [param=a,b,c ...] [start=..] [end=..]",
    summary="Backtest every combination of a parameter grid (vectorized); best rows first.",
    details="Ranges include hi: `fast=5:50:5` is 5, 10, ..., 50; lists: `k=1.5,2,2.5`. Invalid "
    "combinations (e.g. fast >= slow) are skipped. `sort=<metric>` ranks rows (default sharpe). "
    "Cancel a long one with /cancel <run_id>. In Python: `client.sweep(template, symbol, "
    "fast=range(5, 50, 5), ...)` returns the full table.",
)
async def sweep(ctx: CommandContext) -> CommandReply:
    svc, cmd = _svc(ctx), ctx.command
    usage = router.get("sweep").usage  # type: ignore[union-attr]
    if len(cmd.args) > 1:
        check_bare_params(cmd.args[1:], _template_of(svc, cmd.args[0]), sweep=True)
    if len(cmd.args) != 1:
        raise bad(f"give exactly one template (got {len(cmd.args)}). Usage: {usage}")
    opts = dict(cmd.options)
    if "symbol" not in opts:
        raise bad(f"symbol= is required, e.g. symbol=ALPHA (see /data). Usage: {usage}")
    fields = _job_fields(ctx, opts)
    start, end = parse_dates(opts)
    opts.pop("start", None), opts.pop("end", None)
    sort = opts.pop("sort", "sharpe")
    symbol = opts.pop("symbol")
    money = _money(opts)
    tpl = svc.template(cmd.args[0])
    require_grid(opts, tpl)
    base = svc.backtest_spec(tpl.name, {}, symbol=symbol, start=start, end=end, **money)
    combos, skipped = svc.sweep_grid(tpl.name, opts, len(base.data))
    try:
        summary = await svc.run_sweep(
            ctx.session_id, base, combos, skipped=skipped, sort=sort, **fields
        )
    except JobCancelled as exc:
        return _cancelled("sweep", exc, svc)
    return CommandReply(summary, run_id=summary["runId"], text=_format.sweep_text(summary))


# ---------------------------------------------------------------------- runs


@router.command("status", usage="/status", summary="List this session's runs and their progress.")
async def status(ctx: CommandContext) -> CommandReply:
    no_arguments(ctx.command, "/status")
    runs = _svc(ctx).runs(ctx.session_id)
    return CommandReply({"kind": "status", "runs": runs}, text=_format.status_text(runs))


@router.command(
    "cancel",
    usage="/cancel <run_id>",
    summary="Stop a queued or running run (a sweep stops between chunks).",
)
async def cancel(ctx: CommandContext) -> CommandReply:
    svc, cmd = _svc(ctx), ctx.command
    if len(cmd.args) != 1 or cmd.options:
        raise bad("usage: /cancel <run_id>, e.g. /cancel run_3fa2b1c4d5e6 (see /status)")
    run_id = parse_run_id(cmd.args[0])
    job = svc.jobs.get(run_id)
    if job is None or job.session_id != ctx.session_id:
        svc.summary_of(ctx.session_id, run_id)  # raises NOT_FOUND with "did you mean"
        raise bad(f"{run_id} has already finished; nothing to cancel")
    if job.done:
        raise bad(f"{run_id} is already {job.status}; nothing to cancel")
    svc.jobs.cancel(run_id)
    summary = {"kind": "cancel", "runId": run_id, "status": "cancelling"}
    return CommandReply(summary, run_id=run_id, text=f"Cancelling **{run_id}**...")


@router.command(
    "result", usage="/result <run_id>", summary="Show a run's summary again (stats or table)."
)
async def result(ctx: CommandContext) -> CommandReply:
    svc, cmd = _svc(ctx), ctx.command
    if len(cmd.args) != 1 or cmd.options:
        raise bad("usage: /result <run_id>, e.g. /result run_3fa2b1c4d5e6 (see /status)")
    summary = svc.summary_of(ctx.session_id, parse_run_id(cmd.args[0]))
    text = {
        "backtest": _format.backtest_text,
        "comparison": _format.comparison_text,
        "sweep": _format.sweep_text,
    }
    if summary.get("status") == "completed" and summary.get("kind") in text:
        return CommandReply(summary, run_id=summary["runId"], text=text[summary["kind"]](summary))
    return CommandReply(
        summary, run_id=summary["runId"], text=f"**{summary['runId']}** is {summary.get('status')}."
    )


# ---------------------------------------------------------------------- strategies and data


@router.command("strategies", usage="/strategies", summary="List the stored strategies.")
async def strategies(ctx: CommandContext) -> CommandReply:
    no_arguments(ctx.command, "/strategies")
    items = [s.info() for s in _svc(ctx).strategies.all()]
    return CommandReply(
        {"kind": "strategies", "strategies": items}, text=_format.strategies_text(items)
    )


@router.command(
    "create_strategy",
    usage="/create_strategy <template> symbol=.. [name=..] [start=..] [end=..] [param=value ...]",
    summary="Store a new strategy (a template with params on a symbol); returns its id.",
    details='Example: `/create_strategy sma_cross symbol=ALPHA fast=5 slow=20 name="fast SMA"`.',
)
async def create_strategy(ctx: CommandContext) -> CommandReply:
    svc, cmd = _svc(ctx), ctx.command
    usage = router.get("create_strategy").usage  # type: ignore[union-attr]
    if len(cmd.args) > 1:
        check_bare_params(cmd.args[1:], _template_of(svc, cmd.args[0]))
    if len(cmd.args) != 1:
        raise bad(f"give exactly one template (got {len(cmd.args)}). Usage: {usage}")
    opts = dict(cmd.options)
    if "symbol" not in opts:
        raise bad(f"symbol= is required, e.g. symbol=ALPHA (see /data). Usage: {usage}")
    start, end = parse_dates(opts)
    opts.pop("start", None), opts.pop("end", None)
    name, symbol = opts.pop("name", None), opts.pop("symbol")
    if name is not None and not 0 < len(name) <= 100:
        raise bad("name= must be 1-100 characters")
    tpl = svc.template(cmd.args[0])
    spec = svc.backtest_spec(tpl.name, opts, symbol=symbol, start=start, end=end)
    s = svc.strategies.create(
        tpl.name,
        spec.symbol,
        params=spec.params,
        name=name,
        start=start,
        end=end,
        created_by=ctx.sid,
    )
    info = s.info()
    return CommandReply(
        {"kind": "strategy", "strategyId": s.id, "strategy": info},
        text=f"Stored **{s.id}**: {s.name}. Run it with `/run_backtest {s.id}`.",
    )


@router.command("data", usage="/data", summary="List the symbols with their date ranges.")
async def data(ctx: CommandContext) -> CommandReply:
    no_arguments(ctx.command, "/data")
    info = _svc(ctx).catalog.info()
    items = [
        {
            "symbol": r.symbol,
            "start": r.start.isoformat()[:10],
            "end": r.end.isoformat()[:10],
            "bars": int(r.bars),
            "source": r.source,
        }
        for r in info.itertuples()
    ]
    return CommandReply({"kind": "data", "symbols": items}, text=_format.data_text(items))


@router.command(
    "templates", usage="/templates", summary="List the strategy templates and their params."
)
async def templates(ctx: CommandContext) -> CommandReply:
    no_arguments(ctx.command, "/templates")
    specs = [t.spec() for t in engine.templates().values()]
    return CommandReply(
        {"kind": "templates", "templates": specs}, text=_format.templates_text(specs)
    )


# ---------------------------------------------------------------------- events and hooks


@router.event("getResult")
async def get_result(server: Any, sid: str, data: Any) -> dict[str, Any]:
    """``getResult {sessionId, runId, wait?}`` -> ``{runId, kind, stats, meta, frames, <name>:
    bytes}``. With ``wait: true`` (or seconds) an unfinished run of the session is awaited for up
    to :data:`WAIT_MAX` s, so the run's starter can ask right away (one round trip saved); if it
    is still going then, the ack is ``{runId, pending: true, status, progress}`` (ask again)."""
    wait, data = _pop_wait(data)
    req = parse(GetResult, data)
    if req.sessionId not in server.sio.rooms(sid):
        raise ProtocolError(
            ErrorCode.NOT_JOINED,
            f"getResult: not in session {req.sessionId!r}; send joinSession with it first",
            req.sessionId,
        )
    svc = _svc(server)
    stored = svc.results.cached(req.runId)
    job = svc.jobs.get(req.runId) if stored is None and wait else None
    if job is not None and job.session_id == req.sessionId and not job.done:
        # handlers of one connection run in order: the wait is short so its later requests
        # are held back at most WAIT_MAX s (ping/pong is far longer)
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
                f"{req.runId} is still {job.status} ({job.progress:.0f}%); wait for it to finish",
            )
        svc.summary_of(req.sessionId, req.runId)  # raises NOT_FOUND with a hint
        raise ProtocolError(ErrorCode.NOT_FOUND, f"{req.runId} has no stored result")
    out = stored.wire()
    out.pop("ok", None)
    return out


WAIT_MAX = 0.5  # s: the longest a ``getResult`` with ``wait`` holds its connection's requests


def _pop_wait(data: Any) -> tuple[float, Any]:
    if not isinstance(data, dict) or "wait" not in data:
        return 0.0, data
    data = dict(data)
    wait = data.pop("wait")
    if isinstance(wait, bool):
        return (WAIT_MAX if wait else 0.0), data
    if isinstance(wait, (int, float)) and wait >= 0:
        return min(float(wait), WAIT_MAX), data
    raise ProtocolError(
        ErrorCode.BAD_REQUEST, f"getResult: wait must be true/false or seconds >= 0, got {wait!r}"
    )


def _session_of(server: Any, sid: str, data: Any, event: str) -> str:
    session_id = data.get("sessionId") if isinstance(data, dict) else data
    if not isinstance(session_id, str) or not re.match(SESSION_ID_PATTERN, session_id):
        raise ProtocolError(
            ErrorCode.BAD_REQUEST,
            f"{event}: expected {{'sessionId': 'session_...'}}, got {str(data)[:80]!r}",
        )
    if session_id not in server.sio.rooms(sid):
        raise ProtocolError(
            ErrorCode.NOT_JOINED,
            f"{event}: not in session {session_id!r}; send joinSession with it first",
            session_id,
        )
    return session_id


@router.event("getRuns")
async def get_runs(server: Any, sid: str, data: Any) -> dict[str, Any]:
    """``getRuns {sessionId}`` -> ``{runs: [...]}`` (what /status shows, without a chat message)."""
    session_id = _session_of(server, sid, data, "getRuns")
    return {"sessionId": session_id, "runs": _svc(server).runs(session_id)}


@router.event("getStrategies")
async def get_strategies(server: Any, sid: str, data: Any) -> dict[str, Any]:
    """``getStrategies {sessionId}`` -> ``{strategies: [...]}`` (no chat message)."""
    _session_of(server, sid, data, "getStrategies")
    return {"strategies": [s.info() for s in _svc(server).strategies.all()]}


@router.join_extras
def _join_extras(server: Any, session_id: str) -> dict[str, Any]:
    svc = server.state.get("backtest")
    if svc is None:
        return {}
    return {
        "strategies": [s.info() for s in svc.strategies.all()],
        "templates": [t.spec() for t in engine.templates().values()],
        "runs": svc.runs(session_id),
    }


@router.on_startup
async def _start(server: Any) -> None:
    svc = BacktestService(server)
    await svc.start()
    server.state["backtest"] = svc


@router.on_shutdown
async def _stop(server: Any) -> None:
    svc = server.state.pop("backtest", None)
    if svc is not None:
        await svc.shutdown()
