"""Walk-forward test periods: each window's chosen parameters traded on its test bars only, and
the windows chained into one out-of-sample equity curve.

A window's test run sees the bars from its training start to its test end, so indicators are
warmed up on history (bars before the test period, never after a bar's own close); every
position before the test period is forced flat. The run starts flat with the equity the
previous window ended with, at the close of the last training bar; at the first test bar's open
it takes the position the chosen parameters hold at that close, and a position still open at
the last test bar is closed at its close (as any backtest ends). So every trade lies inside one
window, the windows' returns compound exactly to the stitched curve, and a position that would
have continued across a boundary pays one extra round trip.

Example:
    >>> from chatops_widget.engine import catalog, walk_forward
    >>> wf = walk_forward(catalog.get("ALPHA"), "sma_cross", {"fast": [5, 10], "slow": [30, 60]},
    ...                   train="2y", test="1y")
    >>> growth = (1 + wf.windows["oos_return"]).prod()
    >>> bool(abs(growth - wf.equity["equity"].iloc[-1] / wf.equity["equity"].iloc[0]) < 1e-9)
    True
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd

from ._events import simulate_orders
from ._metrics import STAT_NAMES, STATS
from ._orders import Orders
from ._sim import Bars, Sim, Trades, trade_table
from ._simulate import simulate
from ._stats import column_stats, spread_paid
from ._templates import Combo, StrategyBase
from ._windows import Window

__all__ = ["WindowRun", "run_window", "stitch_runs"]


@dataclasses.dataclass
class WindowRun:
    """One window's test period: its bars (the last training bar first, as the starting
    point), the simulation and its stats (every stat of :data:`STAT_NAMES`)."""

    window: Window
    bars: Bars
    sim: Sim
    cash: float
    stats: dict[str, float]


def _empty_trades() -> Trades:
    i = np.zeros(0, dtype=np.int64)
    f = np.zeros(0, dtype=np.float64)
    b = np.zeros(0, dtype=np.int8)
    return Trades(i, i, i, b, f, f, f, f, f, f, b)


def _shift(t: Trades, by: int) -> Trades:
    return dataclasses.replace(t, entry_bar=t.entry_bar + by, exit_bar=t.exit_bar + by)


def run_window(
    frame: pd.DataFrame,
    tpl: StrategyBase,
    w: Window,
    params: Combo | None,
    cash: float,
    commission: float,
    spread: float,
    orders: Orders,
) -> WindowRun:
    """Trade ``params`` on ``w``'s test bars starting with ``cash`` (flat if ``params`` is
    ``None``: no combination qualified); see the module docstring."""
    off = w.test_start - 1 - w.train_start  # the last training bar, in the history's positions
    hist = Bars.from_frame(frame.iloc[w.train_start : w.test_end])
    span = Bars.from_frame(frame.iloc[w.test_start - 1 : w.test_end])
    m = span.n
    if params is None:
        sim = Sim(np.full((1, m), cash), np.zeros((1, m), dtype=np.int8), _empty_trades())
    else:
        pos, entries = tpl.positions(hist, [params])
        pos = pos.copy()
        pos[:, :off] = 0  # nothing is held before the test period
        if entries is not None:
            entries = entries.copy()
            entries[:, :off] = False
        if orders.vectorized:
            full = simulate(hist, pos, cash, commission, spread, orders.weight)
        else:
            full = simulate_orders(hist, pos, entries, cash, commission, spread, orders)
        returns = None if full.returns is None else full.returns[:, off:]
        sim = Sim(full.equity[:, off:], full.held[:, off:], _shift(full.trades, -off), returns)
    stats = column_stats(span, sim, cash)
    return WindowRun(w, span, sim, cash, {k: float(v[0]) for k, v in stats.items()})


def _concat_bars(runs: list[WindowRun]) -> Bars:
    """The bars of all test periods in a row (each run after the first without its starting
    bar, which is the previous run's last)."""
    parts = [r.bars for r in runs]

    def join(name: str) -> Any:
        return np.concatenate([getattr(parts[0], name)] + [getattr(p, name)[1:] for p in parts[1:]])

    index = parts[0].index.append([p.index[1:] for p in parts[1:]])
    fields = {f: join(f) for f in ("open", "high", "low", "close", "volume")}
    return Bars(pd.DatetimeIndex(index), **fields)


def stitch_runs(
    runs: list[WindowRun], cash: float, commission: float, spread: float
) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    """The stitched out-of-sample ``equity`` frame (``equity, returns, drawdown, position,
    buy_hold, window``), all ``trades`` (with their ``window``) and the stats of the stitched
    curve (a float Series over :data:`STATS`)."""
    bars = _concat_bars(runs)
    eq = [runs[0].sim.equity[0]] + [r.sim.equity[0, 1:] for r in runs[1:]]
    held = [runs[0].sim.held[0]] + [r.sim.held[0, 1:] for r in runs[1:]]
    window = [np.full(runs[0].bars.n, runs[0].window.number)]
    window[0][0] = 0  # the starting point, before the first test bar
    window += [np.full(r.bars.n - 1, r.window.number) for r in runs[1:]]
    trades, starts, at = [], [], 0
    for r in runs:
        trades.append(_shift(r.sim.trades, at))
        starts.append(at)
        at += r.bars.n - 1
    all_trades = Trades.concat(trades)
    equity = np.concatenate(eq)[None, :]
    sim = Sim(equity, np.concatenate(held)[None, :], all_trades)
    st = column_stats(bars, sim, cash)
    values = {name: float(st[name][0]) for name in STAT_NAMES}
    values.update(bars=bars.n, cash=cash, commission=commission, spread=spread,
                  spread_paid=spread_paid(sim, spread))  # fmt: skip
    stats = pd.Series({s.name: values[s.name] for s in STATS}, dtype="float64", name="stats")
    e = equity[0]
    prev = np.concatenate(([cash], e[:-1]))
    peak = np.maximum(np.maximum.accumulate(e), cash)
    frame = pd.DataFrame(
        {
            "equity": e,
            "returns": e / prev - 1.0,
            "drawdown": e / peak - 1.0,
            "position": sim.held[0],
            "buy_hold": cash * bars.close / bars.close[0],
            "window": np.concatenate(window).astype(np.int64),
        },
        index=bars.index,
    )
    table = trade_table(bars, sim, 0)
    number = np.zeros(len(table), dtype=np.int64)
    for r, s in zip(runs, starts, strict=True):
        inside = (table["entry_bar"] >= s) & (table["entry_bar"] < s + r.bars.n)
        number[inside.to_numpy()] = r.window.number
    table.insert(0, "window", number)
    return frame, table, stats
