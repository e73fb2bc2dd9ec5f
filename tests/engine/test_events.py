"""The vectorized stop model (chatops_widget.engine._events/_exits) against a plain loop.

The oracle below is the first implementation: one combination at a time, trade by trade, each
trade's stop searched over the bars of its stretch. The vectorized model must give the same
trades and equity for templates and rules, long and short, every stop kind and sizing.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from chatops_widget.engine import Orders, RuleStrategy, backtest
from chatops_widget.engine._events import _trail_distance, simulate_orders
from chatops_widget.engine._sim import END, SIGNAL, STOP_LOSS, TAKE_PROFIT, TRAILING_STOP, Bars
from chatops_widget.engine._types import BoolArray, FloatArray, Int8Array

from .conftest import make_ohlcv


def oracle(bars, pos, entries, cash, c, s, orders):
    """(equity, held, trade rows) by the loop model."""
    k, n = pos.shape
    dist = _trail_distance(bars, orders)
    equity = np.empty((k, n))
    held = np.zeros((k, n), dtype=np.int8)
    rows: list[list[float]] = []
    for j in range(k):
        ent = None if entries is None else entries[j]
        _one(bars, pos[j], ent, cash, c, s, orders, dist, j, equity[j], held[j], rows)
    return equity, held, np.array(rows).reshape(-1, 11)


def _one(
    bars: Bars,
    pos: Int8Array,
    entries: BoolArray | None,
    cash: float,
    c: float,
    s: float,
    orders: Orders,
    dist: FloatArray | None,
    col: int,
    eq: FloatArray,
    held: Int8Array,
    rows: list[list[float]],
) -> None:
    """Trades, equity and held direction of one combination (written into ``eq``/``held``)."""
    n = len(pos)
    o, hi, lo, cl = bars.open, bars.high, bars.low, bars.close
    h = np.zeros(n, dtype=np.int8)
    h[1:] = pos[:-1]
    change = np.flatnonzero(h[1:] != h[:-1]) + 1  # the held target changes at these opens
    can_enter = np.zeros(n, dtype=bool)
    can_enter[change] = True
    if entries is not None:
        can_enter[1:] |= entries[:-1]
    can_enter &= h != 0
    starts = np.flatnonzero(can_enter)
    covered = np.zeros(n, dtype=bool)
    flat = np.full(n, np.nan)
    flat[0] = cash
    money = cash  # equity while flat
    i = int(np.searchsorted(starts, 1))
    while i < len(starts):
        e = int(starts[i])
        d = int(h[e])
        price = o[e] * (1.0 + s * d)
        units = _units(orders, money, price, c)
        if units <= 0:  # rounds to no whole unit: skipped
            i += 1
            continue
        nxt = int(np.searchsorted(change, e, side="right"))
        x = int(change[nxt]) if nxt < len(change) else n  # the target changes at open x
        exit_bar, exit_px, reason = _exit(orders, dist, d, e, x, price, o, hi, lo, cl, n)
        u = d * units
        fee_in = c * units * price
        fee_out = c * units * exit_px
        base = money - fee_in - u * price
        at = x if reason == SIGNAL else exit_bar  # the bar whose close sees the position gone
        span = slice(e, at)
        eq[span] = base + u * cl[span]
        covered[span] = True
        held[e : (x if reason == SIGNAL else exit_bar + 1)] = d
        pnl = u * (exit_px - price) - fee_in - fee_out
        money = money + pnl
        flat[at] = money
        rows.append([col, e, at, d, price, exit_px, u, units * price, pnl, fee_in + fee_out,
                     reason])  # fmt: skip
        if reason == END:
            break
        # the next entry: at the same open after a signal exit, from the next bar after a stop
        i = int(np.searchsorted(starts, at if reason == SIGNAL else at + 1))
    idx = np.where(np.isnan(flat), 0, np.arange(n))
    np.maximum.accumulate(idx, out=idx)
    filled = flat[idx]
    eq[~covered] = filled[~covered]


def _units(orders: Orders, equity: float, price: float, c: float) -> float:
    if orders.units is not None:
        return orders.units
    units = orders.weight * equity / (price * (1.0 + c))
    if orders.risk is not None and orders.stop_loss is not None:
        units = min(units, orders.risk * equity / (price * orders.stop_loss))
    if orders.whole_units:
        units = float(math.floor(units))
    return max(units, 0.0)


def _exit(
    orders: Orders,
    dist: FloatArray | None,
    d: int,
    e: int,
    x: int,
    price: float,
    o: FloatArray,
    hi: FloatArray,
    lo: FloatArray,
    cl: FloatArray,
    n: int,
) -> tuple[int, float, int]:
    """``(exit bar, exit price, reason)`` of a trade entered at bar ``e``'s open at ``price``
    in direction ``d`` whose target changes at bar ``x``'s open (``n``: never)."""
    if not orders.has_stops:
        return (x, o[x], SIGNAL) if x < n else (n - 1, cl[-1], END)
    seg = slice(e, x)
    inf = math.inf
    sl = -inf if orders.stop_loss is None else price * (1.0 - d * orders.stop_loss)
    tp = inf if orders.take_profit is None else price * (1.0 + d * orders.take_profit)
    if d < 0:
        sl = inf if orders.stop_loss is None else sl
        tp = -inf if orders.take_profit is None else tp
    trail = None
    if dist is not None:
        if orders.trailing_atr is not None:
            anchor = dist[e - 1]
        else:
            assert orders.trailing_stop is not None
            anchor = price * orders.trailing_stop
        level = cl[seg] - d * dist[seg]  # set at each close, in force from the next bar
        trail = np.empty(x - e)
        trail[0] = price - d * anchor
        trail[1:] = level[:-1]
        # NaN (an ATR still warming up) never moves the level
        trail = np.fmax.accumulate(trail) if d > 0 else np.fmin.accumulate(trail)
    if d > 0:
        stop = sl if trail is None else np.fmax(trail, sl)
        hit_stop = lo[seg] <= stop
        hit_tp = hi[seg] >= tp
    else:
        stop = sl if trail is None else np.fmin(trail, sl)
        hit_stop = hi[seg] >= stop
        hit_tp = lo[seg] <= tp
    hit = hit_stop | hit_tp
    if not hit.any():
        return (x, o[x], SIGNAL) if x < n else (n - 1, cl[-1], END)
    m = int(hit.argmax())
    t = e + m
    here = float(stop if np.ndim(stop) == 0 else stop[m])  # type: ignore[index]
    gap_tp = (o[t] >= tp) if d > 0 else (o[t] <= tp)
    if hit_tp[m] and (gap_tp or not hit_stop[m]):
        return t, (max(o[t], tp) if d > 0 else min(o[t], tp)), TAKE_PROFIT
    fill = min(o[t], here) if d > 0 else max(o[t], here)
    binding_sl = trail is None or not (trail[m] > sl if d > 0 else trail[m] < sl)  # NaN: sl
    return t, fill, STOP_LOSS if binding_sl else TRAILING_STOP


