"""Markdown replies for the research runs (what the chat shows).

Example:
    >>> s = {"runId": "run_1", "strategies": ["a", "b"], "symbolCount": 2, "count": 4,
    ...      "metric": "sharpe", "skipped": 0, "best": {"strategy": "a", "symbol": "X",
    ...      "sharpe": 1.5}, "ranking": [{"strategy": "a", "mean": 1.0, "median": 1.0,
    ...      "mean_rank": 1.0, "wins": 2, "symbols": 2}]}
    >>> print(universe_text(s).splitlines()[0])
    **run_1** 2 strategies x 2 symbols (4 backtests), ranked by mean rank of sharpe:
"""

from __future__ import annotations

from typing import Any

from .._format import fmt

__all__ = ["portfolio_text", "universe_text", "walkforward_text"]

_KEYS = ("total_return", "cagr", "sharpe", "max_drawdown", "num_trades")
_ROWS = 10  # windows shown in the reply (the result has all)


def _stat(column: str) -> str:
    """The stat a window column is formatted as (``oos_return`` is a total return)."""
    return "total_return" if column.endswith("_return") else column.removeprefix("is_")


def _line(stats: dict[str, Any]) -> str:
    return " | ".join(f"{k} {fmt(k, stats.get(k))}" for k in _KEYS)


def walkforward_text(s: dict[str, Any]) -> str:
    """The reply to a walk-forward: windows, the stitched out-of-sample stats, WFE, a table."""
    st = s.get("stats", {})
    mode = "anchored" if s.get("anchored") else "rolling"
    n = s.get("windowCount", len(s.get("windows", [])))
    who = f"{s['strategyId']} " if s.get("strategyId") else ""
    head = (
        f"**{s['runId']}** walk-forward of {who}`{s['template']}` on {s['symbol']}: {n} windows "
        f"(train {s['train']}, test {s['test']}, {mode}), each choosing the best {s['metric']} "
        f"with >= {s['minTrades']} trades on its training bars only."
    )
    if s.get("grid"):
        how = " (no ranges given: half to twice each value)" if s.get("defaultGrid") else ""
        head += f" Grid: `{s['grid']}`{how}."
    if s.get("partial"):
        head += f" Cancelled: {s.get('windowsDone')} of {s.get('windowsTotal')} windows finished."
    wfe = st.get("wfe")
    changes = st.get("param_changes")
    body = (
        f"Out of sample, stitched ({str(st.get('start', ''))[:10]}..{str(st.get('end', ''))[:10]}"
        f"): {_line(st)}; buy & hold {fmt('buy_hold_return', st.get('buy_hold_return'))}.\n\n"
        f"Walk-forward efficiency {fmt('sharpe', wfe)} (out-of-sample CAGR / mean in-sample "
        f"CAGR {fmt('cagr', st.get('is_cagr'))}); the chosen params changed "
        f"{fmt('num_trades', changes)} times in {max(n - 1, 0)} steps"
        f"{'; ' + fmt('num_trades', st.get('flat_windows')) + ' window(s) in cash' if st.get('flat_windows') else ''}."  # noqa: E501
    )
    params = list(s.get("params") or [])
    metric = s["metric"]
    cols = ["window", "test_start", *params, f"is_{metric}", f"oos_{metric}", "oos_return"]
    rows = ["| " + " | ".join(cols) + " |", "|---" * len(cols) + "|"]
    for w in s.get("windows", [])[:_ROWS]:
        cells = [str(w.get("window")), str(w.get("test_start", ""))[:10]]
        cells += [fmt(p, w.get(p)) if w.get(p) is not None else "cash" for p in params]
        cells += [fmt(_stat(c), w.get(c)) for c in cols[2 + len(params) :]]
        rows.append("| " + " | ".join(cells) + " |")
    more = f"\n\n({n - _ROWS} more windows in the result)" if n > _ROWS else ""
    tail = f"\n\nFetch it in Python: `client.results['{s['runId']}']` (.windows, .equity, .stats)"
    return f"{head}\n\n{body}\n\n" + "\n".join(rows) + more + tail


def universe_text(s: dict[str, Any]) -> str:
    """The reply to a universe comparison: the ranking by mean rank, the best pair."""
    metric = s.get("metric", "sharpe")
    head = (
        f"**{s['runId']}** {len(s['strategies'])} strategies x {s['symbolCount']} symbols "
        f"({s['count']} backtests), ranked by mean rank of {metric}:"
    )
    cols = ["strategy", f"mean {metric}", "median", "mean rank", "wins", "symbols"]
    rows = ["| " + " | ".join(cols) + " |", "|---" * len(cols) + "|"]
    for r in s.get("ranking", []):
        rank = r.get("mean_rank")
        rows.append(
            f"| {r['strategy']} | {fmt(metric, r.get('mean'))} | {fmt(metric, r.get('median'))}"
            f" | {'n/a' if rank is None else f'{rank:.2f}'} | {r.get('wins', 0)} | "
            f"{r.get('symbols', 0)} |"
        )
    best = s.get("best")
    tail = ""
    if best:
        tail += f"\n\nBest pair: {best['strategy']} on {best['symbol']} ({metric} "
        tail += f"{fmt(metric, best.get(metric))})."
    if s.get("skipped"):
        tail += f" {s['skipped']} pair(s) skipped: not enough bars (see the table's note)."
    tail += f"\n\nFetch it in Python: `client.results['{s['runId']}'].pivot('{metric}')`"
    return head + "\n\n" + "\n".join(rows) + tail


def portfolio_text(s: dict[str, Any]) -> str:
    """The reply to a portfolio backtest: settings, the whole's stats, pnl by symbol."""
    weights = ", ".join(
        f"{sym} {w * 100:.1f} %" for sym, w in zip(s["symbols"], s["weights"], strict=False)
    )
    params = ", ".join(f"{k}={v}" for k, v in (s.get("params") or {}).items())
    who = f"{s['strategyId']} " if s.get("strategyId") else ""
    head = (
        f"**{s['runId']}** portfolio of {who}`{s['template']}({params})` on "
        f"{len(s['symbols'])} symbols from one pool of cash (weights {weights}; rebalance "
        f"{s['rebalance']})"
    )
    st = s.get("stats", {})
    pnl = ", ".join(f"{k} {fmt('final_equity', v)}" for k, v in s.get("contributions", {}).items())
    return (
        f"{head}\n\n{_line(st)}; buy & hold at the same weights "
        f"{fmt('buy_hold_return', st.get('buy_hold_return'))}\n\npnl by symbol: {pnl}\n\n"
        f"Fetch it in Python: `client.results['{s['runId']}']` (.equity, .sleeves, .trades)"
    )
