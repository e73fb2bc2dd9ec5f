"""The all-in long/flat path computed per trade (engine/_simulate.py, _drawdown.py, _highs.py,
_crossover.py) against the per-bar definitions it replaces: the same equity, running-peak mask,
drawdown periods, return sums and fills as the (k, n) matrices give them."""

from __future__ import annotations

from unittest import mock

import numpy as np
import pytest

from chatops_widget.engine import _backtest
from chatops_widget.engine._backtest import chunk_stats, prepare, run_sim
from chatops_widget.engine._crossover import cross_fills
from chatops_widget.engine._drawdown import drawdown_periods, prev_greater, range_max
from chatops_widget.engine._grid import expand_grid
from chatops_widget.engine._highs import next_at_least
from chatops_widget.engine._orders import Orders
from chatops_widget.engine._sim import Sim, Summary
from chatops_widget.engine._simulate import simulate, simulate_fills, simulate_long, summarize_long
from chatops_widget.engine._stats import _sums, column_stats
from chatops_widget.engine._types import nonzero_2d

from .conftest import make_ohlcv


def _per_trade(bars, pos, cash, commission, spread=0.0):
    """The per-trade long path (what a sweep's chunks take)."""
    held = np.zeros_like(pos)
    held[:, 1:] = pos[:, :-1]
    fc, ft = nonzero_2d(held[:, 1:] != held[:, :-1])
    ft += 1
    return simulate_long(bars, held, fc, ft, held[fc, ft], cash, commission, spread)


def _bars_and_positions(walk, grid):
    tpl, bars, _ = prepare(walk, "sma_cross")
    combos, _ = expand_grid(tpl, grid, bars.n)
    tpl.precompute(bars, combos)
    return tpl, bars, combos, tpl.positions(bars, combos)[0]


@pytest.mark.parametrize("commission, spread", [(0.0, 0.0), (0.001, 0.0), (0.002, 0.0005)])
def test_per_trade_sums_and_peak_mask_equal_the_matrix_definitions(walk, commission, spread):
    grid = {"fast": [2, 3, 5, 8], "slow": [4, 9, 20, 40]}
    _, bars, combos, pos = _bars_and_positions(walk, grid)
    sim = _per_trade(bars, pos, 1e6, commission, spread)
    assert sim.sums is not None and sim.below is not None
    eq = sim.equity
    assert (eq[:, 0] == 1e6).all() and (eq > 0).all()
    peak = np.maximum.accumulate(eq, axis=1)
    np.testing.assert_array_equal(sim.below, eq < peak)
    # the equity of a held bar is units * close; a still-open trade pays the closing commission
    assert len(sim.trades) > 4 * len(combos)
    plain = _sums(bars, Sim(eq, sim.held, sim.trades), 1e6)
    for name, value in sim.sums.items():
        np.testing.assert_allclose(value, plain[name], rtol=1e-9, atol=1e-12, err_msg=name)
    # per-bar returns re-derived from the equity, the way the matrix path does it
    ret = np.diff(eq, axis=1, prepend=1e6) / np.concatenate(
        [np.full((len(eq), 1), 1e6), eq[:, :-1]], axis=1
    )
    np.testing.assert_allclose(sim.sums["r"], ret.sum(axis=1), rtol=1e-9, atol=1e-12)


def test_trades_open_at_the_end_and_entered_on_the_last_bar():
    # down, a jump (entries), a dip (exits for the fast pairs), a jump on the last bars
    close = np.r_[np.linspace(20, 10, 30), 30, 31, 32, 15, 16, 40, 41]
    grid = {"fast": [2, 3], "slow": [3, 4, 5, 8]}
    _, bars, _, pos = _bars_and_positions(make_ohlcv(close), grid)
    last = bars.n - 1
    for c in (0.0, 0.003):
        sim = _per_trade(bars, pos, 1e4, c)
        t = sim.trades
        still_open = t.reason == 4
        assert (t.entry_bar[still_open] == last).any()  # entered on the last bar's open
        assert (t.entry_bar[still_open] < last).any()  # held into the last bar
        assert (~still_open).any()
        eq = sim.equity
        np.testing.assert_array_equal(sim.below, eq < np.maximum.accumulate(eq, axis=1))
        plain = _sums(bars, Sim(eq, sim.held, sim.trades), 1e4)
        for name, value in sim.sums.items():
            np.testing.assert_allclose(value, plain[name], rtol=1e-9, atol=1e-12, err_msg=name)
        np.testing.assert_allclose(t.pnl.sum(), eq[:, -1].sum() - 1e4 * len(eq), rtol=1e-12)


