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


def backtest_text(s: dict[str, Any]) -> str:
    who = f"{s['strategyId']} " if s.get("strategyId") else ""
    st = s.get("stats", {})
    head = f"**{s['runId']}** {who}`{s['template']}({_params(s['params'])})` on {s['symbol']}"
    line = " | ".join(f"{m} {fmt(m, st.get(m))}" for m in KEY_METRICS[:6] if m in st)
    return f"{head}\n\n{line}\n\nFetch it in Python: `client.results['{s['runId']}']`"


def comparison_text(s: dict[str, Any]) -> str:
    ids = s["strategies"]
    rows = ["| metric | " + " | ".join(ids) + " |", "|---" * (len(ids) + 1) + "|"]
    for m in KEY_METRICS:
        if m in s["table"]:
            vals = s["table"][m]
            rows.append(f"| {m} | " + " | ".join(fmt(m, vals.get(i)) for i in ids) + " |")
    return f"**{s['runId']}** comparison\n\n" + "\n".join(rows)


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
    return head + "\n\n" + "\n".join(rows)


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
        rows.append(
            f"| {s['id']} | {s['name']} | {s['template']} | {_params(s['params'])} | "
            f"{', '.join(s['symbols'])} | {dates} |"
        )
    return "\n".join(rows)


def data_text(items: list[dict[str, Any]]) -> str:
    rows = ["| symbol | start | end | bars | source |", "|---|---|---|---|---|"]
    for d in items:
        rows.append(
            f"| {d['symbol']} | {str(d['start'])[:10]} | {str(d['end'])[:10]} | "
            f"{d['bars']} | {d.get('source', '')} |"
        )
    return "\n".join(rows)


def templates_text(specs: list[dict[str, Any]]) -> str:
    lines = []
    for t in specs:
        ps = ", ".join(f"{p['name']}={p['default']}" for p in t["params"]) or "no params"
        lines.append(f"- `{t['name']}` ({ps}): {t['description']}")
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
