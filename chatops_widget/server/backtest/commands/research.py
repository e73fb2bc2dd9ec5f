"""The research commands: ``/walkforward``, and the research forms of ``/run_backtest`` and
``/compare_strategies`` (with ``symbols=``), as text -> typed
:class:`~chatops_widget.protocol.StartRun` (kinds ``walkforward``, ``portfolio``, ``universe``).

The values are checked by the resolver (:mod:`..research.plans`) before any job; here only what
text can get wrong (a missing ``train=``, an option that does not exist, a bad number).

Example (chat):
    /walkforward sma_cross symbol=ALPHA fast=5:50:5 slow=20:200:10 train=2y test=6m
    /compare_strategies strategy_1 strategy_2 symbols=ALPHA,BRAVO,CHARLIE
    /compare_strategies strategy_1 strategy_2 symbols=*
    /run_backtest strategy_1 symbols=ALPHA,BRAVO weights=0.6,0.4 rebalance=monthly
"""

from __future__ import annotations

from typing import Any

from chatops_widget import engine
from chatops_widget.protocol import StartRun, parse
from chatops_widget.server.grammar import ParsedCommand
from chatops_widget.server.host import CommandContext, CommandReply
from chatops_widget.server.router import command

from ._args import (
    bad,
    check_bare_params,
    check_options,
    parse_dates,
    parse_float,
    parse_range,
    parse_run_id,
    translated,
)

__all__ = ["RESEARCH_USAGE", "ResearchCommands", "research_request"]

RESEARCH_USAGE = {
    "walkforward": "/walkforward <strategy_id | template> symbol=.. [param=lo:hi:step ...] "
    "train=2y test=6m [anchored=true] [metric=sharpe] [min_trades=5] [start=..] [end=..]",
    "universe": "/compare_strategies <strategy> [<strategy> ...] symbols=A,B,C (or symbols=*) "
    "[start=..] [end=..]",
    "portfolio": "/run_backtest <strategy_id | template> symbols=A,B,C "
    "[weights=equal | 0.5,0.3,0.2] [rebalance=none | monthly | weekly] [param=value ...]",
}
_TRUE, _FALSE = {"true", "yes", "on", "1"}, {"false", "no", "off", "0"}


def _symbols(text: str) -> list[str]:
    names = [s.strip().upper() for s in text.split(",") if s.strip()]
    if not names:
        raise bad("symbols= is empty; list them, e.g. symbols=ALPHA,BRAVO (or symbols=*)")
    return names


def _bool(name: str, text: str) -> bool:
    low = text.strip().lower()
    if low not in _TRUE | _FALSE:
        raise bad(f"{name}={text!r} must be true or false, e.g. {name}=true")
    return low in _TRUE


