"""walk_forward(): windows, no peeking at test bars, the stitched curve, stats, progress, cancel."""

from __future__ import annotations

import itertools
import threading

import numpy as np
import pandas as pd
import pytest

from chatops_widget.engine import (
    EngineError,
    Param,
    ParamError,
    RuleStrategy,
    StrategyBase,
    WalkForwardCancelled,
    backtest,
    get_template,
    make_windows,
    parse_period,
    sweep,
    walk_forward,
)
from chatops_widget.engine._walkforward import choose

from .conftest import make_ohlcv

GRID = {"fast": [5, 10, 20], "slow": [30, 60, 120]}


class Side(StrategyBase):
    """Always long (side=1), flat (0) or short (-1); records every slice it is shown."""

    name = "side"
    description = "a constant position"
    params = (Param("side", int, 1, -1, 1),)

    def __init__(self) -> None:
        self.seen: list[tuple[int, pd.Timestamp, pd.Timestamp]] = []

    def positions(self, bars, combos):
        self.seen.append((len(combos), bars.index[0], bars.index[-1]))
        return np.array([[c["side"]] * bars.n for c in combos], dtype=np.int8), None


class Spy(StrategyBase):
    """sma_cross that records the first and last bar of every slice it is shown."""

    def __init__(self) -> None:
        base = get_template("sma_cross")
        self.base, self.name, self.description = base, "spy", base.description
        self.params = base.params
        self.seen: list[tuple[int, pd.Timestamp, pd.Timestamp]] = []

    def check(self, params):
        return self.base.check(params)

    def warmup(self, params):
        return self.base.warmup(params)

    def positions(self, bars, combos):
        self.seen.append((len(combos), bars.index[0], bars.index[-1]))
        return self.base.positions(bars, combos)


def test_periods_and_window_geometry():
    idx = pd.bdate_range("2015-01-01", "2020-12-31")
    assert parse_period("2y").describe() == "2 years"
    assert parse_period("90d").unit == "d" and parse_period("500b").bars == 500
    ws = make_windows(idx, 500, 250)
    assert [(w.train_start, w.train_end, w.test_end) for w in ws] == [
        (0, 500, 750), (250, 750, 1000), (500, 1000, 1250), (750, 1250, 1500)
    ]  # fmt: skip
    # anchored: every training period starts at the first bar
    assert {w.train_start for w in make_windows(idx, 500, 250, anchored=True)} == {0}
    # durations step in calendar months from the first bar, without drift
    ws = make_windows(idx, "1y", "6m")
    assert [str(idx[w.test_start].date()) for w in ws[:4]] == [
        "2016-01-01", "2016-07-01", "2017-01-02", "2017-07-03"
    ]  # fmt: skip
    for a, b in itertools.pairwise(ws):
        assert a.test_end == b.test_start and a.train_end == a.test_start
    # the last test period ends with the data if it has at least half a test period
    ws = make_windows(idx[:1400], 500, 250)
    assert ws[-1].test_end == 1400 and ws[-1].test_bars == 150
    assert make_windows(idx[:1350], 500, 250)[-1].test_end == 1250  # a 100-bar stub is dropped


@pytest.mark.parametrize(
    ("train", "test", "message"),
    [
        ("9y", "2y", "do not fit the data"),
        (5000, 100, "do not fit the data"),
        (500, 1, "at least 2 bars"),
        ("2 fortnights", "6m", "is not a period"),
        (0, "6m", "at least 1"),
        (True, "6m", "number of bars or a duration"),
    ],
)
def test_bad_periods_fail_before_any_work(alpha, train, test, message):
    spy = Spy()
    with pytest.raises(EngineError, match=message):
        walk_forward(alpha, spy, GRID, train=train, test=test)
    assert spy.seen == []


