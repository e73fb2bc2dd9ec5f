"""Results made elsewhere -- backtesting.py, vectorbt, or any equity curve with its trades --
as the engine's :class:`BacktestResult`, with the engine's own stats computed from them.

:func:`as_result` takes our ``BacktestResult`` (as it is), a backtesting.py stats Series (the
object ``Backtest.run()`` returns, with its ``_equity_curve`` and ``_trades``) or a
single-column vectorbt ``Portfolio``; objects are recognised by their attributes, so neither
library is imported here. :func:`result_from_frames` does the work: the equity curve, the
trades in our columns and (optionally) the closes of the traded symbol become the engine's
equity frame, trades table and every stat of :data:`STATS` by the engine's formulas
(:mod:`._stats`) -- so a published result compares with ours on the same definitions.

What cannot be known is left out, never guessed: without closes ``buy_hold_return``,
``alpha`` and ``beta`` are NaN; ``commission`` and ``spread`` (the run's settings) are NaN
unless given; a backtesting.py trade still open at the end is not in its ``_trades`` (run it
with ``finalize_trades=True``), which ``info["open_at_end"]`` says.

Example:
    >>> import pandas as pd
    >>> idx = pd.date_range("2024-01-01", periods=4)
    >>> eq = pd.Series([100.0, 100.0, 110.0, 121.0], index=idx)
    >>> trades = pd.DataFrame({"entry_bar": [1], "exit_bar": [3], "size": [1.0],
    ...                        "entry_price": [100.0], "exit_price": [121.0], "pnl": [21.0],
    ...                        "commission": [0.0]})
    >>> r = result_from_frames(eq, trades, name="mine", source="my notebook")
    >>> round(float(r.stats["total_return"]), 2), int(r.stats["num_trades"]), r.info["source"]
    (0.21, 1, 'my notebook')
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ._errors import EngineError
from ._metrics import STAT_NAMES, STATS
from ._result import BacktestResult
from ._sim import END, REASONS, SIGNAL, Bars, Sim, Trades, trade_table
from ._stats import column_stats, spread_paid
from ._types import FloatArray

__all__ = ["as_result", "from_backtesting", "from_vectorbt", "result_from_frames"]

_TRADE_NEEDS = ("entry_bar", "exit_bar", "size", "entry_price", "exit_price", "pnl")


def result_from_frames(
    equity: pd.Series | pd.DataFrame,
    trades: pd.DataFrame | None = None,
    *,
    close: pd.Series | None = None,
    cash: float | None = None,
    held: pd.Series | None = None,
    name: str = "external",
    params: dict[str, Any] | None = None,
    symbol: str | None = None,
    commission: float | None = None,
    spread: float | None = None,
    source: str = "external",
    info: dict[str, Any] | None = None,
) -> BacktestResult:
    """A :class:`BacktestResult` from an equity curve and its trades (see the module docstring).

    ``equity``: a Series (or a frame with an ``equity`` column) on a sorted DatetimeIndex;
    ``trades``: ``entry_bar, exit_bar`` (positions in that index), ``size`` (signed units),
    ``entry_price, exit_price, pnl`` and optionally ``commission``, ``exit_reason``;
    ``held``: the position held during each bar, in [-1, 1] (default: the direction of the
    trades); ``cash``: the
    starting equity (default: the first value).
    """
    if isinstance(equity, pd.DataFrame):
        if "equity" not in equity.columns:
            raise EngineError(
                f"{name}: the equity frame needs an 'equity' column, got {list(equity.columns)[:8]}"
            )
        equity = equity["equity"]
    if not isinstance(equity, pd.Series) or not isinstance(equity.index, pd.DatetimeIndex):
        raise EngineError(f"{name}: the equity curve must be a Series on a DatetimeIndex")
    eq = equity.to_numpy(dtype=np.float64)
    n = len(eq)
    if n < 2 or not np.isfinite(eq).all() or not equity.index.is_monotonic_increasing:
        raise EngineError(f"{name}: the equity curve needs 2 or more finite values in time order")
    cash = float(eq[0] if cash is None else cash)
    if not np.isfinite(cash) or cash <= 0:
        raise EngineError(f"{name}: the starting equity must be positive, got {cash}")
    t = _trades(trades if trades is not None else pd.DataFrame(columns=list(_TRADE_NEEDS)), n, name)
    known_close = close is not None
    if known_close:
        assert close is not None
        px: FloatArray = np.asarray(
            close.reindex(equity.index).astype("float64").ffill().bfill(), dtype=np.float64
        )
        if not np.isfinite(px).all() or (px <= 0).any():
            raise EngineError(f"{name}: the closes must be positive numbers on the equity's index")
    else:
        px = np.ones(n, dtype=np.float64)
    bars = Bars(pd.DatetimeIndex(equity.index), px, px, px, px, np.zeros(n))
    if held is not None:
        h = held.reindex(equity.index).fillna(0.0).to_numpy(dtype=np.float64)
        if not np.isfinite(h).all() or (np.abs(h) > 1.0).any():
            raise EngineError(f"{name}: the position held must be in [-1, 1] on every bar")
    else:
        h = np.zeros(n)
        for e, x, d, why in zip(t.entry_bar, t.exit_bar, t.direction, t.reason, strict=True):
            h[e : (x + 1 if why == END else max(x, e + 1))] = d
    sim = Sim(eq[None, :], h[None, :], t)
    st = column_stats(bars, sim, cash)
    values = {k: float(st[k][0]) for k in STAT_NAMES}
    if not known_close:
        values.update(buy_hold_return=np.nan, alpha=np.nan, beta=np.nan)
    values.update(
        bars=n,
        cash=cash,
        commission=np.nan if commission is None else commission,
        spread=np.nan if spread is None else spread,
        spread_paid=np.nan if spread is None else spread_paid(sim, spread),
    )
    stats = pd.Series({s.name: values[s.name] for s in STATS}, dtype="float64", name="stats")
    prev = np.concatenate(([cash], eq[:-1]))
    frame = pd.DataFrame(
        {
            "equity": eq,
            "returns": eq / prev - 1.0,
            "drawdown": eq / np.maximum(np.maximum.accumulate(eq), cash) - 1.0,
            "position": h,
            # buy & hold of the same cash, as backtest() has it (unknown without the closes)
            "benchmark": cash * px / px[0] if known_close else np.full(n, np.nan),
        },
        index=equity.index,
    )
    facts = {
        "strategy": name,
        "symbol": symbol,
        "start": equity.index[0],
        "end": equity.index[-1],
        "source": source,
        **(info or {}),
    }
    return BacktestResult(
        name,
        dict(params or {}),
        frame,
        trade_table(bars, sim, 0),
        stats,
        symbol,
        pd.Series(facts, dtype=object, name="info"),
    )


def _trades(df: pd.DataFrame, n: int, name: str) -> Trades:
    missing = [c for c in _TRADE_NEEDS if c not in df.columns]
    if missing:
        raise EngineError(f"{name}: the trades need column(s) {', '.join(missing)}")
    e = df["entry_bar"].to_numpy(dtype=np.int64)
    x = df["exit_bar"].to_numpy(dtype=np.int64)
    if len(e) and ((e < 0) | (x < e) | (x >= n)).any():
        raise EngineError(f"{name}: a trade's entry_bar/exit_bar is outside the {n} bars")
    size = df["size"].to_numpy(dtype=np.float64)
    entry = df["entry_price"].to_numpy(dtype=np.float64)
    exit_ = df["exit_price"].to_numpy(dtype=np.float64)
    fee = (
        df["commission"].to_numpy(dtype=np.float64)
        if "commission" in df.columns
        else np.zeros(len(df))
    )
    why = df["exit_reason"] if "exit_reason" in df.columns else pd.Series(["signal"] * len(df))
    codes = np.array([REASONS.index(r) if r in REASONS else SIGNAL for r in why], dtype=np.int8)
    order = np.argsort(e, kind="stable")
    return Trades(
        np.zeros(len(e), np.int64)[order],
        e[order],
        x[order],
        np.sign(size).astype(np.int8)[order],
        entry[order],
        exit_[order],
        size[order],
        (np.abs(size) * entry)[order],
        df["pnl"].to_numpy(dtype=np.float64)[order],
        fee[order],
        codes[order],
    )


def from_backtesting(stats: Any, name: str | None = None) -> BacktestResult:
    """A backtesting.py ``Backtest.run()`` result (its ``_equity_curve``, ``_trades``)."""
    curve, raw = stats["_equity_curve"], stats["_trades"]
    strategy = stats.get("_strategy") if hasattr(stats, "get") else None
    data = getattr(getattr(strategy, "_data", None), "df", None)
    close = data["Close"] if isinstance(data, pd.DataFrame) and "Close" in data else None
    n = len(curve)
    sl = raw["SL"] if "SL" in raw.columns else pd.Series([None] * len(raw))
    tp = raw["TP"] if "TP" in raw.columns else pd.Series([None] * len(raw))
    reasons = [
        "stop_loss"
        if s is not None and s == s and np.isclose(p, s)
        else "take_profit"
        if t is not None and t == t and np.isclose(p, t)
        else "signal"
        for p, s, t in zip(raw["ExitPrice"], sl, tp, strict=True)
    ]
    trades = pd.DataFrame(
        {
            "entry_bar": raw["EntryBar"].astype("int64"),
            "exit_bar": raw["ExitBar"].astype("int64"),
            "size": raw["Size"].astype("float64"),
            "entry_price": raw["EntryPrice"],
            "exit_price": raw["ExitPrice"],
            "pnl": raw["PnL"],
            "commission": raw["Commission"] if "Commission" in raw.columns else 0.0,
            "exit_reason": reasons,
        }
    )
    equity = curve["Equity"].astype("float64")
    open_pnl = float(equity.iloc[-1] - equity.iloc[0] - trades["pnl"].sum())
    label = name or (type(strategy).__name__ if strategy is not None else "backtesting.py")
    params = dict(getattr(strategy, "_params", {}) or {})
    facts = {"open_at_end": bool(abs(open_pnl) > 1e-6 * max(1.0, abs(equity.iloc[0])))}
    out = result_from_frames(
        equity,
        trades,
        close=close,
        name=str(label),
        params=params,
        source="backtesting.py",
        info=facts,
    )
    assert len(out.equity) == n
    return out


def from_vectorbt(pf: Any, name: str | None = None) -> BacktestResult:
    """A single-column vectorbt ``Portfolio`` (``value()``, ``close``, ``positions``)."""
    value = pf.value()
    if isinstance(value, pd.DataFrame):
        if value.shape[1] != 1:
            raise EngineError(
                f"the vectorbt Portfolio has {value.shape[1]} columns; publish "
                "one at a time, e.g. pf[column] (or pf.iloc[:, i])"
            )
        value = value.iloc[:, 0]
    close = pf.close
    close = close.iloc[:, 0] if isinstance(close, pd.DataFrame) else close
    idx = value.index
    rec = pf.positions.records_readable
    short = rec["Direction"].astype(str).str.lower().eq("short").to_numpy()
    closed = rec["Status"].astype(str).str.lower().eq("closed").to_numpy()
    trades = pd.DataFrame(
        {
            "entry_bar": idx.get_indexer(pd.DatetimeIndex(rec["Entry Timestamp"])),
            "exit_bar": idx.get_indexer(pd.DatetimeIndex(rec["Exit Timestamp"])),
            "size": np.where(short, -1.0, 1.0) * rec["Size"].to_numpy(dtype=np.float64),
            "entry_price": rec["Avg Entry Price"],
            "exit_price": rec["Avg Exit Price"],
            "pnl": rec["PnL"],
            "commission": rec["Entry Fees"] + rec["Exit Fees"],
            "exit_reason": np.where(closed, "signal", "end"),
        }
    )
    assets = pf.assets()
    assets = assets.iloc[:, 0] if isinstance(assets, pd.DataFrame) else assets
    init = pf.init_cash
    cash = float(init.iloc[0] if isinstance(init, pd.Series) else init)
    return result_from_frames(
        value.astype("float64"),
        trades,
        close=close,
        cash=cash,
        held=np.sign(assets),
        name=name or "vectorbt",
        source="vectorbt",
    )


def as_result(obj: Any, name: str | None = None) -> BacktestResult:
    """Our :class:`BacktestResult`, a backtesting.py stats Series or a vectorbt Portfolio as
    a :class:`BacktestResult` (see the module docstring); ``TypeError`` for anything else."""
    if isinstance(obj, BacktestResult):
        return obj
    if isinstance(obj, pd.Series) and "_equity_curve" in obj.index and "_trades" in obj.index:
        return from_backtesting(obj, name)
    if all(hasattr(obj, a) for a in ("value", "positions", "init_cash", "close")):
        return from_vectorbt(obj, name)
    raise TypeError(
        f"cannot publish a {type(obj).__name__}: give an engine BacktestResult, the stats "
        "Series backtesting.py's Backtest.run() returns, or a single-column vectorbt Portfolio"
    )
