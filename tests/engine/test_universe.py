"""compare_universe(): every strategy on every symbol; the long table, pivot, ranks, errors."""

from __future__ import annotations

import threading

import numpy as np
import pandas as pd
import pytest

from chatops_widget.engine import (
    STAT_NAMES,
    DataError,
    EngineError,
    ParamError,
    RuleStrategy,
    SweepCancelled,
    UnknownSymbolError,
    backtest,
    compare_universe,
    sample_catalog,
)

CAT = sample_catalog()
STRATS = ["sma_cross", ("sma_cross", {"fast": 5, "slow": 20}), "rsi_reversion", "buy_and_hold"]


def test_every_row_equals_the_single_backtest():
    u = compare_universe(CAT, STRATS, symbols=["ALPHA", "CHARLIE", "ECHO"], commission=0.001)
    assert len(u.table) == 12
    assert u.strategies == ["sma_cross", "sma_cross(fast=5, slow=20)", "rsi_reversion",
                            "buy_and_hold"]  # fmt: skip
    assert u.symbols == ["ALPHA", "CHARLIE", "ECHO"]
    for row in u.table.itertuples(index=False):
        strat, params = ("sma_cross", {"fast": 5, "slow": 20}) if "(" in row.strategy else (
            row.strategy, {})  # fmt: skip
        bt = backtest(CAT.get(row.symbol), strat, params, commission=0.001)
        for name in STAT_NAMES:
            a, b = getattr(row, name), bt.stats[name]
            assert (np.isnan(a) and np.isnan(b)) or a == pytest.approx(b, rel=1e-9, abs=1e-12)
    assert set(u.table.columns) >= {"strategy", "symbol", "params", "start", "end", "bars"}


def test_pivot_ranks_and_summary():
    u = compare_universe(CAT, {"a": "sma_cross", "b": "ema_cross", "c": "buy_and_hold"})
    p = u.pivot("sharpe")
    assert p.index.tolist() == ["a", "b", "c"] and p.columns.tolist() == CAT.symbols()
    ranks = u.ranks("sharpe")
    for sym in p.columns:  # 1 = the highest sharpe on that symbol
        assert ranks.loc[p[sym].idxmax(), sym] == 1.0
    s = u.summary("sharpe")
    assert s.loc["a", "mean"] == pytest.approx(p.loc["a"].mean())
    assert s.loc["b", "mean_rank"] == pytest.approx(ranks.loc["b"].mean())
    assert s.wins.sum() == len(p.columns) and s.mean_rank.is_monotonic_increasing
    # a lower-is-better stat ranks the other way round
    v = u.ranks("volatility")
    assert (v.loc[u.pivot("volatility").idxmin(), :].values.diagonal() == 1.0).all()
    with pytest.raises(KeyError, match="did you mean 'sharpe'"):
        u.pivot("sharp")


def test_a_symbol_too_short_for_a_strategy_is_a_noted_row():
    short = CAT.get("BRAVO").iloc[:150]
    u = compare_universe({"ALPHA": CAT.get("ALPHA"), "SHORT": short},
                         [("sma_cross", {"slow": 200}), "buy_and_hold"])  # fmt: skip
    row = u.table.set_index(["strategy", "symbol"]).loc[("sma_cross(slow=200)", "SHORT")]
    assert "needs more than 200 bars" in row.note and np.isnan(row.sharpe)
    assert u.table.note.eq("").sum() == 3


def test_rule_strategies_and_dates():
    dip = RuleStrategy(entry="rsi(14) < 30", exit="rsi(14) > 70", name="dip")
    u = compare_universe(CAT, [dip, "sma_cross"], symbols=["ALPHA"], start="2020-01-01")
    assert u.table.strategy.tolist() == ["dip", "sma_cross"]
    assert (u.table.start >= pd.Timestamp("2020-01-01")).all()


def test_bad_input_fails_before_any_work():
    with pytest.raises(UnknownSymbolError, match=r"BRAOV \(did you mean BRAVO\?\)"):
        compare_universe(CAT, STRATS, symbols=["ALPHA", "BRAOV"])
    with pytest.raises(DataError, match="1,000 symbols given; the limit is 500"):
        compare_universe(CAT, STRATS, symbols=[f"S{i}" for i in range(1000)])
    with pytest.raises(DataError, match="more than once"):
        compare_universe(CAT, STRATS, symbols=["ALPHA", "alpha"])
    with pytest.raises(EngineError, match="more than once"):
        compare_universe(CAT, ["sma_cross", "sma_cross"])
    with pytest.raises(ParamError, match="did you mean 'fast'"):
        compare_universe(CAT, [("sma_cross", {"fats": 3})])
    with pytest.raises(EngineError, match="one or more strategies"):
        compare_universe(CAT, [])
    with pytest.raises(EngineError, match="commission"):
        compare_universe(CAT, STRATS, commission=0.5)


def test_progress_and_cancel():
    calls = []
    compare_universe(CAT, STRATS, progress=lambda d, t: calls.append((d, t)))
    assert calls == [(4 * i, 20) for i in range(1, 6)]
    stop = threading.Event()
    with pytest.raises(SweepCancelled) as info:
        compare_universe(CAT, STRATS, progress=lambda d, t: stop.set() if d >= 8 else None,
                         cancel=stop)  # fmt: skip
    assert info.value.partial.symbol.unique().tolist() == ["ALPHA", "BRAVO"]
