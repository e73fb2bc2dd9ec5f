"""Functions that run inside the worker pool (one call = one pool task; picklable, no networking).

Each takes plain data (the bars -- an ``engine.DataRef`` the worker reads itself, or a frame --,
a template name, params) and returns plain data: stats as JSON-able dicts and frames already
encoded as Arrow IPC bytes, so the event loop only forwards bytes. ``engine_seconds`` is the
time spent in the engine itself (the benchmark subtracts it). Long tasks report progress and
stop when cancelled through their :func:`.context.current` context.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chatops_widget._lazy import lazy_module
from chatops_widget._serialization import jsonable, stats_to_json, to_arrow_bytes

from .context import current

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")

#: Environment variable: MB of bars each process keeps in memory (default: the engine's 512).
CACHE_ENV = "CHATOPS_DATA_CACHE_MB"


def cache_bytes() -> int | None:
    """The frame-cache budget ``$CHATOPS_DATA_CACHE_MB`` asks for (``None``: the default)."""
    text = os.environ.get(CACHE_ENV, "").strip()
    try:
        return int(float(text) * 2**20) if text else None
    except ValueError:
        return None


def preload(*names: str) -> None:
    """Import the engine's simulator, stats and results (numpy, pandas, pyarrow), and the
    engine's ``names``: what a first backtest needs (the engine package imports its parts
    when first looked up)."""
    from chatops_widget import engine

    for name in ("backtest", "BacktestResult", "STATS", *names):
        getattr(engine, name)
    to_arrow_bytes(pd.DataFrame({"x": [0.0]}))  # pyarrow, and the IPC writer


def warmup() -> bool:
    """:func:`preload` (and the sweep) once per worker so the first job is fast, and size the
    worker's frame cache."""
    from chatops_widget import engine

    preload("sweep")
    budget = cache_bytes()
    if budget is not None:
        engine.ref_cache().budget = budget
    return True


def dask_setup(worker: Any) -> None:
    """Dask preload hook (``--preload chatops_widget.server.backtest.jobs.tasks``): warm up a
    Dask worker as it starts."""
    warmup()


def bars(data: Any) -> pd.DataFrame:
    """The bars a task names: an ``engine.DataRef`` is read here (cached per process)."""
    from chatops_widget import engine

    return data.load() if isinstance(data, engine.DataRef) else data


def _strategy(task: dict[str, Any]) -> Any:
    """The task's strategy: a template name, or a rule strategy parsed from its plain dict."""
    from chatops_widget import engine

    rule = task.get("rule")
    return engine.RuleStrategy.from_dict(rule) if rule else task["template"]


def backtest_task(task: dict[str, Any]) -> dict[str, Any]:
    """One backtest: ``task`` has ``data, template, params, cash, commission, spread`` and
    optionally ``rule`` (a rule strategy's dict) and ``orders`` (stops, sizing) (+ ``key``;
    ``encode=False`` keeps the frames as DataFrames, for a comparison to combine).

    Returns ``{"key", "stats", "params", "exits", "frames": {"equity", "trades"},
    "engine_seconds"}`` (``exits``: trades per exit reason).
    """
    from chatops_widget import engine

    t0 = time.perf_counter()
    res = engine.backtest(
        bars(task["data"]),
        _strategy(task),
        task.get("params") or {},
        cash=task.get("cash", engine.DEFAULT_CASH),
        commission=task.get("commission", 0.0),
        spread=task.get("spread", 0.0),
        **(task.get("orders") or {}),
    )
    elapsed = time.perf_counter() - t0
    return {
        "key": task.get("key"),
        # stats are floats; the summary also carries the run's first and last bar (from info)
        "stats": {**stats_to_json(res.stats), **stats_to_json(res.info[["start", "end"]])},
        "params": jsonable(dict(res.params)),
        # how the trades ended: signal, stop_loss, take_profit, trailing_stop, end
        "exits": {str(k): int(v) for k, v in res.trades["exit_reason"].value_counts().items()}
        if "exit_reason" in res.trades
        else {},
        "frames": (
            {"equity": to_arrow_bytes(res.equity), "trades": to_arrow_bytes(res.trades)}
            if task.get("encode", True)
            else {"equity": res.equity, "trades": res.trades}
        ),
        "engine_seconds": elapsed,
    }


