"""The backtest commands around the runs (not starting them): ``/status``, ``/cancel``,
``/result`` (this session's runs), ``/strategies``, ``/create_strategy``, ``/data`` and
``/templates`` (the strategy store, the data catalog and the templates).

Registered by :class:`~chatops_widget.server.backtest.BacktestPlugin` (``router.include``).

Example (chat):
    /status
    /result run_3fa2b1c4d5e6
    /create_strategy sma_cross symbol=ALPHA fast=5 slow=20 name="fast SMA"
    /create_strategy name=dip symbol=ALPHA entry="rsi(14) < 30" exit="rsi(14) > 70" stop_loss=5%
"""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING, Any

from chatops_widget import engine
from chatops_widget._lazy import lazy_module
from chatops_widget.protocol import ORDER_OPTIONS
from chatops_widget.server.host import CommandContext, CommandReply
from chatops_widget.server.router import command

from .. import _format
from .._targets import RULE_OPTIONS, check_name, check_orders
from ..errors import Invalid, did_you_mean
from ..service import BacktestService
from ..storage.strategies import RULE, NameTaken
from ._args import (
    bad,
    check_bare_params,
    no_arguments,
    parse_dates,
    parse_run_id,
    translated,
)

if TYPE_CHECKING:
    import pandas as pd

    from chatops_widget.engine import rules
else:
    pd = lazy_module("pandas")
    rules = lazy_module("chatops_widget.engine.rules")

__all__ = ["ListingCommands"]


_CREATE_USAGE = (
    "/create_strategy <template | strategy> symbol=.. [name=..] [start=..] [end=..] "
    "[param=value ...] | "
    '/create_strategy name=.. entry="<rule>" exit="<rule>" [short_entry=".."] [short_exit=".."] '
    '[where=".."] [symbol=..] [param=default ...]; both: [stop_loss=..] [take_profit=..] '
    "[trailing_stop=..] [size=.. | risk=.. | units=..] [whole_units=true]"
)


