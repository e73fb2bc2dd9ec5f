"""Markdown replies for the backtest commands (what the chat panel shows)."""

from __future__ import annotations

from typing import Any

from chatops_widget import engine

KEY_METRICS = [
    "total_return",
    "cagr",
    "sharpe",
    "sortino",
    "max_drawdown",
    "win_rate",
    "num_trades",
    "exposure",
    "profit_factor",
]


def fmt(metric: str, value: Any) -> str:
    """One stat, readable, by its unit in the engine's registry (``engine.format_stat``).

    >>> fmt("total_return", 0.0314), fmt("num_trades", 12), fmt("sharpe", None)
    ('3.14 %', '12', 'n/a')
    """
    if value is None:
        return "n/a"
    return engine.format_stat(metric, value)


def _params(params: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in params.items())


def python_hint(run_id: str) -> str:
    """The line that says how to get a run's DataFrames in Python. Neutral: the reader may
    have a panel (``w``), a client, or another name; the panel rewrites it with its own name.

    >>> python_hint("run_1")
    "In Python: `results['run_1']` (`w.results[...]` on a panel `w`, `client.results[...]` on a ChatOpsClient)"
    """  # noqa: E501
    return (
        f"In Python: `results['{run_id}']` (`w.results[...]` on a panel `w`, "
        "`client.results[...]` on a ChatOpsClient)"
    )


def period(stats: dict[str, Any]) -> str:
    """``2015-01-02..2024-12-31, 2,608 bars`` from a run's stats ("" without dates).

    >>> period({"start": "2015-01-02T00:00:00", "end": "2024-12-31T00:00:00", "bars": 2608.0})
    '2015-01-02..2024-12-31, 2,608 bars'
    """
    if not stats.get("start") or not stats.get("end"):
        return ""
    bars = f", {fmt('bars', stats['bars'])} bars" if stats.get("bars") is not None else ""
    return f"{str(stats['start'])[:10]}..{str(stats['end'])[:10]}{bars}"


def costs_line(st: dict[str, Any]) -> str:
    """The cost rates as given and the amounts they cost, labelled with units.

    >>> costs_line({"commission": 0.0005, "spread": 0.0002, "cash": 1e6,
    ...             "commissions_paid": 1234.5, "spread_paid": 456.0})
    'costs: commission 0.05 % of notional per fill, spread 0.02 % of price per entry; paid 1,234.50 in commissions + 456.00 in spread = 0.17 % of the starting cash (1,000,000.00)'
    >>> costs_line({"commission": 0.0, "spread": 0.0})
    'costs: none (commission 0 %, spread 0 %)'
    """  # noqa: E501
    rate, spread = st.get("commission") or 0.0, st.get("spread") or 0.0
    if not rate and not spread:
        return "costs: none (commission 0 %, spread 0 %)"
    paid = (st.get("commissions_paid") or 0.0) + (st.get("spread_paid") or 0.0)
    text = (
        f"costs: commission {fmt('commission', rate)} of notional per fill, spread "
        f"{fmt('spread', spread)} of price per entry; paid "
        f"{fmt('commissions_paid', st.get('commissions_paid') or 0.0)} in commissions + "
        f"{fmt('spread_paid', st.get('spread_paid') or 0.0)} in spread"
    )
    if st.get("cash"):
        share = fmt("total_return", paid / st["cash"])
        text += f" = {share} of the starting cash ({fmt('cash', st['cash'])})"
    return text


def backtest_text(s: dict[str, Any]) -> str:
    who = f"{s['strategyId']} " if s.get("strategyId") else ""
    st = s.get("stats", {})
    head = f"**{s['runId']}** {who}`{s['template']}({_params(s['params'])})` on {s['symbol']}"
    when = period(st)
    head += f", {when}" if when else ""
    line = " | ".join(f"{m} {fmt(m, st.get(m))}" for m in KEY_METRICS[:6] if m in st)
    line += strategy_lines(s)
    return f"{head}\n\n{line}\n\n{costs_line(st)}\n\n{python_hint(s['runId'])}"


#: the facts rows of a comparison table, from ``summary["info"]``
_FACTS = ("symbol", "start", "end", "bars", "frequency")
_COSTS = ("commission", "spread", "commissions_paid", "spread_paid")


