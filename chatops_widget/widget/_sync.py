"""What the chat panel's kernel side sends to the front end (private helpers of the widget).

- :func:`downsample_indices`: <= ``max_points`` rows of a long series that keep its shape
  (min/max bucketing: per bucket the first row and each column's minimum and maximum);
- :func:`result_payload`: a decoded result (as ``client.results`` holds it) -> the
  ``{"type": "result", ...}`` custom message (stats or tables as JSON, curves downsampled);
- :func:`history_chunks`: the one-time history, split into bounded custom messages;
- :func:`parse_csv_upload` / :func:`upload_notice`: uploads from the panel, validated
  (strategies made in the panel: :mod:`._strategies`).

Example:
    >>> import numpy as np
    >>> idx = downsample_indices([np.sin(np.linspace(0, 50, 100_000))], max_points=1000)
    >>> len(idx) <= 1000, int(idx[0]), int(idx[-1])
    (True, 0, 99999)
"""

from __future__ import annotations

import io
import math
import os
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._serialization import stats_to_json
from ._light import (  # noqa: F401  (history_chunks: the widget's, through this module too)
    MAX_PANEL_UPLOAD_BYTES,
    PANEL_PART_BYTES,
    first_constants,
    history_chunks,
    jsonable,
)
from ._research import research_payload

MAX_POINTS = 1000
_OHLCV = ("open", "high", "low", "close", "volume")


