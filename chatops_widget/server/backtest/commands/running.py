"""The commands that start runs -- ``/run_backtest``, ``/compare_strategies``, ``/sweep`` -- and
their typed twin, the ``startRun`` event the kernel client sends.

Both ways build one :class:`~chatops_widget.protocol.StartRun` (a command's text is parsed into
it here), which the service's resolver validates before any job exists
(:meth:`~..resolve.Resolver.prepare`) and the service runs (:meth:`~..service.BacktestService.run`).
A ``startRun`` is echoed into the chat as the command it equals, so every member sees what ran.
``run_id=run_<hex>`` may be given to choose the run id.

Example (chat):
    /run_backtest strategy_1 fast=12
    /run_backtest sma_cross symbol=ALPHA fast=5 slow=20 start=2020-01-01
    /compare_strategies strategy_1 strategy_2
    /sweep sma_cross symbol=ALPHA fast=5:50:5 slow=20:200:10
"""

from __future__ import annotations

from typing import Any

from chatops_widget import engine
from chatops_widget.protocol import ErrorCode, ProtocolError, StartRun, new_run_id, parse
from chatops_widget.server.grammar import ParsedCommand
from chatops_widget.server.host import CommandContext, CommandReply, Host
from chatops_widget.server.router import command

from .. import _format
from ..errors import BacktestError, to_protocol
from ..jobs.manager import JobCancelled
from ..resolve import Prepared
from ..service import BacktestService
from ._args import (
    bad,
    check_bare_params,
    check_options,
    parse_dates,
    parse_float,
    parse_range,
    parse_run_id,
    require_grid,
    translated,
)

__all__ = ["USAGE", "RunCommands"]

#: The usage line of each command (shown by /help and in its errors).
USAGE = {
    "run_backtest": "/run_backtest <strategy_id | template> [symbol=..] [start=YYYY-MM-DD] "
    "[end=YYYY-MM-DD] [cash=..] [commission=..] [spread=..] [param=value ...]",
    "compare_strategies": "/compare_strategies <strategy_id> <strategy_id> [...] "
    "[start=..] [end=..]",
    "sweep": "/sweep <template> symbol=.. param=lo:hi:step [param=a,b,c ...] [start=..] [end=..] "
    "[split=YYYY-MM-DD]",
}
_KINDS = {"run_backtest": "backtest", "compare_strategies": "comparison", "sweep": "sweep"}
_TEXT = {
    "backtest": _format.backtest_text,
    "comparison": _format.comparison_text,
    "sweep": _format.sweep_text,
}
_COMMON = {"start", "end", "cash", "commission", "spread", "run_id"}
_TEMPLATES = ", ".join(sorted(engine.templates()))