def comparison_text(s: dict[str, Any]) -> str:
    ids = s["strategies"]
    info = s.get("info") or {}
    rows = ["| metric | " + " | ".join(ids) + " |", "|---" * (len(ids) + 1) + "|"]
    for f in _FACTS if info else ():
        vals = [info.get(i, {}).get(f) for i in ids]
        rows.append(f"| {f} | " + " | ".join("–" if v is None else fmt(f, v) for v in vals) + " |")
    for m in (*KEY_METRICS, *_COSTS):
        if m in s["table"]:
            vals = s["table"][m]
            rows.append(f"| {m} | " + " | ".join(fmt(m, vals.get(i)) for i in ids) + " |")
    warn = "".join(f"\n\n**Warning:** {w}" for w in s.get("warnings") or [])
    tail = f"\n\n{python_hint(s['runId'])}"
    return f"**{s['runId']}** comparison{warn}\n\n" + "\n".join(rows) + tail


def sweep_text(s: dict[str, Any], top: int = 5) -> str:
    params = s["params"]
    metrics = ["sharpe", "total_return", "max_drawdown", "num_trades"]
    if s.get("split"):  # in-sample next to out-of-sample
        metrics = ["sharpe", "oos_sharpe", "total_return", "oos_total_return", "num_trades"]
    cols = params + metrics
    rows = ["| " + " | ".join(cols) + " |", "|---" * len(cols) + "|"]
    for r in s["rows"][:top]:
        rows.append("| " + " | ".join(fmt(c, r.get(c)) for c in cols) + " |")
    skipped = f", {s['skipped']} skipped as invalid" if s.get("skipped") else ""
    head = (
        f"**{s['runId']}** sweep of `{s['template']}` on {s['symbol']}: {s['count']} "
        f"combinations{skipped}; best by sharpe:"
    )
    if s.get("split"):
        ins, oos = s.get("inSample") or ["?", "?"], s.get("outOfSample") or ["?", "?"]
        head = head.replace("best by sharpe:", "best by in-sample sharpe.") + (
            f" In sample {ins[0]}..{ins[1]}; out of sample (`oos_`) {oos[0]}..{oos[1]}, "
            "each backtested on its own:"
        )
    return head + "\n\n" + "\n".join(rows) + f"\n\n{python_hint(s['runId'])}"


def status_text(runs: list[dict[str, Any]]) -> str:
    if not runs:
        return "No runs in this session yet. Try `/run_backtest strategy_1`."
    rows = ["| run | kind | status | progress | what | by |", "|---|---|---|---|---|---|"]
    for r in runs:
        what = r.get("label") or r.get("strategyId") or ""
        rows.append(
            f"| {r['runId']} | {r['kind']} | {r['status']} | {r.get('progress', 0):.0f}% | {what} "
            f"| {r.get('startedBy') or ''} |"
        )
    return "\n".join(rows)


def strategies_text(items: list[dict[str, Any]]) -> str:
    rows = ["| id | name | template | params | symbol | dates |", "|---|---|---|---|---|---|"]
    for s in items:
        dates = f"{s.get('start') or '…'} to {s.get('end') or '…'}"
        what = f"rule: {rule_text(s['rule'])}" if s.get("rule") else s["template"]
        params = _params(s["params"]) + orders_suffix(s.get("orders") or {}, "; ")
        rows.append(
            f"| {s['id']} | {s['name']} | {what.replace('|', '/')} | {params} | "
            f"{', '.join(s['symbols']) or 'any (symbol= per run)'} | {dates} |"
        )
    return "\n".join(rows)


def rule_text(rule: dict[str, Any]) -> str:
    """A rule strategy's rules in one line.

    >>> rule_text({"entry": "rsi(14) < 30", "exit": "rsi(14) > 70"})
    'enter when `rsi(14) < 30`, exit when `rsi(14) > 70`'
    """
    parts = [f"enter when `{rule['entry']}`", f"exit when `{rule['exit']}`"]
    if rule.get("short_entry"):
        parts += [f"short when `{rule['short_entry']}`", f"cover when `{rule['short_exit']}`"]
    if rule.get("where"):
        parts.append(f"where `{rule['where']}`")
    return ", ".join(parts)


