"""The backtest commands: ``/run_backtest``, ``/compare_strategies``, ``/sweep``, ``/status``,
``/cancel``, ``/result``, ``/strategies``, ``/create_strategy``, ``/data``, ``/templates``, plus the
``getResult`` event (results as Arrow IPC bytes) and the ``strategies``/``templates``/``runs``
fields of the ``joinSession`` ack.

All commands share one grammar (:func:`.commands.parse_command`); the heavy lifting is in
:class:`.backtest_service.BacktestService`. ``run_id=run_<hex>`` may be given to
``/run_backtest``, ``/compare_strategies`` and ``/sweep`` to choose the run id (the Python client
does this, so ``trigger_backtest`` can return a handle at once).

This module holds the commands that start runs; importing it also registers the listing commands
(:mod:`._backtest_listing`) and the events and hooks (:mod:`._backtest_events`).

Example (chat):
    /run_backtest strategy_1 fast=12
    /run_backtest sma_cross symbol=ALPHA fast=5 slow=20 start=2020-01-01
    /compare_strategies strategy_1 strategy_2
    /sweep sma_cross symbol=ALPHA fast=5:50:5 slow=20:200:10
"""

from __future__ import annotations

from typing import Any

from chatops_widget import engine
from chatops_widget.server.host import CommandContext, CommandReply
from chatops_widget.server.router import command

from .. import _format
from .._args import (
    bad,
    check_bare_params,
    check_options,
    parse_date,
    parse_dates,
    parse_float,
    parse_run_id,
    require_grid,
)
from ..jobs.manager import JobCancelled
from ..service import BacktestService

__all__ = ["RunCommands", "template_of"]

#: The usage line of each command (shown by /help and in its errors).
USAGE = {
    "run_backtest": "/run_backtest <strategy_id | template> [symbol=..] [start=YYYY-MM-DD] "
    "[end=YYYY-MM-DD] [cash=..] [commission=..] [spread=..] [param=value ...]",
    "compare_strategies": "/compare_strategies <strategy_id> <strategy_id> [...] "
    "[start=..] [end=..]",
    "sweep": "/sweep <template> symbol=.. param=lo:hi:step [param=a,b,c ...] [start=..] [end=..] "
    "[split=YYYY-MM-DD]",
}

_COMMON = {"start", "end", "cash", "commission", "spread", "run_id"}
_TEMPLATES = ", ".join(sorted(engine.templates()))


def _money(opts: dict[str, str]) -> dict[str, float]:
    money = {
        "cash": parse_float("cash", opts.pop("cash", None), 1_000_000.0, 1.0, 1e15),
        "commission": parse_float("commission", opts.pop("commission", None), 0.0, 0.0, 0.5),
        "spread": parse_float("spread", opts.pop("spread", None), 0.0, 0.0, 0.5),
    }
    try:  # the engine's own limits, checked before anything runs
        engine.validate_costs(**money)
    except engine.EngineError as exc:
        raise bad(str(exc)) from None
    return money


def _job_fields(ctx: CommandContext, opts: dict[str, str]) -> dict[str, Any]:
    run_id = opts.pop("run_id", None)
    return {
        "run_id": parse_run_id(run_id) if run_id is not None else None,
        "command": ctx.command.text,
        "started_by": ctx.sid,
    }


def template_of(svc: BacktestService, target: str) -> engine.Template | None:
    """The template a strategy id or template name stands for (``None`` if neither)."""
    s = svc.strategies.get(target)
    return engine.templates().get(s.template if s else target.strip().lower())


def _cancelled(kind: str, exc: JobCancelled, svc: BacktestService) -> CommandReply:
    run_id = str(exc.args[0])
    job = svc.jobs.get(run_id)
    pct = job.progress if job else 0.0
    summary = {"kind": kind, "runId": run_id, "status": "cancelled", "progress": pct}
    return CommandReply(summary, run_id=run_id, text=f"**{run_id}** cancelled at {pct:.0f}%.")