class RunCommands:
    """The run commands and ``startRun``, over one :class:`BacktestService`."""

    def __init__(self, service: BacktestService, host: Host) -> None:
        self.svc, self.host = service, host

    def register(self, host: Host) -> None:
        """Add the commands and the ``startRun`` event to ``host``."""
        host.router.include(self)
        host.on_event("startRun", self.start_run)

    # ------------------------------------------------------------------ commands (text)
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
    @translated
    async def run_backtest(self, ctx: CommandContext) -> CommandReply:
        """``/run_backtest``: one backtest."""
        return await self._from_text(ctx)

    @command(
        "compare_strategies",
        usage=USAGE["compare_strategies"],
        summary="Backtest two or more stored strategies and compare their stats side by side.",
        details="Each strategy runs on its own symbol and dates (start/end override all of them). "
        "The summary is a metrics x strategies table; in Python `client.compare_strategies(...)` "
        "returns `.stats` (DataFrame) and `.equity` (aligned equity curves).",
    )
    @translated
    async def compare_strategies(self, ctx: CommandContext) -> CommandReply:
        """``/compare_strategies``: stored strategies side by side."""
        return await self._from_text(ctx)

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
    @translated
    async def sweep(self, ctx: CommandContext) -> CommandReply:
        """``/sweep``: a parameter grid."""
        return await self._from_text(ctx)

    async def _from_text(self, ctx: CommandContext) -> CommandReply:
        req, run_id = self.request(ctx.command, ctx.session_id)
        prepared = self.svc.prepare(req, ctx.sid)
        return await self._execute(prepared, ctx.session_id, run_id, ctx.command.text, ctx.sender)

    def request(self, cmd: ParsedCommand, session_id: str) -> tuple[StartRun, str | None]:
        """A run command's text as the typed request it stands for (and the run id it asks for).

        Checks what only text can get wrong (a bare ``fast`` without a value, a missing
        ``symbol=``, unknown options); the values are checked by the resolver.
        """
        kind = _KINDS[cmd.name]
        usage = USAGE[cmd.name]
        template = self.svc.resolve.template_of(cmd.args[0]) if cmd.args else None
        if kind != "comparison" and len(cmd.args) > 1:
            check_bare_params(cmd.args[1:], template, sweep=kind == "sweep")
        if kind == "comparison" and len(cmd.args) < 2:
            raise bad(f"give two or more strategy ids, e.g. strategy_1 strategy_2. Usage: {usage}")
        if kind != "comparison" and len(cmd.args) != 1:
            what = "one strategy id or template" if kind == "backtest" else "one template"
            raise bad(f"give exactly {what} (got {len(cmd.args)}). Usage: {usage}")
        opts = dict(cmd.options)
        if kind == "comparison":
            check_options(opts, _COMMON, usage)
        if kind == "sweep" and "symbol" not in opts:
            raise bad(f"symbol= is required, e.g. symbol=ALPHA (see /data). Usage: {usage}")
        run_id = opts.pop("run_id", None)
        start, end = parse_dates(opts)
        fields: dict[str, Any] = {
            "sessionId": session_id,
            "kind": kind,
            "targets": list(cmd.args),
            "symbol": opts.pop("symbol", None),
            "start": start,
            "end": end,
            "cash": parse_float("cash", opts.pop("cash", None), engine.DEFAULT_CASH, 1.0, 1e15),
            "commission": parse_float("commission", opts.pop("commission", None), 0.0, 0.0, 0.5),
            "spread": parse_float("spread", opts.pop("spread", None), 0.0, 0.0, 0.5),
        }
        opts.pop("start", None), opts.pop("end", None)
        if kind == "sweep":
            fields["split"] = opts.pop("split", None)
            fields["sort"] = opts.pop("sort", None)
            if template is not None:
                require_grid(opts, template)
            fields["grid"] = {k: parse_range(k, v) for k, v in opts.items()}
        else:
            fields["params"] = opts
        return parse(StartRun, fields), parse_run_id(run_id) if run_id is not None else None

    # ------------------------------------------------------------------ startRun (typed)
    async def start_run(self, sid: str, data: Any) -> dict[str, Any]:
        """``startRun {sessionId, kind, targets, ...}`` -> ``{runId, message}``; the run goes on
        in the background exactly as its command would (a bad request fails the ack)."""
        req = parse(StartRun, data)
        self.host.require_joined(sid, req.sessionId, "startRun")
        text = req.command_text()
        if req.runId is not None and self._already_started(req, text):
            return {"runId": req.runId, "duplicate": True}
        try:
            prepared = self.svc.prepare(req, sid)
            run_id = self.svc.new_run_id(req.runId) or new_run_id()
        except BacktestError as exc:
            raise to_protocol(exc) from None

        async def execute() -> CommandReply:
            try:
                who = self.host.name_of(sid)
                return await self._execute(prepared, req.sessionId, run_id, text, who)
            except BacktestError as exc:
                raise to_protocol(exc) from None

        msg = await self.host.start_command(
            req.sessionId,
            text,
            execute,
            name=text.split()[0][1:],
            sid=sid,
            client_message_id=req.clientMessageId,
            metadata={"runId": run_id},
        )
        return {"runId": run_id, "message": msg.wire() if msg else None}

    def _already_started(self, req: StartRun, text: str) -> bool:
        """A retried ``startRun`` (same run id, same request, same session) after a reconnect."""
        job = self.svc.jobs.get(req.runId or "")
        if job is not None:
            same = job.session_id == req.sessionId and job.command == text
        else:
            record = self.svc.results.record(req.runId or "")
            same = record is not None and record.get("sessionId") == req.sessionId
        if job is not None or self.svc.results.record(req.runId or "") is not None:
            if not same:
                raise ProtocolError(
                    ErrorCode.BAD_ARGUMENT,
                    f"run id {req.runId} is already used; pick another (or leave runId out)",
                )
            return True
        return False

    # ------------------------------------------------------------------ both
    async def _execute(
        self, prepared: Prepared, session_id: str, run_id: str | None, text: str, who: str
    ) -> CommandReply:
        try:
            summary = await self.svc.run(
                prepared, session_id, run_id=run_id, command=text, started_by=who
            )
        except JobCancelled as exc:
            return self._cancelled(prepared.kind, exc)
        return CommandReply(summary, run_id=summary["runId"], text=_TEXT[prepared.kind](summary))

    def _cancelled(self, kind: str, exc: JobCancelled) -> CommandReply:
        run_id = str(exc.args[0])
        job = self.svc.jobs.get(run_id)
        pct = job.progress if job else 0.0
        summary = {"kind": kind, "runId": run_id, "status": "cancelled", "progress": pct}
        return CommandReply(summary, run_id=run_id, text=f"**{run_id}** cancelled at {pct:.0f}%.")