def orders_suffix(orders: dict[str, Any], sep: str = "; ") -> str:
    """Order settings as text after a strategy (``""`` without any).

    >>> orders_suffix({"stop_loss": 0.05, "trailing_atr": [14, 3.0], "whole_units": True})
    '; stop_loss 5.00 %, trailing stop 3 x atr(14), whole units'
    """
    parts = []
    for key, value in orders.items():
        if key == "trailing_atr":
            parts.append(f"trailing stop {value[1]:g} x atr({value[0]})")
        elif key == "whole_units":
            parts.append("whole units" if value else "")
        elif key == "units":
            parts.append(f"units {value:g}")
        else:
            parts.append(f"{key} {fmt('total_return', value)}")  # a fraction, as percent
    parts = [p for p in parts if p]
    return sep + ", ".join(parts) if parts else ""


def strategy_lines(s: dict[str, Any]) -> str:
    r"""A run summary's rules, orders and exit reasons, as lines after its stats ("" if none).

    >>> strategy_lines({"rule": {"entry": "close > sma(50)", "exit": "close < sma(50)"},
    ...                 "orders": {"stop_loss": 0.05}, "exits": {"signal": 3, "stop_loss": 1}})
    '\n\nrule: enter when `close > sma(50)`, exit when `close < sma(50)`\n\norders: stop_loss 5.00 %\n\nexits: signal 3, stop_loss 1'
    """  # noqa: E501
    out = ""
    if s.get("rule"):
        out += f"\n\nrule: {rule_text(s['rule'])}"
    if s.get("orders"):
        out += f"\n\norders: {orders_suffix(s['orders'], '')}"
    if s.get("exits"):
        out += "\n\nexits: " + ", ".join(f"{k} {v}" for k, v in s["exits"].items())
    return out


def data_text(items: list[dict[str, Any]]) -> str:
    rows = ["| symbol | start | end | bars | source |", "|---|---|---|---|---|"]
    for d in items:
        rows.append(
            f"| {d['symbol']} | {str(d['start'])[:10]} | {str(d['end'])[:10]} | "
            f"{d['bars']} | {d.get('source', '')} |"
        )
    return "\n".join(rows)


def templates_text(specs: list[dict[str, Any]], functions: list[str] | None = None) -> str:
    lines = []
    for t in specs:
        ps = ", ".join(f"{p['name']}={p['default']}" for p in t["params"]) or "no params"
        rule = f" As rules: {rule_text(t['rule'])}." if t.get("rule") else ""
        lines.append(f"- `{t['name']}` ({ps}): {t['description'].rstrip('.')}.{rule}")
    if functions:
        lines.append(
            '\nOr write your own rules: `/create_strategy name=dip entry="rsi(14) < 30" '
            'exit="rsi(14) > 70" stop_loss=5%`. Functions: '
            + ", ".join(f"`{f}`" for f in functions)
            + "; fields `open high low close volume`, lookback `close[1]`, `$params` (sweepable)."
        )
    return "\n".join(lines)


def hosted_line(h: dict[str, Any]) -> str:
    """One hosted strategy, as listed in the chat.

    >>> hosted_line({"name": "my_mom", "params": [{"name": "lookback", "default": 60}],
    ...              "hostedBy": "alice's notebook", "version": "v2", "online": False,
    ...              "private": True})
    "my_mom(lookback=60) -- hosted by alice's notebook, v2, private, not connected"
    """
    ps = ", ".join(f"{p['name']}={p['default']}" for p in h.get("params", []))
    bits = [f"hosted by {h['hostedBy']}", h.get("version", "")]
    bits += ["private"] if h.get("private") else []
    bits.append("connected" if h.get("online") else "not connected")
    return f"{h['name']}({ps}) -- " + ", ".join(b for b in bits if b)


def hosted_text(items: list[dict[str, Any]]) -> str:
    """The hosted strategies under ``/strategies`` (empty when there are none)."""
    if not items:
        return ""
    lines = ["**Python strategies** (they run in their owner's notebook; `/run_backtest <name>`)"]
    lines += [f"- `{hosted_line(h)}`" + (f": {h['description']}" if h.get("description") else "")
              for h in items]  # fmt: skip
    return "\n".join(lines)