def _int(name: str, text: str, example: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise bad(f"{name}={text!r} must be a whole number, e.g. {name}={example}") from None
    if value < 0:
        raise bad(f"{name}={text} must be >= 0, e.g. {name}={example}")
    return value


def _period(text: str) -> int | str:
    return int(text) if text.strip().isdigit() else text.strip()


def _weights(text: str) -> list[float] | str:
    if text.strip().lower() == "equal":
        return "equal"
    try:
        return [float(w) for w in text.split(",") if w.strip()]
    except ValueError:
        raise bad(
            f"weights={text!r}: give 'equal' or one number per symbol, e.g. weights=0.5,0.3,0.2"
        ) from None


def _base(cmd: ParsedCommand, session_id: str, kind: str) -> tuple[dict[str, Any], dict, Any]:
    opts = dict(cmd.options)
    run_id = opts.pop("run_id", None)
    start, end = parse_dates(opts)
    opts.pop("start", None), opts.pop("end", None)
    fields: dict[str, Any] = {
        "sessionId": session_id,
        "kind": kind,
        "targets": list(cmd.args),
        "start": start,
        "end": end,
        "cash": parse_float("cash", opts.pop("cash", None), engine.DEFAULT_CASH, 1.0, 1e15),
        "commission": parse_float("commission", opts.pop("commission", None), 0.0, 0.0, 0.5),
        "spread": parse_float("spread", opts.pop("spread", None), 0.0, 0.0, 0.5),
    }
    return fields, opts, parse_run_id(run_id) if run_id is not None else None


def research_request(
    cmd: ParsedCommand, session_id: str, template: Any
) -> tuple[StartRun, str | None]:
    """The ``StartRun`` a research command's text stands for (and the run id it asks for);
    ``template`` is the engine strategy the first argument names (for hints), if any."""
    if cmd.name == "walkforward":
        kind = "walkforward"
    else:
        kind = "universe" if cmd.name == "compare_strategies" else "portfolio"
    usage = RESEARCH_USAGE[kind]
    if kind != "universe" and len(cmd.args) > 1:
        check_bare_params(cmd.args[1:], template, sweep=kind == "walkforward")
    if not cmd.args:
        raise bad(f"give the strategy (a stored id or a template). Usage: {usage}")
    if kind != "universe" and len(cmd.args) != 1:
        raise bad(f"give exactly one strategy id or template (got {len(cmd.args)}). Usage: {usage}")
    fields, opts, run_id = _base(cmd, session_id, kind)
    if kind == "universe":
        check_options(opts, {"symbols"}, usage)
        fields["symbols"] = _symbols(opts.pop("symbols"))
    elif kind == "portfolio":
        fields["symbols"] = _symbols(opts.pop("symbols"))
        if "weights" in opts:
            fields["weights"] = _weights(opts.pop("weights"))
        if "rebalance" in opts:
            fields["rebalance"] = opts.pop("rebalance")
        if "symbol" in opts:
            raise bad(f"a portfolio takes symbols=A,B,...; leave symbol= out. Usage: {usage}")
        fields["params"] = opts
    else:
        for need in ("train", "test"):
            if need not in opts:
                raise bad(f"{need}= is required, e.g. train=2y test=6m (or bars: train=500 "
                          f"test=125). Usage: {usage}")  # fmt: skip
        fields["train"], fields["test"] = _period(opts.pop("train")), _period(opts.pop("test"))
        if "anchored" in opts:
            fields["anchored"] = _bool("anchored", opts.pop("anchored"))
        if "metric" in opts:
            fields["metric"] = opts.pop("metric")
        if "min_trades" in opts:
            fields["minTrades"] = _int("min_trades", opts.pop("min_trades"), "5")
        fields["symbol"] = opts.pop("symbol", None)
        if "symbols" in opts:
            raise bad(f"a walk-forward runs on one symbol: symbol=ALPHA. Usage: {usage}")
        fields["grid"] = {k: parse_range(k, v) for k, v in opts.items()}
    return parse(StartRun, fields), run_id


class ResearchCommands:
    """``/walkforward`` over the run commands (which run every kind of request)."""

    def __init__(self, runs: Any) -> None:
        self.runs = runs

    @command(
        "walkforward",
        usage=RESEARCH_USAGE["walkforward"],
        summary="Walk-forward optimization: choose params on each training window, trade them "
        "on the next test window only, stitch the test windows into one out-of-sample curve.",
        details="Windows roll forward by the test length (anchored=true: every training window "
        "starts at the first bar); train/test are bar counts (500) or durations (2y, 18m, 6m, "
        "4w, 90d). Each window's grid is swept on its training bars alone and the best "
        "`metric` (default sharpe; max_drawdown, cagr, sortino, ...) among combinations with "
        "at least `min_trades` trades (default 5) is traded on the test bars (a window with "
        "none stays in cash). Without ranges each number parameter goes from half to twice the "
        "strategy's value. The result has the window table, the stitched equity with buy & "
        "hold, and stats incl. walk-forward efficiency (OOS CAGR / mean in-sample CAGR) and how "
        "often the chosen params changed. Cancel keeps the finished windows. In Python: "
        "`client.walk_forward('sma_cross', 'ALPHA', train='2y', test='6m', fast=range(5, 50, "
        "5))`.",
        example="/walkforward sma_cross symbol=ALPHA train=2y test=6m fast=5:40:5 slow=20:200:20",
    )
    @translated
    async def walkforward(self, ctx: CommandContext) -> CommandReply:
        """``/walkforward``: walk-forward optimization."""
        resolve = self.runs.svc.resolve
        template = resolve.template_of(ctx.command.args[0]) if ctx.command.args else None
        req, run_id = research_request(ctx.command, ctx.session_id, template)
        prepared = self.runs.svc.prepare(req)
        text = ctx.command.text
        return await self.runs._execute(prepared, ctx.session_id, run_id, text, ctx.sender)