def test_no_window_sees_its_test_bars_while_choosing():
    # rising for 500 bars, then a crash: a chooser that peeked at the test bars would go short
    close = np.concatenate([np.linspace(100, 130, 500), np.linspace(130, 60, 100)])
    data = make_ohlcv(close)
    side = Side()
    wf = walk_forward(data, side, {"side": [1, 0, -1]}, train=500, test=100, min_trades=0)
    assert wf.windows["side"].tolist() == [1]  # chosen on the rising training bars only
    assert wf.windows["oos_return"].iloc[0] < -0.4  # and it honestly loses the crash
    test_start = data.index[500]
    sweeps = [s for s in side.seen if s[0] == 3]
    assert sweeps and all(last < test_start for _, _, last in sweeps)


def test_every_choosing_slice_ends_before_its_test_period(alpha):
    spy = Spy()
    wf = walk_forward(alpha, spy, GRID, train="2y", test="6m", chunk_size=4)
    sweeps = [s for s in spy.seen if s[0] > 1]  # the sweep's chunks (runs take one combo)
    starts = wf.windows["test_start"].tolist()
    for first, last in {(a, b) for _, a, b in sweeps}:
        k = next(i for i, w in wf.windows.iterrows() if w["train_start"] == first)
        assert last == wf.windows.loc[k, "train_end"] < starts[k]
    assert len({b for _, _, b in sweeps}) == len(wf.windows)


def test_choices_equal_a_sweep_of_the_training_bars_alone(alpha):
    wf = walk_forward(alpha, "sma_cross", GRID, train=500, test=250, min_trades=3)
    for _, w in wf.windows.iterrows():
        train = alpha.loc[w["train_start"] : w["train_end"]]
        table = sweep(train, "sma_cross", GRID)
        ok = table[table.num_trades >= 3]
        best = ok.loc[ok.sharpe.idxmax()]
        assert (w["fast"], w["slow"]) == (best.fast, best.slow)
        assert w["is_sharpe"] == pytest.approx(best.sharpe, rel=1e-12)
        assert w["candidates"] == len(ok) and w["combinations"] == len(table)


def test_test_periods_trade_like_the_backtest_with_history(alpha):
    wf = walk_forward(alpha, "sma_cross", GRID, train=500, test=250, commission=0.001)
    for _, w in wf.windows.iterrows():
        hist = alpha.loc[w["train_start"] : w["test_end"]]
        bt = backtest(hist, "sma_cross", {"fast": w["fast"], "slow": w["slow"]})
        held = bt.equity.position.loc[w["test_start"] : w["test_end"]]
        mine = wf.equity.position.loc[w["test_start"] : w["test_end"]]
        assert (held.to_numpy() == mine.to_numpy()).all()
    # every trade lies inside its window; the windows compound to the stitched curve
    t = wf.trades.merge(wf.windows[["window", "test_start", "test_end"]], on="window")
    assert ((t.entry_time >= t.test_start) & (t.exit_time <= t.test_end)).all()
    growth = float((1 + wf.windows.oos_return).prod())
    assert growth == pytest.approx(wf.equity.equity.iloc[-1] / 1_000_000, rel=1e-12)
    assert wf.stats["total_return"] == pytest.approx(growth - 1, rel=1e-12)
    assert wf.stats["num_trades"] == len(wf.trades) == wf.windows.oos_trades.sum()
    # buy & hold of the same bars beside it, from the last training bar's close
    first = wf.equity.index[0]
    assert first == wf.windows.train_end.iloc[0]
    bh = 1_000_000 * alpha.Close.loc[wf.equity.index] / alpha.Close.loc[first]
    assert np.allclose(wf.equity.buy_hold.to_numpy(), bh.to_numpy())


def test_stats_wfe_and_param_changes(alpha):
    wf = walk_forward(alpha, "sma_cross", GRID, train="2y", test="1y", anchored=True)
    w = wf.windows
    assert (w.train_start == alpha.index[0]).all()
    assert wf.stats["wfe"] == pytest.approx(wf.stats["cagr"] / w.is_cagr.mean())
    pairs = list(zip(w.fast, w.slow, strict=True))
    changes = sum(a != b for a, b in itertools.pairwise(pairs))
    assert wf.stats["param_changes"] == changes
    assert wf.stats["param_change_rate"] == pytest.approx(changes / (len(w) - 1))
    assert wf.stats["windows"] == len(w) and wf.stats["flat_windows"] == 0
    assert wf.info["metric"] == "sharpe" and "WalkForwardResult" in repr(wf)