def downsample_indices(columns: Sequence[np.ndarray], max_points: int = MAX_POINTS) -> np.ndarray:
    """Sorted row indices (first and last included) that keep every column's extremes."""
    n = len(columns[0]) if columns else 0
    if n <= max_points:
        return np.arange(n)
    per_bucket = 1 + 2 * len(columns)
    buckets = max(1, (max_points - 2) // per_bucket)
    edges = np.linspace(0, n, buckets + 1).astype(np.int64)
    picked = [np.array([0, n - 1]), edges[:-1]]
    # every bucket as a row of one padded matrix: its min and max in one call, not a loop
    lo, sizes = edges[:-1], np.diff(edges)
    at = lo[:, None] + np.arange(max(int(sizes.max()), 1))[None, :]
    inside = at < edges[1:, None]
    at = np.minimum(at, n - 1)
    rows = np.flatnonzero(sizes > 0)
    for col in columns:
        values = np.asarray(col, dtype=float)
        values = np.where(
            np.isnan(values), np.nanmean(values) if np.isfinite(values).any() else 0, values
        )
        grid = values[at]
        low = np.where(inside, grid, np.inf).argmin(axis=1)  # first of equal values, as before
        high = np.where(inside, grid, -np.inf).argmax(axis=1)
        picked += [(lo + low)[rows], (lo + high)[rows]]
    idx = np.unique(np.concatenate(picked))
    if len(idx) > max_points:  # cannot happen with the bucket count above; keep the promise
        idx = idx[np.linspace(0, len(idx) - 1, max_points).astype(np.int64)]
    return idx


def _json_floats(values: np.ndarray) -> list[float | None]:
    """Finite values rounded to 7 significant digits (plenty for a chart), NaN/inf -> None.

    Vectorized (the same values as ``float(f"{v:.7g}")``, ~10x faster on a chart's 1,000
    points): scaled by an exact power of ten, rounded, scaled back.

    >>> _json_floats(np.array([1234567.891, -0.000123456789, 0.0, np.nan, np.inf]))
    [1234568.0, -0.0001234568, 0.0, None, None]
    """
    a = np.asarray(values, dtype=float)
    finite = np.isfinite(a)
    scaled = finite & (a != 0)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        e = 6.0 - np.floor(np.log10(np.where(scaled, np.abs(a), 1.0)))
        up = np.where(e >= 0, 10.0 ** np.abs(e), 1.0)  # 10**e and 10**-e are exact, 10**-k not
        down = np.where(e < 0, 10.0 ** np.abs(e), 1.0)
        rounded = np.where(scaled, np.round(a * up / down) * down / up, a)
    out: list[float | None] = rounded.tolist()
    for i in np.flatnonzero(scaled & (np.abs(e) > 300)).tolist():  # 10**e would overflow
        out[i] = float(f"{a[i]:.7g}")
    if not finite.all():
        for i in np.flatnonzero(~finite).tolist():
            out[i] = None
    return out


def _epoch_seconds(index: pd.Index) -> list[float]:
    if isinstance(index, pd.DatetimeIndex):
        ns = index.tz_convert("UTC").tz_localize(None) if index.tz is not None else index
        return (ns.values.astype("datetime64[ms]").astype(np.int64) / 1000.0).tolist()
    return np.arange(len(index), dtype=float).tolist()


def series_payload(df: pd.DataFrame, columns: Sequence[str], max_points: int = MAX_POINTS) -> dict:
    """``{"t": [epoch s], col: [...]}`` for ``columns`` of ``df``, downsampled together."""
    arrays = [df[c].to_numpy(dtype=float) for c in columns]
    idx = downsample_indices(arrays, max_points)
    seconds = _epoch_seconds(df.index)  # once: converting per point made this O(n * points)
    out: dict[str, Any] = {"t": [seconds[i] for i in idx]}
    for c, a in zip(columns, arrays, strict=True):
        out[str(c)] = _json_floats(a[idx])
    return out


#: Equity-frame columns taken as the buy-and-hold benchmark of a backtest (first found).
BENCHMARK_COLUMNS = ("benchmark", "buy_and_hold", "buy_hold")
#: The most trades marked on a chart (evenly spaced beyond that; the kernel keeps them all).
MAX_MARKERS = 400


def _side(direction: Any) -> int:
    """A trade's direction as +1 (long) or -1 (short): from "long"/"short" or a signed number."""
    if isinstance(direction, str):
        return -1 if direction.strip().lower() == "short" else 1
    return -1 if direction is not None and float(direction) < 0 else 1


def trade_markers(trades: pd.DataFrame, max_markers: int = MAX_MARKERS) -> dict[str, Any]:
    """Entries and exits for the equity chart: ``{"entry", "exit" (epoch s), "direction",
    "pnl", "total"}``, at most ``max_markers`` trades, evenly spaced.

    >>> t = pd.DataFrame({"entry_time": pd.to_datetime(["2020-01-02", "2020-02-03"]),
    ...                   "exit_time": pd.to_datetime(["2020-01-10", "2020-02-20"]),
    ...                   "direction": ["long", "short"], "pnl": [120.5, -30.0]})
    >>> m = trade_markers(t)
    >>> m["entry"][0], m["direction"], m["pnl"], m["total"]
    (1577923200.0, [1, -1], [120.5, -30.0], 2)
    """
    need = {"entry_time", "exit_time"}
    if not need <= set(trades.columns) or not len(trades):
        return {"entry": [], "exit": [], "direction": [], "pnl": [], "total": 0}
    idx = np.arange(len(trades))
    if len(idx) > max_markers:
        idx = np.unique(np.linspace(0, len(trades) - 1, max_markers).astype(np.int64))
    # column by column (a row selection of the whole frame costs more than all of this)
    direction = trades["direction"].to_numpy()[idx] if "direction" in trades.columns else None
    pnl = trades["pnl"].to_numpy(dtype=float)[idx] if "pnl" in trades.columns else None
    return {
        "entry": _epoch_seconds(pd.DatetimeIndex(trades["entry_time"].to_numpy()[idx])),
        "exit": _epoch_seconds(pd.DatetimeIndex(trades["exit_time"].to_numpy()[idx])),
        "direction": [1] * len(idx) if direction is None else [_side(d) for d in direction],
        "pnl": _json_floats(np.full(len(idx), np.nan) if pnl is None else pnl),
        "total": len(trades),
    }


#: The most trades the panel's trades table lists (the last ones; the kernel keeps them all).
MAX_TRADE_ROWS = 50
_TRADE_COLUMNS = ("entry_time", "exit_time", "direction", "entry_price", "exit_price",
                  "return", "pnl", "bars_held", "exit_reason")  # fmt: skip


def trade_rows(trades: pd.DataFrame, limit: int = MAX_TRADE_ROWS) -> dict[str, Any]:
    """The last ``limit`` trades for the panel's trades table: ``{"columns", "rows", "total"}``
    (times as ISO text, numbers as JSON; ``exit_reason`` says how each trade ended).

    >>> t = pd.DataFrame({"entry_time": pd.to_datetime(["2020-01-02"]),
    ...                   "exit_time": pd.to_datetime(["2020-01-10"]), "direction": ["long"],
    ...                   "pnl": [120.5], "exit_reason": ["stop_loss"]})
    >>> trade_rows(t)["rows"]
    [['2020-01-02', '2020-01-10', 'long', 120.5, 'stop_loss']]
    """
    cols = [c for c in _TRADE_COLUMNS if c in trades.columns]
    last = trades.tail(limit)
    columns = [_cells(last[c]) for c in cols]  # a column at a time: ~2x faster than by row
    rows = [list(r) for r in zip(*columns, strict=True)] if cols else [[] for _ in range(len(last))]
    return {"columns": cols, "rows": rows, "total": len(trades)}


def _cells(column: pd.Series) -> list[Any]:
    """One trades-table column as JSON values: times as ISO text (a date alone at midnight),
    numbers and NaT with NaN/inf/NaT as None."""
    kind = column.dtype
    if pd.api.types.is_float_dtype(kind):
        return [v if math.isfinite(v) else None for v in column.to_numpy(dtype=float).tolist()]
    if pd.api.types.is_integer_dtype(kind) or pd.api.types.is_bool_dtype(kind):
        return column.tolist()
    if isinstance(kind, np.dtype) and kind.kind == "M":  # tz-naive: formatted by numpy
        return _iso_times(column.to_numpy())
    if pd.api.types.is_datetime64_any_dtype(kind):
        midnight = (column == column.dt.normalize()).tolist()
        return [None if v is pd.NaT else f"{v:%Y-%m-%d}" if day else v.isoformat()
                for v, day in zip(column.tolist(), midnight, strict=True)]  # fmt: skip
    out = []
    for v in column.tolist():  # strings, objects (mixed, Timestamps in an object column)
        if isinstance(v, str):
            out.append(v)
            continue
        if isinstance(v, pd.Timestamp):
            v = str(v.date()) if v == v.normalize() else v.isoformat()
        out.append(jsonable(v))
    return out


def _iso_times(v: np.ndarray) -> list[str | None]:
    """datetime64 values as ``Timestamp.isoformat()`` text (a date alone at midnight), NaT
    as None, without a Timestamp per value.

    >>> _iso_times(np.array(["2020-01-02", "2020-01-02T09:30", "NaT"], dtype="datetime64[us]"))
    ['2020-01-02', '2020-01-02T09:30:00', None]
    """
    nat = np.isnat(v)
    day = v.astype("datetime64[D]")
    whole = v.astype("datetime64[s]")
    text = np.where(
        day == v, np.datetime_as_string(day), np.datetime_as_string(whole, unit="s")
    ).tolist()
    for i in np.flatnonzero(~nat & (whole != v)).tolist():  # sub-second: pandas' own text
        text[i] = pd.Timestamp(v[i]).isoformat()
    for i in np.flatnonzero(nat).tolist():
        text[i] = None
    return text


def frontend_constants() -> dict[str, Any]:
    """The widget's ``constants`` traitlet: the protocol's constants for the front end (run
    statuses, result kinds, error codes, limits; :func:`chatops_widget.protocol.frontend_constants`)
    and the engine's stat metadata (``engine.STATS``: label, unit, description and formula of
    each stat; which are fractions shown as percent), the rule language (functions and fields,
    for autocomplete) and default cash, so the JS keeps no copies of any of them.

    >>> c = frontend_constants()
    >>> c["terminalStatuses"], c["defaultCash"]
    (['cancelled', 'completed', 'failed'], 1000000.0)
    >>> "total_return" in c["percentStats"], "sharpe" in c["percentStats"]
    (True, False)
    >>> sorted(c["ruleLanguage"]), c["stats"][0]["formula"]
    (['fields', 'functions', 'limits', 'operators'], 'final_equity / cash - 1')
    """
    from .. import engine
    from ..engine import rules

    stats = [{"name": s.name, "label": s.label, "unit": s.unit, "description": s.description,
              "formula": s.formula, "group": s.group, "higherIsBetter": s.higher_is_better}
             for s in engine.STATS]  # fmt: skip
    return {
        **first_constants(),  # with the panel's upload limits (._upload_parts)
        "ruleLanguage": rules.language(),
        "stats": stats,
        "percentStats": [s["name"] for s in stats if s["unit"] == "fraction"],
        "defaultCash": float(engine.DEFAULT_CASH),
    }


#: The fewest trades a sweep combination needs to count as a heatmap cell's best by default (a
#: one-trade "best" is luck, not an edge); the panel shows it and lets the user change it.
SWEEP_MIN_TRADES = 5


def sweep_cells(
    table: pd.DataFrame, params: list[str], metric: str, min_trades: int = SWEEP_MIN_TRADES
) -> list[dict]:
    """One row per (first, second) parameter pair: the best ``metric`` over the other parameters,
    among the combinations with at least ``min_trades`` trades when the cell has any.

    >>> t = pd.DataFrame({"fast": [5, 5, 10], "slow": [20, 20, 20], "stop": [1, 2, 1],
    ...                   "sharpe": [2.0, 1.0, 0.5], "num_trades": [1, 30, 12]})
    >>> cells = sweep_cells(t, ["fast", "slow", "stop"], "sharpe")
    >>> [(r["fast"], r["stop"], r["num_trades"]) for r in cells]
    [(5, 2, 30), (10, 1, 12)]
    """
    keep = [p for p in params[:2] if p in table.columns]
    if not keep or metric not in table.columns:
        return []
    ranked = table.sort_values(metric, ascending=False, kind="stable")
    if "num_trades" in ranked.columns:  # enough trades first, then the best of the rest
        enough = ranked["num_trades"].fillna(0) >= min_trades
        ranked = pd.concat([ranked[enough], ranked[~enough]])
    best = ranked.drop_duplicates(keep)
    stats = [metric, f"oos_{metric}", "total_return", "oos_total_return", "max_drawdown",
             "num_trades", "oos_num_trades"]  # fmt: skip
    cols = list(dict.fromkeys([*params, *stats]))
    best = best[[c for c in cols if c in best.columns]]
    return [jsonable(r) for r in best.to_dict("records")]


def result_payload(value: Any, summary: dict[str, Any] | None = None) -> dict[str, Any]:
    """The ``{"type": "result", ...}`` custom message for a decoded result, as
    ``client.results`` holds it: a ``BacktestResult``, a ``Comparison`` (``.stats`` metrics x
    strategies, ``.equity``) or a sweep table; ``summary`` is the run's ``commandResult``
    summary (what the server said, at full precision)."""
    summary = dict(summary or {})
    research = research_payload(value, summary, series_payload)  # walk-forward, universe, ...
    if research is not None:
        return research
    msg: dict[str, Any] = {"type": "result", "runId": summary.get("runId")}
    equity: pd.DataFrame | None = None
    if isinstance(value, pd.DataFrame):  # a sweep table
        params = list(summary.get("params") or [])
        metric = "sharpe"
        rows = sweep_cells(value, params, metric) if len(value) else []
        msg.update(kind="sweep", template=summary.get("template"), symbol=summary.get("symbol"),
                   params=params, rows=jsonable(rows or summary.get("rows") or []),
                   count=summary.get("count", len(value)), metric=metric,
                   split=summary.get("split"), minTrades=SWEEP_MIN_TRADES,
                   orders=jsonable(summary.get("orders") or {}))  # fmt: skip
    elif hasattr(value, "trades"):  # engine.BacktestResult
        equity = value.equity
        msg.update(
            kind="backtest",
            strategyId=summary.get("strategyId"),
            template=summary.get("template") or value.strategy,
            symbol=summary.get("symbol") or value.symbol,
            params=jsonable(summary.get("params") or dict(value.params)),
            stats=jsonable(summary.get("stats") or stats_to_json(value.stats)),
            tradeRows=trade_rows(value.trades),
        )
        for key in ("rule", "orders", "exits"):  # a rule strategy's rules, stops, exit reasons
            if summary.get(key):
                msg[key] = jsonable(summary[key])
        if "equity" in equity.columns:
            extra = [c for c in ("drawdown", "position", *BENCHMARK_COLUMNS) if c in equity.columns]
            msg["series"] = series_payload(equity, ["equity", *extra])
            for name in BENCHMARK_COLUMNS:  # a buy-and-hold line, when the result has one
                if name in msg["series"]:
                    msg["series"]["benchmark"] = msg["series"].pop(name)
            msg["trades"] = trade_markers(value.trades)
            if "drawdown" not in equity.columns:
                eq = msg["series"]["equity"]
                peak = np.maximum.accumulate(np.array(eq, dtype=float))
                msg["series"]["drawdown"] = _json_floats(np.array(eq) / peak - 1)
    else:  # a Comparison
        equity = value.equity
        table = summary.get("table") or {
            m: {k: jsonable(v) for k, v in row.items()} for m, row in value.stats.iterrows()
        }
        names = [str(c) for c in equity.columns]
        msg.update(kind="comparison", strategies=summary.get("strategies") or names,
                   table=jsonable(table), info=jsonable(summary.get("info")),
                   warnings=list(summary.get("warnings") or []),
                   common=summary.get("common"))  # fmt: skip
        if len(equity.columns):
            msg["series"] = comparison_series(equity, getattr(value, "benchmark", None))
            both = value.rebased() if hasattr(value, "rebased") else pd.DataFrame()
            if len(both):  # the common period, every curve from 100 (as cmp.rebased())
                curves = both[list(equity.columns)]
                bench = both.drop(columns=list(equity.columns))
                bench.columns = [str(c).removeprefix("buy & hold ") for c in bench.columns]
                msg["rebased"] = comparison_series(curves, bench)
    if equity is not None and "series" in msg:
        msg["points"] = len(msg["series"]["t"])
        msg["totalPoints"] = len(equity)
    return msg


def comparison_series(equity: pd.DataFrame, benchmark: pd.DataFrame | None) -> dict[str, Any]:
    """``{"t", "curves": {strategy: [...]}, "benchmark": {symbol: [...]}}``, downsampled
    together on the union of their times."""
    frame = equity
    bench = list(benchmark.columns) if benchmark is not None else []
    if benchmark is not None and bench:
        frame = equity.join(benchmark.add_prefix("\0"), how="outer")  # no clash with a strategy
    s = series_payload(frame, list(frame.columns))
    t = s.pop("t")
    return {"t": t, "curves": {c: s.pop(str(c)) for c in map(str, equity.columns)},
            "benchmark": {str(c): s.pop(f"\0{c}") for c in bench}}  # fmt: skip


def parse_csv_upload(name: str, content: str | os.PathLike[str]) -> tuple[str, pd.DataFrame]:
    """A CSV of OHLCV bars (its text, or a file holding it) -> (symbol from the file name,
    DataFrame on a DatetimeIndex)."""
    symbol = re.sub(r"[^A-Za-z0-9_.-]", "_", name.rsplit("/", 1)[-1].rsplit(".", 1)[0]).upper()
    if not symbol:
        raise ValueError(
            f"{name}: cannot derive a symbol from the file name; name it e.g. GOOG.csv"
        )
    try:
        source = io.StringIO(content) if isinstance(content, str) else content
        df = pd.read_csv(source, index_col=0, parse_dates=True)
    except Exception as exc:
        raise ValueError(f"{name}: not a readable CSV ({exc})") from None
    missing = [c for c in _OHLCV if c not in {str(x).lower() for x in df.columns}]
    if missing:
        raise ValueError(
            f"{name}: missing column(s) {', '.join(missing)}; expected a date column first, then "
            f"Open, High, Low, Close, Volume (got {', '.join(map(str, df.columns)) or 'none'})"
        )
    if not isinstance(df.index, pd.DatetimeIndex):
        raise ValueError(f"{name}: the first column must hold dates, e.g. 2020-01-02")
    if len(df) < 2:
        raise ValueError(f"{name}: needs at least two rows of bars, got {len(df)}")
    return symbol, df


def upload_notice(name: str, ack: dict[str, Any]) -> str:
    """The panel's line for a stored upload (an ``uploadData`` ack)."""
    sym = ack.get("symbol")
    return (
        f"uploaded {name}: {ack.get('bars')} bars as symbol {sym} "
        f"({ack.get('start')}..{ack.get('end')}); try /run_backtest sma_cross symbol={sym}"
    )