def _data(seed: int, n: int = 400):
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.02, n)))
    open_ = close * np.exp(rng.normal(0, 0.01, n))
    df = make_ohlcv(close, open_)
    df["High"] = np.maximum(
        df.High, df[["Open", "Close"]].max(axis=1) * (1 + rng.uniform(0, 0.02, n))
    )
    df["Low"] = np.minimum(
        df.Low, df[["Open", "Close"]].min(axis=1) * (1 - rng.uniform(0, 0.02, n))
    )
    return df


ORDERS = [
    dict(stop_loss=0.03),
    dict(take_profit=0.04),
    dict(stop_loss=0.02, take_profit=0.03),
    dict(trailing_stop=0.03),
    dict(trailing_atr=(5, 1.5)),
    dict(stop_loss=0.05, trailing_stop=0.02, take_profit=0.08),
    dict(stop_loss=0.03, risk=0.01),
    dict(stop_loss=0.03, size=0.4),
    dict(stop_loss=0.03, units=50),
    dict(stop_loss=0.03, whole_units=True),
    dict(whole_units=True),
    dict(units=3, whole_units=True),
]
STRATEGIES = [
    ("sma_cross", {"fast": 3, "slow": 12, "short": True}),
    ("momentum", {"lookback": 3, "short": True}),
    ("rsi_reversion", {"window": 5, "lower": 40, "upper": 60}),
    ("buy_and_hold", {}),
    (
        RuleStrategy(
            "close > sma(5)",
            "close < sma(20)",
            short_entry="close < sma(5)",
            short_exit="close > sma(20)",
        ),
        {},
    ),
    (RuleStrategy("True", "False", name="always"), {}),
    (RuleStrategy("crosses_above(close, ema(8))", "rsi(5) > 70"), {}),
]


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("kw", ORDERS, ids=[",".join(o) for o in ORDERS])
@pytest.mark.parametrize(
    "strategy,params",
    STRATEGIES,
    ids=[s if isinstance(s, str) else s.name + str(i) for i, (s, _) in enumerate(STRATEGIES)],
)
def test_vectorized_equals_the_loop(seed, kw, strategy, params):
    from chatops_widget.engine._registry import get_template

    df = _data(seed)
    bars = Bars.from_frame(df)
    tpl = get_template(strategy)
    p = tpl.validate(params, bars.n)
    pos, entries = tpl.positions(bars, [p, p])  # two identical columns: per-column bookkeeping
    orders = Orders.from_kwargs(**kw)
    c, s, cash = 0.002, 0.001, 100_000.0
    eq, held, rows = oracle(bars, pos, entries, cash, c, s, orders)
    sim = simulate_orders(bars, pos, entries, cash, c, s, orders)
    t = sim.trades
    assert len(t) == len(rows) > 0
    np.testing.assert_array_equal(t.col, rows[:, 0])
    np.testing.assert_array_equal(t.entry_bar, rows[:, 1])
    np.testing.assert_array_equal(t.direction, rows[:, 3])
    np.testing.assert_array_equal(t.reason, rows[:, 10])
    np.testing.assert_allclose(t.exit_price, rows[:, 5], rtol=1e-12)
    np.testing.assert_allclose(t.units, rows[:, 6], rtol=1e-9)
    np.testing.assert_allclose(t.pnl, rows[:, 8], rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(sim.equity, eq, rtol=1e-9)
    np.testing.assert_array_equal(sim.held, held)
    if orders.has_stops:
        assert len(set(t.reason.tolist()) - {SIGNAL, END}) > 0


def test_a_stop_hit_every_few_bars_scans_each_bar_about_once(monkeypatch):
    # an always-true entry with a tight stop: thousands of re-entries; each is scanned over
    # the bars it is held (growing windows), not to the end of the data (which is quadratic)
    from chatops_widget.engine import _exits

    scanned = []
    real = _exits._scan

    def counting(bars, e, *args, **kwargs):
        w = args[5]
        scanned.append(len(e) * w)
        return real(bars, e, *args, **kwargs)

    monkeypatch.setattr(_exits, "_scan", counting)
    df = _data(3, n=20_000)
    r = backtest(df, RuleStrategy("True", "False"), stop_loss=0.005)
    assert len(r.trades) > 2000
    assert sum(scanned) < 200 * len(df)  # quadratic would be ~ trades * bars / 2 = 2e7+