def test_fills_from_the_crossings_equal_the_fills_of_the_positions(walk):
    grid = {"fast": [2, 3, 7], "slow": [5, 10, 30]}
    tpl, bars, combos, pos = _bars_and_positions(walk, grid)
    held = np.zeros_like(pos)
    held[:, 1:] = pos[:, :-1]
    fc, ft = nonzero_2d(held[:, 1:] != held[:, :-1])
    row, bar, new = tpl.fills(bars, combos)
    np.testing.assert_array_equal(row, fc)
    np.testing.assert_array_equal(bar, ft + 1)
    np.testing.assert_array_equal(new, held[fc, ft + 1])
    a = _per_trade(bars, pos, 1e6, 0.001)
    b = simulate_fills(bars, len(combos), row, bar, new, 1e6, 0.001)
    np.testing.assert_array_equal(a.equity, b.equity)
    np.testing.assert_array_equal(a.held, b.held)
    np.testing.assert_array_equal(a.trades.pnl, b.trades.pnl)


def test_touching_averages_and_short_rows_fall_back_to_positions():
    fast = np.array([[1.0, 2.0, 3.0, 3.0, 2.0]])
    slow = np.array([[np.nan, 1.5, 3.0, 2.5, 2.5]])  # equal on bar 2: a touch
    assert cross_fills(fast, slow, np.array([1])) is None
    tpl, bars, combos, _ = _bars_and_positions(
        make_ohlcv(np.linspace(10, 20, 40)), {"fast": [2], "slow": [5], "short": [True]}
    )
    assert tpl.fills(bars, combos) is None


def test_previous_greater_and_range_max_by_brute_force():
    rng = np.random.default_rng(3)
    for n in (1, 2, 5, 64, 333):
        x = rng.integers(0, 9, n).astype(float)  # many ties: strictly greater only
        want = [max((s for s in range(t) if x[s] > x[t]), default=-1) for t in range(n)]
        np.testing.assert_array_equal(prev_greater(x), want)
        lo, hi = rng.integers(0, n, 50), rng.integers(0, n + 1, 50)
        want = [x[a:b].max() if b > a else -np.inf for a, b in zip(lo, hi, strict=True)]
        np.testing.assert_array_equal(range_max(x, lo, hi), want)


def test_the_per_bar_and_per_trade_paths_agree_and_rows_do_not_depend_on_chunks(walk):
    grid = {"fast": [2, 3, 5, 8], "slow": [4, 9, 20, 40]}
    _, bars, _, pos = _bars_and_positions(walk, grid)
    bar = simulate(bars, pos, 1e6, 0.001, 0.0005)  # one backtest's path
    assert bar.sums is None and bar.returns is not None
    trade = simulate(bars, pos, 1e6, 0.001, 0.0005, per_trade=True)  # a sweep chunk's
    assert trade.sums is not None and trade.returns is None
    np.testing.assert_allclose(trade.equity, bar.equity, rtol=1e-12)
    np.testing.assert_array_equal(trade.held, bar.held)
    one_by_one = [
        simulate(bars, pos[i : i + 1], 1e6, 0.001, 0.0005, per_trade=True) for i in range(len(pos))
    ]
    np.testing.assert_array_equal(np.vstack([s.equity for s in one_by_one]), trade.equity)
    for name, value in trade.sums.items():
        np.testing.assert_array_equal(np.concatenate([s.sums[name] for s in one_by_one]), value)


