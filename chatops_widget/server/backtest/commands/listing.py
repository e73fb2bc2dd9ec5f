"""The backtest commands around the runs (not starting them): ``/status``, ``/cancel``,
``/result`` (this session's runs), ``/strategies``, ``/create_strategy``, ``/data`` and
``/templates`` (the strategy store, the data catalog and the templates).

Registered by :class:`~chatops_widget.server.backtest.BacktestPlugin` (``router.include``).

Example (chat):
    /status
    /result run_3fa2b1c4d5e6
    /create_strategy sma_cross symbol=ALPHA fast=5 slow=20 name="fast SMA"
"""

from __future__ import annotations

import pandas as pd

from chatops_widget import engine
from chatops_widget.server.host import CommandContext, CommandReply
from chatops_widget.server.router import command

from .. import _format
from ..service import BacktestService
from ._args import (
    bad,
    check_bare_params,
    no_arguments,
    parse_dates,
    parse_run_id,
    translated,
)

__all__ = ["ListingCommands"]


_CREATE_USAGE = (
    "/create_strategy <template> symbol=.. [name=..] [start=..] [end=..] [param=value ...]"
)


class ListingCommands:
    """The commands around runs, strategies and data, over one :class:`BacktestService`."""

    def __init__(self, service: BacktestService) -> None:
        self.svc = service

    # ---------------------------------------------------------------------- runs

    @command("status", usage="/status", summary="List this session's runs and their progress.")
    @translated
    async def status(self, ctx: CommandContext) -> CommandReply:
        """``/status``: this session's runs."""
        no_arguments(ctx.command, "/status")
        runs = self.svc.runs(ctx.session_id)
        return CommandReply({"kind": "status", "runs": runs}, text=_format.status_text(runs))

    @command(
        "cancel",
        usage="/cancel <run_id>",
        summary="Stop a queued or running run (a sweep stops between chunks).",
    )
    @translated
    async def cancel(self, ctx: CommandContext) -> CommandReply:
        """``/cancel <run_id>``: stop a run."""
        svc, cmd = self.svc, ctx.command
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

    @command(
        "result", usage="/result <run_id>", summary="Show a run's summary again (stats or table)."
    )
    @translated
    async def result(self, ctx: CommandContext) -> CommandReply:
        """``/result <run_id>``: a run's summary again."""
        svc, cmd = self.svc, ctx.command
        if len(cmd.args) != 1 or cmd.options:
            raise bad("usage: /result <run_id>, e.g. /result run_3fa2b1c4d5e6 (see /status)")
        summary = svc.summary_of(ctx.session_id, parse_run_id(cmd.args[0]))
        text = {
            "backtest": _format.backtest_text,
            "comparison": _format.comparison_text,
            "sweep": _format.sweep_text,
        }
        if summary.get("status") == "completed" and summary.get("kind") in text:
            return CommandReply(
                summary, run_id=summary["runId"], text=text[summary["kind"]](summary)
            )
        return CommandReply(
            summary,
            run_id=summary["runId"],
            text=f"**{summary['runId']}** is {summary.get('status')}.",
        )

    # ---------------------------------------------------------------------- strategies and data

    @command("strategies", usage="/strategies", summary="List the stored strategies.")
    @translated
    async def strategies(self, ctx: CommandContext) -> CommandReply:
        """``/strategies``: the stored strategies."""
        no_arguments(ctx.command, "/strategies")
        items = [s.info() for s in self.svc.strategies.all()]
        hosted = self.svc.hosted.listing() if self.svc.hosted else []
        text = "\n\n".join(t for t in (_format.strategies_text(items),
                                        _format.hosted_text(hosted)) if t)  # fmt: skip
        return CommandReply({"kind": "strategies", "strategies": items, "hosted": hosted},
                            text=text)  # fmt: skip

    @command(
        "create_strategy",
        usage=_CREATE_USAGE,
        summary="Store a new strategy (a template with params on a symbol); returns its id.",
        details="Example: "
        '`/create_strategy sma_cross symbol=ALPHA fast=5 slow=20 name="fast SMA"`.',
    )
    @translated
    async def create_strategy(self, ctx: CommandContext) -> CommandReply:
        """``/create_strategy``: store a template with params on a symbol."""
        svc, cmd = self.svc, ctx.command
        usage = _CREATE_USAGE
        if len(cmd.args) > 1:
            check_bare_params(cmd.args[1:], svc.resolve.template_of(cmd.args[0]))
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
        tpl = svc.resolve.template(cmd.args[0])
        spec = svc.resolve.backtest_spec(tpl.name, opts, symbol=symbol, start=start, end=end)
        s = svc.strategies.create(
            tpl.name,
            spec.symbol,
            params=spec.params,
            name=name,
            start=start,
            end=end,
            created_by=ctx.sender,
        )
        info = s.info()
        return CommandReply(
            {"kind": "strategy", "strategyId": s.id, "strategy": info},
            text=f"Stored **{s.id}**: {s.name}. Run it with `/run_backtest {s.id}`.",
        )

    @command("data", usage="/data", summary="List the symbols with their date ranges.")
    @translated
    async def data(self, ctx: CommandContext) -> CommandReply:
        """``/data``: the symbols and their date ranges."""
        no_arguments(ctx.command, "/data")
        info = self.svc.catalog.info()
        items = [
            {
                "symbol": str(r["symbol"]),
                "start": pd.Timestamp(r["start"]).isoformat()[:10],
                "end": pd.Timestamp(r["end"]).isoformat()[:10],
                "bars": int(r["bars"]),
                "source": r["source"],
            }
            for r in info.to_dict("records")
        ]
        return CommandReply({"kind": "data", "symbols": items}, text=_format.data_text(items))

    @command(
        "templates", usage="/templates", summary="List the strategy templates and their params."
    )
    @translated
    async def templates(self, ctx: CommandContext) -> CommandReply:
        """``/templates``: the templates and their params."""
        no_arguments(ctx.command, "/templates")
        specs = [t.spec() for t in engine.templates().values()]
        return CommandReply(
            {"kind": "templates", "templates": specs}, text=_format.templates_text(specs)
        )