def combine_comparison(
    parts: list[dict[str, Any]], symbols: Sequence[str | None] | None = None
) -> dict[str, Any]:
    """Side-by-side frames from several :func:`backtest_task` results (``encode=False``, keyed
    by strategy id; ``symbols`` in the same order), Arrow-encoded once.

    ``equity``: one column per strategy, outer-joined on time (forward-filled inside each
    curve's own range); ``table``: metrics x strategies; ``benchmark``: buy & hold per symbol;
    plus ``info``, ``warnings`` and ``common`` (:func:`..._facts.comparison_facts`).
    """
    from .._facts import comparison_facts

    facts = comparison_facts(parts, symbols)
    curves = {}
    for p in parts:
        curves[p["key"]] = p["frames"]["equity"]["equity"]
    equity = pd.DataFrame(curves)
    for col in equity.columns:
        s = curves[col]
        inside = (equity.index >= s.index[0]) & (equity.index <= s.index[-1])
        equity.loc[inside, col] = equity.loc[inside, col].ffill()
    equity.columns.name = "strategy"
    numeric = {
        p["key"]: {k: v for k, v in p["stats"].items() if v is None or isinstance(v, (int, float))}
        for p in parts
    }
    table = pd.DataFrame(numeric).apply(pd.to_numeric, errors="coerce").astype("float64")
    table.index.name = "metric"
    table.columns.name = "strategy"
    frames = {"equity": to_arrow_bytes(equity), "table": to_arrow_bytes(table)}
    frames["benchmark"] = to_arrow_bytes(facts.pop("benchmark"))
    return {
        "stats": {m: {k: jsonable(v) for k, v in row.items()} for m, row in table.iterrows()},
        "frames": frames,
        **jsonable(facts),
    }


def sweep_task(task: dict[str, Any]) -> pd.DataFrame:
    """One chunk of a sweep: ``engine.sweep(data, strategy, combos)`` on a list of param dicts
    (with the task's order settings), on one thread (the pool runs one task per core),
    reporting progress and stopping when its job is cancelled. With ``part`` (a file path) the
    rows are written there as Parquet and only their count comes back (the table streams to
    storage, not through the server)."""
    from chatops_widget import engine

    ctx = current()
    t0 = time.perf_counter()
    out = engine.sweep(
        bars(task["data"]),
        _strategy(task),
        task["combos"],
        cash=task.get("cash", engine.DEFAULT_CASH),
        commission=task.get("commission", 0.0),
        spread=task.get("spread", 0.0),
        split=task.get("split"),
        **(task.get("orders") or {}),
        progress=ctx.progress,
        cancel=ctx.cancelled,
        workers=1,
    )
    out.attrs["engine_seconds"] = time.perf_counter() - t0
    part = task.get("part")
    if part is None:
        return out
    path = Path(part)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    out.to_parquet(tmp, index=False)
    tmp.replace(path)
    head = out.iloc[:0].copy()  # the columns, no rows: the server reads only the attrs
    head.attrs.update({**out.attrs, "rows": len(out), "part": str(path)})
    return head


def _part_frames(parts: list[Any]) -> list[pd.DataFrame]:
    """The sweep chunks' rows: frames as they are, written parts read back from Parquet."""
    frames = []
    for f in parts:
        if f is None:
            continue
        if "part" in f.attrs:
            f = pd.read_parquet(f.attrs["part"])
        if len(f):
            frames.append(f)
    return frames


def combine_sweep(task: dict[str, Any]) -> dict[str, Any]:
    """Concatenate sweep chunks; rank by ``sort`` (descending); top ``top`` rows as JSON. The
    written parts (and their folder) are removed afterwards."""
    frames = _part_frames(task["parts"])
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    folders = {
        Path(f.attrs["part"]).parent for f in task["parts"] if f is not None and "part" in f.attrs
    }
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)
    sort = task.get("sort", "sharpe")
    if sort in table.columns:
        table = table.sort_values(sort, ascending=False, na_position="last", kind="stable")
        table = table.reset_index(drop=True)
    top = [
        {str(k): jsonable(v) for k, v in row.items()}
        for row in table.head(task.get("top", 50)).to_dict(orient="records")
    ]
    return {"rows": top, "count": len(table), "frames": {"table": to_arrow_bytes(table)}}