class ListingCommands:
    """The commands around runs, strategies and data, over one :class:`BacktestService`."""

    def __init__(self, service: BacktestService) -> None:
        self.svc = service

    # ---------------------------------------------------------------------- runs

    @command(
        "status",
        usage="/status",
        summary="List this session's runs and their progress.",
        example="/status",
    )
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
        example="/cancel run_3fa2b1c4d5e6",
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
        "result",
        usage="/result <run_id>",
        summary="Show a run's summary again (stats or table).",
        example="/result run_3fa2b1c4d5e6",
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

    @command(
        "strategies",
        usage="/strategies",
        summary="List the stored strategies.",
        example="/strategies",
    )
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
        summary="Store a new strategy -- a template with params, or your own entry/exit rules -- "
        "with order settings; returns its id.",
        details="A template: "
        '`/create_strategy sma_cross symbol=ALPHA fast=5 slow=20 name="fast SMA"`. Your rules: '
        '`/create_strategy name=dip symbol=ALPHA entry="rsi(14) < 30 and close > sma(200)" '
        'exit="rsi(14) > 70" stop_loss=5% take_profit=12%`; `$params` take their defaults from '
        'options: `/create_strategy name=x entry="crosses_above(ema($fast), ema($slow))" '
        'exit="crosses_below(ema($fast), ema($slow))" fast=12 slow=26`, then '
        "`/sweep x symbol=ALPHA fast=5:50:5 slow=20:200:10`. Rules use open high low close "
        "volume, numbers, + - * /, comparisons, and or not, lookback close[1] and the functions "
        "of /templates (sma ema wma rsi atr stdev bb_upper bb_lower bb_mid highest lowest roc "
        "macd macd_signal adx crosses_above crosses_below); the grammar is in "
        "docs/strategies.md. A name is 1-64 characters, not a template's or an id; the strategy "
        "is then run by name: `/run_backtest dip`. Order settings are stored with it and each "
        "run may override them. A stored strategy works as a template too: `/create_strategy x "
        "symbol=BRAVO fast=8 name=x_bravo` stores a variant of x.",
        example='/create_strategy sma_cross symbol=ALPHA fast=5 slow=20 name="fast SMA"',
    )
    @translated
    async def create_strategy(self, ctx: CommandContext) -> CommandReply:
        """``/create_strategy``: store a template with params, or rules, on a symbol."""
        svc, cmd = self.svc, ctx.command
        usage = _CREATE_USAGE
        opts = dict(cmd.options)
        if any(k in opts for k in RULE_OPTIONS[:4]):
            return self._create_rule(ctx, opts)
        if len(cmd.args) > 1:
            check_bare_params(cmd.args[1:], svc.resolve.template_of(cmd.args[0]))
        if len(cmd.args) != 1:
            raise bad(
                f"give exactly one template (got {len(cmd.args)}), or your own rules with "
                f'entry="..." exit="...". Usage: {usage}'
            )
        base = svc.resolve.stored(cmd.args[0])  # a stored strategy as the template: a variant
        if (
            "symbol" not in opts
            and (base is None or base.symbol is None)
            and not (base is not None and base.rule is not None)
        ):
            raise bad(f"symbol= is required, e.g. symbol=ALPHA (see /data). Usage: {usage}")
        start, end = parse_dates(opts)
        opts.pop("start", None), opts.pop("end", None)
        name, symbol = opts.pop("name", None), opts.pop("symbol", None)
        name = None if name is None else check_name(name)
        orders = {k: opts.pop(k) for k in ORDER_OPTIONS if k in opts}
        target = base.id if base is not None else svc.resolve.template(cmd.args[0]).name
        spec = svc.resolve.backtest_spec(
            target, opts, symbol=symbol, start=start, end=end, orders=orders
        )
        template = base.template if base is not None else target
        rule = base.rule if base is not None else None
        # a rule strategy keeps "no symbol" unless one is given (or its base had one)
        keep = rule is None or symbol is not None or (base is not None and base.symbol)
        t0 = time.time()
        s = self._store(template, spec.symbol if keep else None, spec.params, name, spec.start,
                        spec.end, ctx.sender, rule, spec.orders)  # fmt: skip
        existed = s.created < t0
        stored = "Already stored (the same definition):" if existed else "Stored"
        return CommandReply(
            {"kind": "strategy", "strategyId": s.id, "strategy": s.info(), "existed": existed},
            text=f"{stored} **{s.id}**: {s.name}"
            + (f" ({_format.rule_text(s.rule)})" if s.rule else "")
            + f"{_format.orders_suffix(s.orders)}. Run it with `/run_backtest {s.id}`.",
        )

    def _create_rule(self, ctx: CommandContext, opts: dict[str, str]) -> CommandReply:
        """``/create_strategy name=.. entry=".." exit=".." [param=default ...]``."""
        svc, cmd = self.svc, ctx.command
        if cmd.args:
            raise bad(
                f"`{cmd.args[0]}`: a rule strategy takes no template or other word; give options "
                "as key=value (a $param's default as fast=12). Usage: " + _CREATE_USAGE
            )
        for key, example in (("entry", "rsi(14) < 30"), ("exit", "rsi(14) > 70")):
            if not opts.get(key, "").strip():
                raise bad(f'a rule strategy needs {key}=, e.g. {key}="{example}" (a condition '
                          "checked at every bar's close)")  # fmt: skip
        start, end = parse_dates(opts)
        opts.pop("start", None), opts.pop("end", None)
        name = opts.pop("name", None)
        name = None if name is None else check_name(name)
        symbol = opts.pop("symbol", None)
        orders = check_orders({k: opts.pop(k) for k in ORDER_OPTIONS if k in opts})
        texts = {k: opts.pop(k) for k in RULE_OPTIONS if k in opts}
        try:  # the engine parses the rules: a bad one is pointed at its character
            rule = engine.RuleStrategy(
                texts.pop("entry"), texts.pop("exit"), opts, name=name or "rule", **texts
            )
        except engine.EngineError as exc:
            hint = ""
            if getattr(exc, "param", None) in opts:  # an option's name mistyped, not a $param
                known = ["name", "symbol", "start", "end", *RULE_OPTIONS, *ORDER_OPTIONS]
                close = did_you_mean(str(getattr(exc, "param", "")), known)
                hint = f"; or is it an option{close}" if close else ""
            # in chat a default is an option (fast=12), not Python's params={...}
            text = re.sub(r"give params=\{'(\w+)': \.\.\.\}", r"give it as an option, e.g. \1=10",
                          str(exc))  # fmt: skip
            raise Invalid(f"{text}{hint}") from None
        n_bars, sym = None, None
        if symbol is not None:  # check the warm-ups and the ATR window against its data
            bars = svc.resolve.data(symbol, start, end)
            n_bars, sym = bars.bars, bars.symbol
        try:
            params = rule.validate(None, n_bars)
            engine.Orders.from_kwargs(**orders).check_bars(n_bars or 1 << 62)
        except engine.EngineError as exc:
            raise Invalid(str(exc)) from None
        t0 = time.time()
        s = self._store(RULE, sym, params, name, start, end, ctx.sender, rule.to_dict(), orders)
        existed = s.created < t0
        where = f" on {s.symbol}" if s.symbol else ""
        sweep = ""
        if s.params:
            first = next(iter(s.params))
            sweep = (f"; sweep its params: `/sweep {s.name} symbol={s.symbol or 'ALPHA'} "
                     f"{first}=...`")  # fmt: skip
        stored = "Already stored (the same definition):" if existed else "Stored"
        return CommandReply(
            {"kind": "strategy", "strategyId": s.id, "strategy": s.info(), "existed": existed},
            text=f"{stored} **{s.id}** `{s.name}`{where}: {_format.rule_text(s.rule or {})}"
            f"{_format.orders_suffix(s.orders)}. Run it with `/run_backtest {s.name}`{sweep}.",
        )

    def _store(self, template: str, symbol: str | None, params: dict[str, Any],
               name: str | None, start: str | None, end: str | None, sid: str | None,
               rule: dict[str, Any] | None, orders: dict[str, Any]) -> Any:  # fmt: skip
        try:
            return self.svc.strategies.create(
                template, symbol, params=params, name=name, start=start, end=end,
                created_by=sid, rule=rule, orders=orders,
            )  # fmt: skip
        except NameTaken as exc:
            raise Invalid(
                f"the name {exc.name!r} is taken by {exc.strategy_id}; pick another name (or "
                f"run that one: /run_backtest {exc.strategy_id})"
            ) from None

    @command(
        "data", usage="/data", summary="List the symbols with their date ranges.", example="/data"
    )
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
        "templates",
        usage="/templates",
        summary="List the strategy templates and their params.",
        example="/templates",
    )
    @translated
    async def templates(self, ctx: CommandContext) -> CommandReply:
        """``/templates``: the templates and their params."""
        no_arguments(ctx.command, "/templates")
        specs = [t.spec() for t in engine.templates().values()]
        for spec in specs:  # what each built-in is in the rule language
            rule = rules.TEMPLATE_RULES.get(spec["name"])
            if rule is not None:
                spec["rule"] = {"entry": rule[0], "exit": rule[1], "where": rule[4]}
        language = rules.language()
        functions = [str(f["signature"]) for f in language["functions"]]  # type: ignore[attr-defined]
        return CommandReply(
            {"kind": "templates", "templates": specs, "language": language},
            text=_format.templates_text(specs, functions),
        )