def test_metric_direction_and_min_trades(alpha):
    wf = walk_forward(alpha, "sma_cross", GRID, train=600, test=400, metric="volatility",
                      min_trades=0)  # fmt: skip
    first = wf.windows.iloc[0]
    table = sweep(alpha.loc[first.train_start : first.train_end], "sma_cross", GRID)
    assert first.is_volatility == table.volatility.min()
    flat = walk_forward(alpha, "sma_cross", GRID, train=600, test=400, min_trades=10_000)
    assert flat.stats["flat_windows"] == len(flat.windows)
    assert flat.windows.note.str.startswith("in cash: no combination with >= 10000").all()
    assert (flat.equity.equity == 1_000_000).all() and len(flat.trades) == 0
    assert np.isnan(flat.stats["wfe"])


def test_choose_picks_the_first_of_ties_and_skips_nan():
    t = pd.DataFrame({"k": [1, 2, 3, 4], "sharpe": [np.nan, 2.0, 2.0, 1.0],
                      "num_trades": [9, 9, 9, 9]})  # fmt: skip
    assert choose(t, ["k"], "sharpe", 0).params == {"k": 2}
    assert choose(t, ["k"], "sharpe", 10).params is None


def test_stops_rules_and_shorts_work(alpha):
    wf = walk_forward(alpha, "sma_cross", {**GRID, "short": [True]}, train=500, test=250,
                      stop_loss=0.05, commission=0.001)  # fmt: skip
    assert set(wf.trades.direction) == {"long", "short"}
    assert "stop_loss" in set(wf.trades.exit_reason)
    rule = RuleStrategy(entry="rsi($n) < 30", exit="rsi($n) > 70", params={"n": 14}, name="dip")
    wf = walk_forward(alpha, rule, {"n": [7, 14, 21]}, train="3y", test="1y", min_trades=1)
    assert wf.strategy == "dip" and len(wf.windows) == 7


def test_progress_counts_every_windows_sweep_and_cancel_keeps_finished_windows(alpha):
    calls: list[tuple[int, int]] = []
    wf = walk_forward(alpha, "sma_cross", GRID, train=500, test=250,
                      progress=lambda d, t: calls.append((d, t)))  # fmt: skip
    total = int(wf.windows.combinations.sum())
    assert calls[-1] == (total, total) and [d for d, _ in calls] == sorted(d for d, _ in calls)
    stop = threading.Event()
    per = int(wf.windows.combinations.iloc[0])

    def progress(done, total):
        if done >= 2 * per:
            stop.set()

    with pytest.raises(WalkForwardCancelled) as info:
        walk_forward(alpha, "sma_cross", GRID, train=500, test=250, progress=progress,
                     cancel=stop)  # fmt: skip
    part = info.value.partial
    assert info.value.done == 2 and info.value.total == len(wf.windows)
    assert part.windows.window.tolist() == [1, 2]
    pd.testing.assert_frame_equal(part.windows, wf.windows.iloc[:2])
    assert part.equity.index[-1] == wf.windows.test_end.iloc[1]


def test_bad_arguments(alpha):
    with pytest.raises(EngineError, match="did you mean 'sharpe'"):
        walk_forward(alpha, "sma_cross", GRID, train=500, test=250, metric="sharp")
    with pytest.raises(EngineError, match="cannot rank"):
        walk_forward(alpha, "sma_cross", GRID, train=500, test=250, metric="num_trades")
    with pytest.raises(EngineError, match="min_trades"):
        walk_forward(alpha, "sma_cross", GRID, train=500, test=250, min_trades=-1)
    with pytest.raises(EngineError, match="unknown argument"):
        walk_forward(alpha, "sma_cross", GRID, train=500, test=250, stoploss=0.1)
    with pytest.raises(ParamError, match="fits window 1's training period"):
        walk_forward(alpha, "sma_cross", {"slow": [400]}, train=300, test=250)
    with pytest.raises(ParamError, match="did you mean 'fast'"):
        walk_forward(alpha, "sma_cross", {"fats": [5]}, train=300, test=250)