@pytest.mark.parametrize("commission, spread", [(0.0, 0.0), (0.001, 0.0), (0.002, 0.0005)])
def test_drawdown_periods_found_from_the_trades_equal_the_matrix_definition(
    walk, commission, spread
):
    grid = {"fast": [2, 3, 5, 8, 13], "slow": [4, 9, 20, 40, 60]}
    tpl, bars, combos, _ = _bars_and_positions(walk, grid)
    row, bar, new = tpl.fills(bars, combos)
    dense = simulate_fills(bars, len(combos), row, bar, new, 1e6, commission, spread)
    summary = summarize_long(bars, len(combos), row, bar, new, 1e6, commission, spread)
    assert isinstance(summary, Summary) and (dense.trades.reason == 4).any()
    want = drawdown_periods(bars.days, dense.equity)  # from the running maximum over bars
    assert (want["avg_drawdown"] < 0).all()
    for name, value in summary.periods.items():
        np.testing.assert_allclose(value, want[name], rtol=1e-9, atol=1e-12, err_msg=name)
    np.testing.assert_array_equal(summary.final, dense.equity[:, -1])
    a, b = column_stats(bars, dense, 1e6), column_stats(bars, summary, 1e6)
    for name, value in b.items():
        np.testing.assert_allclose(value, a[name], rtol=1e-9, atol=1e-12, err_msg=name)


def test_periods_from_the_trades_at_the_edges():
    # a trade open at the end, one entered on the last bar, flat rows, new highs while held,
    # flat runs at a high and below it
    close = np.r_[np.linspace(20, 10, 30), 30, 31, 29, 32, 15, 16, 40, 38, 41]
    close += np.sin(np.arange(len(close))) * 1e-3  # no two averages exactly equal
    grid = {"fast": [2, 3], "slow": [3, 4, 5, 8, 30]}
    tpl, bars, combos, _ = _bars_and_positions(make_ohlcv(close), grid)
    row, bar, new = tpl.fills(bars, combos)
    k = len(combos) + 1  # the last row has no fills: no trade
    for c in (0.0, 0.003):
        dense = simulate_fills(bars, k, row, bar, new, 1e4, c)
        summary = summarize_long(bars, k, row, bar, new, 1e4, c)
        t = dense.trades
        assert (t.entry_bar[t.reason == 4] == bars.n - 1).any()  # entered on the last bar
        assert (t.entry_bar[t.reason == 4] < bars.n - 1).any()  # held into it
        want = drawdown_periods(bars.days, dense.equity)
        for name, value in summary.periods.items():
            np.testing.assert_allclose(value, want[name], rtol=1e-12, atol=1e-15, err_msg=name)
        np.testing.assert_array_equal(summary.final, dense.equity[:, -1])


def test_next_at_least_by_brute_force():
    rng = np.random.default_rng(4)
    for n in (1, 2, 7, 100, 517):
        x = rng.integers(0, 6, n).astype(float)  # many ties: at least as high
        want = [next((s for s in range(t + 1, n) if x[s] >= x[t]), n) for t in range(n)]
        np.testing.assert_array_equal(next_at_least(x), want)


def test_a_chunk_without_fills_runs_on_matrices_in_parts(walk):
    # touching averages (a flat stretch) leave the fills to the positions: the chunk is split
    # into parts of CHUNK_CELLS on matrices, with the same stats as one part
    flat = walk.copy()
    flat.iloc[100:160, :4] = 50.0
    tpl, bars, _ = prepare(flat, "sma_cross")
    combos, _ = expand_grid(tpl, {"fast": [2, 3, 5], "slow": [8, 13, 21]}, bars.n)
    assert tpl.fills(bars, combos) is None
    orders = Orders.from_kwargs()
    whole = column_stats(bars, run_sim(tpl, bars, combos, 1e6, 0.001, 0.0, orders, True), 1e6)
    with mock.patch.object(_backtest, "CHUNK_CELLS", 2 * bars.n):  # parts of 2 combinations
        parts = chunk_stats(tpl, bars, combos, 1e6, 0.001, 0.0, orders)
    for name, value in whole.items():
        np.testing.assert_array_equal(parts[name], value, err_msg=name)
