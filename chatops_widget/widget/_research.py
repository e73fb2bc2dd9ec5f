"""What the panel gets of a research result (private helper of the widget's sync): a
walk-forward, a universe comparison or a portfolio as the ``{"type": "result", ...}`` custom
message -- tables as JSON rows, curves downsampled (the kernel keeps the full DataFrames).

- walk-forward: ``series`` (the stitched out-of-sample ``equity``, ``benchmark`` = buy & hold,
  ``drawdown``), ``windows`` (one row per window), ``paramSeries`` (each numeric chosen
  parameter per window, at its test start) and the stats;
- universe: ``rows`` (strategy, symbol, the panel's metrics, note) for the strategy x symbol
  heatmap and the table of means and ranks (computed in the front end for the chosen metric);
- portfolio: ``series`` (``equity``, ``benchmark``, ``drawdown``), ``contributions`` (each
  symbol's cumulative pnl on the same times), weights and the stats.

Example:
    >>> from chatops_widget.engine import catalog, walk_forward
    >>> wf = walk_forward(catalog.get("ALPHA"), "sma_cross", {"fast": [5, 10]}, train="3y",
    ...                   test="1y")
    >>> from chatops_widget.widget._sync import series_payload
    >>> msg = research_payload(wf, {"runId": "run_1"}, series_payload)
    >>> msg["kind"], len(msg["windows"]), sorted(msg["paramSeries"])
    ('walkforward', 7, ['fast', 'slow', 't'])
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from .._serialization import jsonable, stats_to_json

__all__ = ["CARD_STATS", "UNIVERSE_METRICS", "research_payload"]

#: The metrics a universe card can colour its heatmap by (the kernel keeps every stat).
UNIVERSE_METRICS = ("sharpe", "total_return", "cagr", "sortino", "calmar", "max_drawdown",
                    "volatility", "win_rate", "profit_factor", "num_trades")  # fmt: skip


Downsample = Callable[[pd.DataFrame, list[str]], dict[str, Any]]


def _series(down: Downsample, df: pd.DataFrame, columns: dict[str, str]) -> dict[str, Any]:
    have = {k: v for k, v in columns.items() if v in df.columns}
    out = down(df, list(have.values()))
    return {"t": out["t"], **{k: out[v] for k, v in have.items()}}


_CURVES = {"equity": "equity", "benchmark": "buy_hold", "drawdown": "drawdown"}
#: The stats each card lists, in order (the kernel's result has them all).
CARD_STATS = {
    "walkforward": ("total_return", "cagr", "sharpe", "max_drawdown", "num_trades",
                    "buy_hold_return", "wfe", "is_cagr", "windows", "flat_windows",
                    "param_changes", "param_change_rate"),
    "portfolio": ("total_return", "cagr", "sharpe", "max_drawdown", "num_trades", "exposure",
                  "buy_hold_return", "commissions_paid"),
}  # fmt: skip


def _card_stats(kind: str, stats: dict[str, Any]) -> dict[str, Any]:
    return {k: stats.get(k) for k in CARD_STATS[kind] if k in stats}


def _epoch(values: pd.Series) -> list[float]:
    idx = pd.DatetimeIndex(values)
    return (idx.values.astype("datetime64[ms]").astype(np.int64) / 1000.0).tolist()


def _walkforward(wf: Any, summary: dict[str, Any], down: Downsample) -> dict[str, Any]:
    w = wf.windows
    params = [p for p in wf.params if p in w.columns] or [
        c for c in w.columns if c in (summary.get("params") or [])
    ]
    numeric = [p for p in params if pd.api.types.is_numeric_dtype(w[p]) and w[p].dtype != bool]
    metric = str(wf.info.get("metric") or summary.get("metric") or "sharpe")
    cols = ["window", "train_start", "train_end", "test_start", "test_end", *params]
    cols += [f"is_{metric}", f"oos_{metric}", "is_return", "oos_return", "oos_trades", "note"]
    rows = [jsonable(r) for r in w[[c for c in cols if c in w.columns]].to_dict("records")]
    starts = _epoch(w["test_start"])
    return {
        "kind": "walkforward",
        "template": summary.get("template") or wf.strategy,
        "strategyId": summary.get("strategyId"),
        "symbol": summary.get("symbol") or wf.symbol,
        "params": params,
        "metric": metric,
        "train": str(wf.info.get("train")),
        "test": str(wf.info.get("test")),
        "anchored": bool(wf.info.get("anchored")),
        "minTrades": jsonable(wf.info.get("min_trades")),
        "partial": bool(wf.info.get("partial")),
        "stats": _card_stats("walkforward", stats_to_json(wf.stats)),
        "series": _series(down, wf.equity, _CURVES),
        "windows": rows,
        "paramSeries": {"t": starts, **{p: jsonable(w[p].tolist()) for p in numeric}},
    }


def _universe(u: Any, summary: dict[str, Any], down: Downsample) -> dict[str, Any]:
    t = u.table
    metrics = [m for m in UNIVERSE_METRICS if m in t.columns]
    rows = [jsonable(r) for r in t[["strategy", "symbol", "note", *metrics]].to_dict("records")]
    return {
        "kind": "universe",
        "strategies": u.strategies,
        "symbols": u.symbols,
        "metrics": metrics,
        "metric": summary.get("metric") or "sharpe",
        "rows": rows,
        "count": len(t),
    }


def _portfolio(p: Any, summary: dict[str, Any], down: Downsample) -> dict[str, Any]:
    eq = p.equity
    series = _series(down, eq, _CURVES)
    contrib = p.contributions
    picked = pd.DatetimeIndex(pd.to_datetime(series["t"], unit="s"))
    at = contrib.index.get_indexer(picked, method="nearest")  # the chart's (downsampled) times
    final = contrib.iloc[-1] if len(contrib) else pd.Series(dtype=float)
    trades = p.trades["symbol"].value_counts() if len(p.trades) else pd.Series(dtype=int)
    table = [
        {"symbol": s, "weight": float(p.weights.get(s, np.nan)), "pnl": jsonable(final.get(s)),
         "trades": int(trades.get(s, 0))}
        for s in p.symbols
    ]  # fmt: skip
    return {
        "kind": "portfolio",
        "template": summary.get("template") or p.strategy,
        "strategyId": summary.get("strategyId"),
        "symbols": p.symbols,
        "weights": [float(w) for w in p.weights],
        "rebalance": summary.get("rebalance") or str(p.info.get("rebalance")),
        "params": jsonable(summary.get("params") or {}),
        "stats": _card_stats("portfolio", jsonable(summary.get("stats") or stats_to_json(p.stats))),
        "series": series,
        "contributions": {s: jsonable(contrib[s].to_numpy()[at].tolist()) for s in p.symbols},
        "bySymbol": table,
    }


def research_payload(
    value: Any, summary: dict[str, Any] | None, downsample: Downsample
) -> dict[str, Any] | None:
    """The custom message for a research result, or ``None`` if ``value`` is not one;
    ``downsample(df, columns)`` is the panel's chart downsampling (``_sync.series_payload``)."""
    from .. import engine

    summary = dict(summary or {})
    kinds = {engine.WalkForwardResult: _walkforward, engine.UniverseResult: _universe,
             engine.PortfolioResult: _portfolio}  # fmt: skip
    build = next((fn for cls, fn in kinds.items() if isinstance(value, cls)), None)
    if build is None:
        return None
    body = build(value, summary, downsample)
    msg = {"type": "result", "runId": summary.get("runId"), **body}
    if "series" in body:
        msg["points"] = len(body["series"]["t"])
        msg["totalPoints"] = len(value.equity)
    return msg
