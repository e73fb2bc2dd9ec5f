"""sweep(): grids, skipped combinations, progress and cancellation."""

from __future__ import annotations

import threading

import pytest

from chatops_widget.engine import EngineError, ParamError, SweepCancelled, sweep


def test_dict_grid_is_cartesian_and_skips_forbidden(alpha):
    table = sweep(alpha, "sma_cross", {"fast": [5, 10, 40], "slow": [20, 40]})
    assert list(table[["fast", "slow"]].itertuples(index=False, name=None)) == [
        (5, 20),
        (5, 40),
        (10, 20),
        (10, 40),
    ]
    assert table.attrs["skipped"] == 2
    assert {"total_return", "sharpe", "max_drawdown", "num_trades", "win_rate"} <= set(table)


def test_list_grid_and_defaults(alpha):
    table = sweep(alpha, "sma_cross", [{"fast": 3}, {"fast": 3, "slow": 50, "short": True}])
    assert table[["fast", "slow", "short"]].values.tolist() == [[3, 30, False], [3, 50, True]]


def test_bad_grids(alpha):
    with pytest.raises(ParamError, match="did you mean 'slow'"):
        sweep(alpha, "sma_cross", {"slwo": [10]})
    with pytest.raises(ParamError, match="must be an int"):
        sweep(alpha, "sma_cross", {"fast": [1.5]})
    with pytest.raises(ParamError, match="no valid parameter combination"):
        sweep(alpha, "sma_cross", {"fast": [50], "slow": [20]})
    with pytest.raises(ParamError, match="is empty"):
        sweep(alpha, "sma_cross", {"fast": []})
    with pytest.raises(EngineError, match="chunk_size"):
        sweep(alpha, "sma_cross", {"fast": [5]}, chunk_size=0)


def test_progress_reports_every_chunk(alpha):
    calls = []
    grid = {"fast": list(range(2, 12)), "slow": [20, 30]}
    sweep(alpha, "sma_cross", grid, progress=lambda d, t: calls.append((d, t)), chunk_size=6)
    assert calls == [(6, 20), (12, 20), (18, 20), (20, 20)]


def test_cancel_with_callable_returns_partial(alpha):
    seen = []

    def cancel():
        return len(seen) >= 2

    grid = {"fast": list(range(2, 12)), "slow": [20, 30]}
    with pytest.raises(SweepCancelled) as ei:
        sweep(
            alpha,
            "sma_cross",
            grid,
            progress=lambda d, t: seen.append(d),
            cancel=cancel,
            chunk_size=4,
        )
    e = ei.value
    assert (e.done, e.total) == (8, 20) and len(e.partial) == 8
    assert "cancelled after 8 of 20" in str(e)
    full = sweep(alpha, "sma_cross", grid)
    assert e.partial["total_return"].tolist() == full["total_return"].iloc[:8].tolist()


def test_cancel_with_event(alpha):
    ev = threading.Event()
    grid = {"fast": list(range(2, 12)), "slow": [20, 30]}
    with pytest.raises(SweepCancelled) as ei:
        sweep(alpha, "sma_cross", grid, progress=lambda d, t: ev.set(), cancel=ev, chunk_size=5)
    assert ei.value.done == 5
    ev.clear()
    assert len(sweep(alpha, "sma_cross", grid, cancel=ev)) == 20


def test_threaded_workers_give_identical_rows_and_ordered_progress(alpha):
    grid = {"fast": list(range(2, 20)), "slow": [25, 40], "short": [False, True]}
    calls = []
    threaded = sweep(
        alpha, "sma_cross", grid, chunk_size=7, workers=2, progress=lambda d, t: calls.append(d)
    )
    plain = sweep(alpha, "sma_cross", grid, chunk_size=7)
    assert threaded.equals(plain)
    assert calls == sorted(calls) and calls[-1] == 72
    with pytest.raises(EngineError, match="workers must be a positive int"):
        sweep(alpha, "sma_cross", grid, workers=0)
