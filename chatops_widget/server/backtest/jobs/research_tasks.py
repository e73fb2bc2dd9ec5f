"""Worker functions of the research runs (one call = one pool task; picklable, no networking).

- walk-forward: :func:`wf_window_task` sweeps one window's training bars and returns its
  :class:`~chatops_widget.engine.research.Choice`; :func:`wf_assemble_task` trades every choice
  on its test bars, stitches them and encodes the result;
- universe: :func:`universe_task` runs every strategy on a chunk of symbols;
  :func:`universe_combine_task` builds the long table and the ranking;
- portfolio: :func:`portfolio_task` runs the whole portfolio.

Frames go back as Arrow IPC bytes and stats as JSON, so the event loop only forwards bytes.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from chatops_widget._lazy import lazy_module
from chatops_widget._serialization import jsonable, stats_to_json, to_arrow_bytes

from .tasks import bars

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")

#: Stats shown per strategy in a universe's ranking (the full table has them all).
UNIVERSE_METRICS = ("sharpe", "total_return", "cagr", "max_drawdown", "sortino", "calmar",
                    "win_rate", "num_trades", "exposure", "profit_factor")  # fmt: skip


def _strategy(task: dict[str, Any]) -> Any:
    """The task's strategy: a template name, or a rule strategy from its plain dict."""
    from chatops_widget import engine

    rule = task.get("rule")
    return engine.RuleStrategy.from_dict(rule) if rule else engine.get_template(task["template"])


def _money(task: dict[str, Any]) -> dict[str, Any]:
    return {
        "cash": task["cash"],
        "commission": task.get("commission", 0.0),
        "spread": task.get("spread", 0.0),
        **(task.get("orders") or {}),
    }


def wf_window_task(task: dict[str, Any]) -> dict[str, Any]:
    """Sweep one window's training bars (``train``: positions) and choose by ``metric``."""
    from chatops_widget import engine
    from chatops_widget.engine import research

    t0 = time.perf_counter()
    tpl = _strategy(task)
    a, b = task["train"]
    table = engine.sweep(bars(task["data"]).iloc[a:b], tpl, task["combos"], **_money(task))
    choice = research.choose(table, tpl.param_names, task["metric"], task["min_trades"])
    return {"window": task["window"], "choice": choice, "seconds": time.perf_counter() - t0}


def wf_assemble_task(task: dict[str, Any]) -> dict[str, Any]:
    """Trade the windows' choices on their test bars; the stitched result, encoded."""
    from chatops_widget import engine
    from chatops_widget.engine import research

    t0 = time.perf_counter()
    tpl = _strategy(task)
    money = _money(task)
    cash, commission, spread = money.pop("cash"), money.pop("commission"), money.pop("spread")
    wf = research.assemble(
        bars(task["data"]), tpl, task["windows"], task["choices"], param_names=tpl.param_names,
        cash=cash, commission=commission, spread=spread,
        orders=engine.Orders.from_kwargs(**money), info=task["info"],
    )  # fmt: skip
    windows = wf.windows
    return {
        "stats": {**stats_to_json(wf.stats), **stats_to_json(wf.info[["start", "end"]])},
        "windows": [jsonable(r) for r in windows.to_dict("records")],
        "params": list(tpl.param_names),
        "frames": {
            "windows": to_arrow_bytes(windows),
            "equity": to_arrow_bytes(wf.equity),
            "trades": to_arrow_bytes(wf.trades),
        },
        "seconds": time.perf_counter() - t0,
    }


def universe_task(task: dict[str, Any]) -> dict[str, Any]:
    """Every strategy of ``specs`` on each symbol of ``frames``: their rows."""
    from chatops_widget import engine
    from chatops_widget.engine import research

    t0 = time.perf_counter()
    specs = research.strategy_specs(
        {label: (_strategy(s), s["params"]) for label, s in task["specs"].items()}
    )
    orders = engine.Orders.from_kwargs(**(task.get("orders") or {}))
    rows: list[dict[str, Any]] = []
    for sym, frame in task["frames"].items():  # the catalog's frames, validated already
        rows += research.universe_rows(bars(frame), sym, specs, task["cash"],
                                       task.get("commission", 0.0), task.get("spread", 0.0),
                                       orders)  # fmt: skip
    return {"rows": rows, "seconds": time.perf_counter() - t0}


def universe_combine_task(task: dict[str, Any]) -> dict[str, Any]:
    """The long table of all chunks' rows, its ranking by ``metric`` and the pivot."""
    from chatops_widget import engine
    from chatops_widget.engine import research

    rows = [r for part in task["parts"] for r in part["rows"]]
    table = research.universe_frame(rows)
    result = engine.UniverseResult(table)
    metric = task.get("metric", "sharpe")
    ranking = result.summary(metric).reset_index()
    best = table.loc[table[metric].idxmax()] if table[metric].notna().any() else None
    return {
        "ranking": [jsonable(r) for r in ranking.to_dict("records")],
        "pivot": jsonable(result.pivot(metric).to_dict("index")),
        "best": None
        if best is None
        else jsonable(
            {"strategy": best["strategy"], "symbol": best["symbol"], metric: best[metric]}
        ),
        "count": len(table),
        "skipped": int((table["note"] != "").sum()),
        "frames": {"table": to_arrow_bytes(table)},
    }


def portfolio_task(task: dict[str, Any]) -> dict[str, Any]:
    """One portfolio backtest: ``frames`` (symbol -> OHLCV), strategy, params, weights,
    rebalance, costs and orders; the result encoded."""
    from chatops_widget import engine

    t0 = time.perf_counter()
    frames = {sym: bars(f) for sym, f in task["frames"].items()}
    p = engine.backtest_portfolio(
        frames, _strategy(task), task.get("params") or {}, weights=task["weights"],
        rebalance=task["rebalance"], **_money(task),
    )  # fmt: skip
    frames = {
        "equity": p.equity,
        "sleeves": p.sleeves,
        "contributions": p.contributions,
        "positions": p.positions,
        "trades": p.trades,
        "rebalances": p.rebalances,
    }
    final = p.contributions.iloc[-1] if len(p.contributions) else pd.Series(dtype=float)
    return {
        "stats": {**stats_to_json(p.stats), **stats_to_json(p.info[["start", "end"]])},
        "params": jsonable(dict(p.info["params"][p.symbols[0]])),
        "weights": [float(w) for w in p.weights],
        "contributions": {str(k): jsonable(float(v)) for k, v in final.items()},
        "frames": {name: to_arrow_bytes(df) for name, df in frames.items()},
        "seconds": time.perf_counter() - t0,
    }
