"""The commands that start runs -- ``/run_backtest``, ``/compare_strategies``, ``/sweep`` -- and
their typed twin, the ``startRun`` event the kernel client sends.

Both ways build one :class:`~chatops_widget.protocol.StartRun` (a command's text is parsed into
it here), which the service's resolver validates before any job exists
(:meth:`~..resolve.Resolver.prepare`) and the service runs (:meth:`~..service.BacktestService.run`).
A ``startRun`` is echoed into the chat as the command it equals, so every member sees what ran.
``run_id=run_<hex>`` may be given to choose the run id.

A strategy is named by its id (``strategy_7``), its name (``dip``) or a template name; order
settings (``stop_loss=5%``, ``take_profit=``, ``trailing_stop=``, ``size=``, ``risk=``,
``units=``, ``whole_units=``) go into the request's ``orders``, over those stored with it.

Example (chat):
    /run_backtest strategy_1 fast=12
    /run_backtest sma_cross symbol=ALPHA fast=5 slow=20 start=2020-01-01
    /run_backtest dip stop_loss=5% take_profit=12%
    /compare_strategies strategy_1 strategy_2
    /sweep sma_cross symbol=ALPHA fast=5:50:5 slow=20:200:10
    /sweep x symbol=ALPHA fast=5:50:5 slow=20:200:10 split=2021-01-01
"""

from __future__ import annotations

from typing import Any

from chatops_widget import engine
from chatops_widget.protocol import (
    ORDER_OPTIONS,
    ErrorCode,
    ProtocolError,
    StartRun,
    new_run_id,
    parse,
)
from chatops_widget.server.grammar import ParsedCommand
from chatops_widget.server.host import CommandContext, CommandReply, Host
from chatops_widget.server.router import command

from .. import _format
from ..errors import BacktestError, to_protocol
from ..jobs.manager import JobCancelled
from ..research import format as research_format
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
from .research import research_request

__all__ = ["USAGE", "RunCommands"]

#: The order options every run takes (how they read in a usage line).
ORDERS_USAGE = "[stop_loss=..] [take_profit=..] [trailing_stop=..] [size=.. | risk=.. | units=..]"
#: The usage line of each command (shown by /help and in its errors).
USAGE = {
    "run_backtest": "/run_backtest <strategy | template> [symbol=.. | symbols=A,B [weights=..] "
    "[rebalance=..]] [start=YYYY-MM-DD] [end=YYYY-MM-DD] [cash=..] [commission=..] [spread=..] "
    f"{ORDERS_USAGE} [param=value ...]",
    "compare_strategies": "/compare_strategies <strategy> <strategy> [...] "
    f"[symbols=A,B,C | symbols=*] [start=..] [end=..] {ORDERS_USAGE}",
    "sweep": "/sweep <strategy | template> [symbol=..] param=lo:hi:step [param=a,b,c ...] "
    f"[start=..] [end=..] [split=YYYY-MM-DD] {ORDERS_USAGE}",
}
#: What /help says about the order options (each command's details end with it).
ORDERS_HELP = (
    " Orders: `stop_loss=5%` (or 0.05) and `take_profit=12%` are fractions of the entry price, "
    "checked intrabar; `trailing_stop=10%` or `trailing_stop=atr(14)*3`; sizing `size=50%` of "
    "equity (default all-in), `risk=1%` of equity lost at the stop (needs stop_loss), "
    "`units=100`, `whole_units=true`. They override those stored with the strategy "
    "(`stop_loss=none` removes one)."
)
_KINDS = {"run_backtest": "backtest", "compare_strategies": "comparison", "sweep": "sweep"}
_TEXT = {
    "backtest": _format.backtest_text,
    "comparison": _format.comparison_text,
    "sweep": _format.sweep_text,
    "walkforward": research_format.walkforward_text,
    "universe": research_format.universe_text,
    "portfolio": research_format.portfolio_text,
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
        host.on_event("startRun", self.start_run, limit="commands")

    # ------------------------------------------------------------------ commands (text)
    @command(
        "run_backtest",
        usage=USAGE["run_backtest"],
        summary="Backtest a stored strategy (or a template) and share the result with the session.",
        details="Name a stored strategy by id or name (`strategy_7`, `dip`). Options override "
        "its symbol, dates, params and orders, e.g. "
        "`/run_backtest strategy_1 fast=12 start=2020-01-01`. With a template name, `symbol` "
        f"defaults to the first symbol of /data. Templates: {_TEMPLATES} (see /templates). "
        "Progress streams as backtestProgress; the result (equity, trades, stats) is stored and "
        "any member can fetch it in Python: `results['run_…']` (`w.results` on a panel, "
        "`client.results` on a ChatOpsClient)." + ORDERS_HELP,
        example="/run_backtest strategy_1 fast=12 start=2020-01-01",
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
        "returns `.stats` (DataFrame) and `.equity` (aligned equity curves)." + ORDERS_HELP,
        example="/compare_strategies strategy_1 strategy_2",
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
        "A stored strategy (by id or name, a rule strategy's `$params` too) sweeps from its own "
        "symbol and params: `/sweep x fast=5:50:5 slow=20:200:10`. "
        "Cancel a long one with /cancel <run_id>. In Python: `client.sweep(template, symbol, "
        "fast=range(5, 50, 5), ...)` returns the full table." + ORDERS_HELP,
        example="/sweep sma_cross symbol=ALPHA fast=5:50:5 slow=20:200:20",
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
        if "symbols" in cmd.options:  # a portfolio, or strategies across a universe
            return research_request(cmd, session_id, template)
        if kind != "comparison" and len(cmd.args) > 1:
            check_bare_params(cmd.args[1:], template, sweep=kind == "sweep")
        if kind == "comparison" and len(cmd.args) < 2:
            raise bad(f"give two or more strategy ids, e.g. strategy_1 strategy_2. Usage: {usage}")
        if kind != "comparison" and len(cmd.args) != 1:
            what = "one strategy (id or name) or template"
            raise bad(f"give exactly {what} (got {len(cmd.args)}). Usage: {usage}")
        opts = dict(cmd.options)
        if kind == "comparison":
            check_options(opts, _COMMON | set(ORDER_OPTIONS), usage)
        if kind == "sweep" and "symbol" not in opts:
            stored = self.svc.resolve.stored(cmd.args[0])
            if stored is None or stored.symbol is None:
                raise bad(f"symbol= is required, e.g. symbol=ALPHA (see /data). Usage: {usage}")
        orders = {k: opts.pop(k) for k in ORDER_OPTIONS if k in opts}
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
            "orders": orders or None,
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
        try:
            req = parse(StartRun, fields)
        except ProtocolError as exc:  # typed, it is a bad request; typed in chat, an argument
            raise bad(exc.message.removeprefix("startRun: ")) from None
        return req, parse_run_id(run_id) if run_id is not None else None

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
        self, prepared: Any, session_id: str, run_id: str | None, text: str, who: str
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
        kept = getattr(exc, "summary", None) or {}  # e.g. a walk-forward's finished windows
        summary.update(kept)
        text = f"**{run_id}** cancelled at {pct:.0f}%."
        if kept.get("partial"):
            text += (
                f" {kept['windowsDone']} of {kept['windowsTotal']} windows had finished: they are "
                "stitched and kept (`RunFailed.partial` in Python)."
            )
        return CommandReply(summary, run_id=run_id, text=text)