class RunCommands:
    """``/run_backtest``, ``/compare_strategies`` and ``/sweep``, over one service."""

    def __init__(self, service: BacktestService) -> None:
        self.svc = service

    @command(
        "run_backtest",
        usage=USAGE["run_backtest"],
        summary="Backtest a stored strategy (or a template) and share the result with the session.",
        details="Options override the stored strategy's symbol, dates and params, e.g. "
        "`/run_backtest strategy_1 fast=12 start=2020-01-01`. With a template name, `symbol` "
        f"defaults to the first symbol of /data. Templates: {_TEMPLATES} (see /templates). "
        "Progress streams as backtestProgress; the result (equity, trades, stats) is stored and "
        "any member can fetch it: `client.results['run_…']`.",
    )
    async def run_backtest(self, ctx: CommandContext) -> CommandReply:
        svc, cmd = self.svc, ctx.command
        usage = USAGE["run_backtest"]
        if len(cmd.args) > 1:
            check_bare_params(cmd.args[1:], template_of(svc, cmd.args[0]))
        if len(cmd.args) != 1:
            raise bad(
                f"give exactly one strategy id or template (got {len(cmd.args)}). Usage: {usage}"
            )
        opts = dict(cmd.options)
        fields = _job_fields(ctx, opts)
        start, end = parse_dates(opts)
        opts.pop("start", None), opts.pop("end", None)
        symbol = opts.pop("symbol", None)
        spec = svc.backtest_spec(
            cmd.args[0], opts, symbol=symbol, start=start, end=end, **_money(opts)
        )
        try:
            summary = await svc.run_backtest(ctx.session_id, spec, **fields)
        except JobCancelled as exc:
            return _cancelled("backtest", exc, svc)
        return CommandReply(summary, run_id=summary["runId"], text=_format.backtest_text(summary))

    @command(
        "compare_strategies",
        usage=USAGE["compare_strategies"],
        summary="Backtest two or more stored strategies and compare their stats side by side.",
        details="Each strategy runs on its own symbol and dates (start/end override all of them). "
        "The summary is a metrics x strategies table; in Python `client.compare_strategies(...)` "
        "returns `.stats` (DataFrame) and `.equity` (aligned equity curves).",
    )
    async def compare_strategies(self, ctx: CommandContext) -> CommandReply:
        svc, cmd = self.svc, ctx.command
        usage = USAGE["compare_strategies"]
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
                raise bad(
                    f"'{sid}' is not a strategy id; compare stored strategies (see /strategies)"
                )
        specs = [svc.backtest_spec(sid, {}, start=start, end=end, **money) for sid in cmd.args]
        try:
            summary = await svc.run_comparison(ctx.session_id, specs, **fields)
        except JobCancelled as exc:
            return _cancelled("comparison", exc, svc)
        return CommandReply(summary, run_id=summary["runId"], text=_format.comparison_text(summary))

    @command(
        "sweep",
        usage=USAGE["sweep"],
        summary="Backtest every combination of a parameter grid (vectorized); best rows first.",
        details="Ranges include hi: `fast=5:50:5` is 5, 10, ..., 50; lists: `k=1.5,2,2.5`. "
        "Invalid combinations (e.g. fast >= slow) are skipped. `sort=<metric>` ranks rows "
        "(default sharpe). "
        "`split=2021-01-01` also backtests every combination on the bars from that date on, "
        "separately (out of sample: `oos_sharpe`, `oos_total_return`, ...), so you can see how the "
        "best in-sample rows hold up. "
        "Cancel a long one with /cancel <run_id>. In Python: `client.sweep(template, symbol, "
        "fast=range(5, 50, 5), ...)` returns the full table.",
    )
    async def sweep(self, ctx: CommandContext) -> CommandReply:
        svc, cmd = self.svc, ctx.command
        usage = USAGE["sweep"]
        if len(cmd.args) > 1:
            check_bare_params(cmd.args[1:], template_of(svc, cmd.args[0]), sweep=True)
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
        split = parse_date("split", opts.pop("split", None))
        money = _money(opts)
        tpl = svc.template(cmd.args[0])
        require_grid(opts, tpl)
        base = svc.backtest_spec(tpl.name, {}, symbol=symbol, start=start, end=end, **money)
        bars = len(base.data)
        if split is not None:  # each combination must fit the shorter of the two periods
            try:
                cut = engine.split_index(base.data.index, split)
            except engine.EngineError as exc:
                raise bad(str(exc)) from None
            bars = min(cut, bars - cut)
        combos, skipped = svc.sweep_grid(tpl.name, opts, bars)
        try:
            summary = await svc.run_sweep(
                ctx.session_id, base, combos, skipped=skipped, sort=sort, split=split, **fields
            )
        except JobCancelled as exc:
            return _cancelled("sweep", exc, svc)
        return CommandReply(summary, run_id=summary["runId"], text=_format.sweep_text(summary))
