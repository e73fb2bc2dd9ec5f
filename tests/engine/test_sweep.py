"""sweep(): grids, skipped combinations, progress and cancellation."""

from __future__ import annotations

import threading
import time

import numpy as np
import pandas as pd
import pytest

from chatops_widget.engine import EngineError, ParamError, SweepCancelled, get_template, sweep
from chatops_widget.engine._backtest import SUMMARY_BARS, SUMMARY_MIN_COMBOS, summarized
from chatops_widget.engine._orders import Orders
from chatops_widget.engine._sweep import (
    CHUNK_CELLS,
    MAX_CHUNK,
    MIN_CHUNKS,
    available_cores,
    sweep_plan,
)

from .conftest import long_walk


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


def test_split_gives_in_sample_and_out_of_sample_stats_side_by_side(alpha):
    grid = {"fast": [5, 10, 20], "slow": [50, 100]}
    seen = []
    t = sweep(alpha, "sma_cross", grid, split="2021-01-01", commission=0.001,
              progress=lambda d, n: seen.append((d, n)), chunk_size=4)  # fmt: skip
    cut = alpha.index.searchsorted(pd.Timestamp("2021-01-01"))
    ins = sweep(alpha.iloc[:cut], "sma_cross", grid, commission=0.001)
    oos = sweep(alpha.iloc[cut:], "sma_cross", grid, commission=0.001)
    assert len(t) == len(ins) == len(oos) == 6
    for name in ("total_return", "sharpe", "max_drawdown", "num_trades"):
        np.testing.assert_allclose(t[name], ins[name], rtol=1e-12, equal_nan=True)
        np.testing.assert_allclose(t["oos_" + name], oos[name], rtol=1e-12, equal_nan=True)
    assert t.attrs["split"] == str(alpha.index[cut].date())
    assert t.attrs["in_sample"][1] == str(alpha.index[cut - 1].date())
    assert t.attrs["out_of_sample"] == [str(alpha.index[cut].date()), str(alpha.index[-1].date())]
    assert seen[-1] == (12, 12) and [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_split_errors_say_what_to_change(alpha):
    with pytest.raises(EngineError, match=r"split=1990-01-01 leaves 0 bars before it .* covers"):
        sweep(alpha, "sma_cross", {"fast": [5]}, split="1990-01-01")
    with pytest.raises(EngineError, match="is not a date"):
        sweep(alpha, "sma_cross", {"fast": [5]}, split="next tuesday")
    late = str(alpha.index[-30].date())  # 30 bars out of sample: a 50-bar window fits nowhere
    with pytest.raises(ParamError, match=r"fits both periods .* the 30 bars of the shorter"):
        sweep(alpha, "sma_cross", {"fast": [10], "slow": [50]}, split=late)


@pytest.mark.parametrize("after,period", [(2, "in-sample"), (5, "out-of-sample")])
def test_split_cancel_keeps_the_finished_rows(alpha, after, period):
    calls = []

    def cancel():  # checked after every chunk but a pass's last: 4 times per pass here
        calls.append(1)
        return len(calls) > after

    grid = {"fast": list(range(2, 12)), "slow": [50, 60]}  # 20 combinations, chunks of 4
    with pytest.raises(SweepCancelled) as err:
        sweep(alpha, "sma_cross", grid, split="2021-01-01", cancel=cancel, chunk_size=4)
    exc, part = err.value, err.value.partial
    assert f"during the {period} pass" in str(exc) and exc.total == 40
    assert f"after {exc.done} of 40" in str(exc)
    if period == "in-sample":
        assert exc.done == 12 and len(part) == 12 and part["oos_sharpe"].isna().all()
    else:
        assert exc.done == 28 and len(part) == 8 and part["oos_sharpe"].notna().all()


def test_a_big_grid_runs_on_every_core_with_the_rows_of_one_thread():
    df = long_walk(20_000)
    grid = {"fast": list(range(3, 60, 3)), "slow": list(range(20, 200, 10))}
    chunk, threads = sweep_plan(19 * 18, len(df))
    assert chunk == CHUNK_CELLS // len(df) and threads == min(available_cores(), 100)
    # chunks summarized per trade (no (k, n) matrices) are bigger, but still >= MIN_CHUNKS
    assert sweep_plan(19 * 18, len(df), summary=True)[0] == -(-19 * 18 // MIN_CHUNKS)
    assert sweep_plan(10_000, 1_000, summary=True)[0] == MAX_CHUNK
    calls = []
    parallel = sweep(df, "sma_cross", grid, commission=0.001, progress=lambda d, t: calls.append(d))
    serial = sweep(df, "sma_cross", grid, commission=0.001, workers=1)
    pd.testing.assert_frame_equal(parallel, serial)
    assert calls == sorted(calls) and calls[-1] == len(serial) and len(calls) >= MIN_CHUNKS
    # a small grid stays on the calling thread (threads would cost more than they bring)
    assert sweep_plan(25, 10_000) == (26, 1)
    assert sweep_plan(10_000, 1_000_000, workers=2) == (1, 2)


def test_cancel_stops_a_threaded_sweep_within_a_second():
    df = long_walk(200_000)
    grid = {"fast": list(range(2, 40)), "slow": list(range(50, 90))}  # 1,520 combinations
    stop = threading.Event()
    seen: list[tuple[int, float]] = []

    def progress(done: int, total: int) -> None:
        seen.append((done, time.perf_counter()))
        if done >= 3:
            stop.set()

    t0 = time.perf_counter()
    with pytest.raises(SweepCancelled) as err:
        sweep(df, "sma_cross", grid, progress=progress, cancel=stop, workers=2)
    cancelled_at = seen[-1][1]
    assert time.perf_counter() - cancelled_at < 1.0
    # it stopped at the first chunk boundary after the cancel: no more than the chunks in flight
    assert err.value.done == seen[-1][0] and err.value.done <= 3 + 2
    assert len(err.value.partial) == err.value.done < err.value.total == 1_520
    assert time.perf_counter() - t0 < 60


def test_memory_of_a_sweep_does_not_grow_with_the_number_of_combinations():
    import tracemalloc

    df = long_walk(100_000)

    def peak(grid: dict) -> int:
        tracemalloc.start()
        try:
            sweep(df, "rsi_reversion", grid, workers=1)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    small = peak({"window": [14], "lower": [20, 25, 30], "upper": [70, 75]})
    big = peak({"window": [14], "lower": list(range(10, 40)), "upper": list(range(60, 90))})
    assert big < 1.5 * small + 2_000_000  # 900 combinations vs 6: only the result rows grow


def test_big_grids_are_summarized_per_trade_with_the_rows_of_small_ones():
    tpl, plain = get_template("sma_cross"), Orders.from_kwargs()
    assert summarized(tpl, plain, 10_000, SUMMARY_MIN_COMBOS)
    assert not summarized(tpl, plain, 10_000, SUMMARY_MIN_COMBOS - 1)  # tables would not pay
    assert not summarized(tpl, plain, SUMMARY_BARS + 1, 1_000)  # tables would be too big
    assert not summarized(tpl, Orders.from_kwargs(stop_loss=0.02), 10_000, 1_000)
    assert not summarized(tpl, Orders.from_kwargs(size=0.5), 10_000, 1_000)
    assert not summarized(get_template("rsi_reversion"), plain, 10_000, 1_000)  # no fills
    df = long_walk(5_000)
    grid = {"fast": list(range(2, 30, 2)), "slow": list(range(10, 90, 8))}
    big = sweep(df, "sma_cross", grid, commission=0.001, spread=0.0002, workers=1)
    assert len(big) >= SUMMARY_MIN_COMBOS
    few = big[["fast", "slow"]].iloc[::17].to_dict("records")  # a handful: on matrices
    small = sweep(df, "sma_cross", few, commission=0.001, spread=0.0002, workers=1)
    rows = big.iloc[::17].reset_index(drop=True)
    assert (rows["num_trades"] > 10).all() and (rows["avg_drawdown"] < 0).all()
    for col in small.columns:
        if col != "short":
            np.testing.assert_allclose(small[col], rows[col], rtol=1e-9, atol=1e-12, err_msg=col)
