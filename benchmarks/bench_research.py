"""Research benchmark: walk-forward and a universe comparison, ours vs looping vectorbt and
backtesting.py, side by side in one run.

(f) a walk-forward of 10 windows x 1,225 sma_cross pairs (windows 5, 7, ..., 103) on 10,000
    bars: train 2,000 bars, test 800, best Sharpe among pairs with >= 5 trades, the choice
    traded on the test bars (indicators warmed up on the history), the test windows stitched.
    Peers loop their own API over the windows: vectorbt's ``MA.run_combs`` +
    ``Portfolio.from_signals`` per training window, then the chosen pair on its test window;
    backtesting.py's ``Backtest.optimize`` per window (timed on 12 and on 48 evenly spaced
    pairs of one window, extrapolated to 10 windows as optimize()'s fixed cost per call -- it
    starts a process pool -- plus 1,225 x the cost per pair) plus a ``run`` per test window.
(g) a universe comparison of 5 strategies (sma_cross, ema_cross, rsi_reversion, bollinger,
    momentum) x 50 symbols of 2,520 daily bars: ours is one ``compare_universe`` call; the peers
    loop over (strategy, symbol) pairs with one backtest each (vectorbt: ``from_signals`` per
    pair; also shown: vectorbt with all 50 symbols as columns of one run per strategy, its
    natural vectorized form). The peers' indicators (vectorbt's RSI and Bollinger bands,
    backtesting.py with pandas) differ from ours in warm-up details, so only the crossover
    strategies' trade counts are checked against ours; the time is what is compared.

All use the same model: signal on bar t's close, fill at bar t+1's open, all-in, commission 0.1 %
per fill. Peers missing from the environment are reported and skipped.

Reproduce (see benchmarks/README.md for the venv):
    python benchmarks/bench_research.py            # ~5 min on the shared 2-core box
    python benchmarks/bench_research.py --quick    # ~2 min: single timings, backtesting.py
                                                   # on 5 symbols in (g)
    python benchmarks/bench_research.py --cases g  # only the universe comparison

vectorbt's loops are timed best of 2 (best of 1 with --quick), ours and vectorbt's wide run
best of 3.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_engine import COMMISSION, WINDOWS, have, synthetic, timeit

TRAIN, TEST, MIN_TRADES = 2000, 800, 5
STRATEGIES = {
    "sma_cross": {"fast": 10, "slow": 30},
    "ema_cross": {"fast": 12, "slow": 26},
    "rsi_reversion": {"window": 14, "lower": 30.0, "upper": 70.0},
    "bollinger": {"window": 20, "k": 2.0},
    "momentum": {"lookback": 60, "threshold": 0.0},
}
PAIRS = [(f, s) for f in WINDOWS for s in WINDOWS if f < s]


def universe_data(n_symbols: int = 50, bars: int = 2520) -> dict[str, pd.DataFrame]:
    return {f"S{i:02d}": synthetic(bars, seed=100 + i, freq="B") for i in range(n_symbols)}


# ---------------------------------------------------------------- ours
def ours_walkforward(df):
    from chatops_widget.engine import walk_forward

    return walk_forward(df, "sma_cross", {"fast": WINDOWS, "slow": WINDOWS}, train=TRAIN,
                        test=TEST, min_trades=MIN_TRADES, commission=COMMISSION)  # fmt: skip


def ours_universe(frames):
    from chatops_widget.engine import compare_universe

    return compare_universe(frames, {k: (k, v) for k, v in STRATEGIES.items()},
                            commission=COMMISSION)  # fmt: skip


# ---------------------------------------------------------------- vectorbt
def _vbt_signals(close, fast, slow, ewm=False, combos=False):
    import vectorbt as vbt

    if combos:
        f, s = vbt.MA.run_combs(close, window=fast, r=2, short_names=["fast", "slow"], ewm=ewm)
    else:
        f = vbt.MA.run(close, fast, short_name="fast", ewm=ewm)
        s = vbt.MA.run(close, slow, short_name="slow", ewm=ewm)
    return f.ma_crossed_above(s), f.ma_crossed_below(s)


def _vbt_pf(df, entries, exits, freq="1D"):
    import vectorbt as vbt

    return vbt.Portfolio.from_signals(
        df["Close"], entries.vbt.fshift(1, fill_value=False),
        exits.vbt.fshift(1, fill_value=False), price=df["Open"], fees=COMMISSION,
        init_cash=1_000_000.0, freq=freq,
    )  # fmt: skip


def vbt_walkforward(df):
    """The walk-forward with vectorbt: per window a combos sweep on the training bars, the best
    Sharpe (>= 5 trades) run on the test bars with the history's signals, returns chained."""
    chosen, equity = [], 1_000_000.0
    starts = range(TRAIN, len(df) - TEST + 1, TEST)
    for s in starts:
        train = df.iloc[s - TRAIN : s]
        en, ex = _vbt_signals(train["Close"], WINDOWS, None, combos=True)
        pf = _vbt_pf(train, en, ex)
        sharpe = pf.sharpe_ratio().to_numpy()
        trades = pf.trades.count().to_numpy()
        sharpe = np.where((trades >= MIN_TRADES) & np.isfinite(sharpe), sharpe, -np.inf)
        col = en.columns[int(np.argmax(sharpe))]
        names = list(en.columns.names)
        fast, slow = col[names.index("fast_window")], col[names.index("slow_window")]
        chosen.append((int(fast), int(slow)))
        hist = df.iloc[s - TRAIN : s + TEST]
        en, ex = _vbt_signals(hist["Close"], int(fast), int(slow))
        test = df.iloc[s - 1 : s + TEST]
        pf = _vbt_pf(test, en.iloc[TRAIN - 1 :], ex.iloc[TRAIN - 1 :])
        equity *= 1 + float(pf.total_return())
    return chosen, equity


def _like(close, values):
    if isinstance(close, pd.DataFrame):
        return pd.DataFrame(values, index=close.index, columns=close.columns)
    return pd.Series(values, index=close.index)


def _vbt_strategy(df, name, p):
    import vectorbt as vbt

    close = df["Close"]
    if name in ("sma_cross", "ema_cross"):
        return _vbt_signals(close, p["fast"], p["slow"], ewm=name == "ema_cross")
    if name == "rsi_reversion":
        rsi = vbt.RSI.run(close, window=p["window"], ewm=True)
        return rsi.rsi_below(p["lower"]), rsi.rsi_above(p["upper"])
    if name == "bollinger":
        bb = vbt.BBANDS.run(close, window=p["window"], alpha=p["k"])
        c = close.to_numpy()
        lower = np.asarray(bb.lower).reshape(c.shape)  # (bars[, symbols]) like close
        middle = np.asarray(bb.middle).reshape(c.shape)
        return _like(close, c < lower), _like(close, c >= middle)
    roc = close.pct_change(p["lookback"])
    return roc > p["threshold"], roc <= p["threshold"]


def vbt_universe_loop(frames):
    out = {}
    for name, p in STRATEGIES.items():
        for sym, df in frames.items():
            en, ex = _vbt_strategy(df, name, p)
            pf = _vbt_pf(df, en, ex)
            out[name, sym] = (
                pf.total_return(),
                pf.sharpe_ratio(),
                pf.max_drawdown(),
                pf.trades.count(),
            )
    return out


def vbt_universe_wide(frames):
    wide = {c: pd.DataFrame({s: f[c] for s, f in frames.items()}) for c in ("Open", "Close")}
    out = {}
    for name, p in STRATEGIES.items():
        en, ex = _vbt_strategy({"Close": wide["Close"]}, name, p)
        pf = _vbt_pf(wide, en, ex)
        out[name] = (pf.total_return(), pf.sharpe_ratio(), pf.max_drawdown(), pf.trades.count())
    return out


# ---------------------------------------------------------------- backtesting.py
def _bt_class(name, p):
    from backtesting import Strategy
    from backtesting.lib import crossover

    def ma(x, n, ewm=False):
        s = pd.Series(x)
        return (s.ewm(span=n, adjust=False).mean() if ewm else s.rolling(n).mean()).to_numpy()

    def rsi(x, n):
        d = pd.Series(x).diff()
        up = d.clip(lower=0).ewm(alpha=1 / n, adjust=False).mean()
        dn = (-d.clip(upper=0)).ewm(alpha=1 / n, adjust=False).mean()
        return (100 - 100 / (1 + up / dn)).to_numpy()

    class S(Strategy):
        def init(self):
            c = self.data.Close
            if name in ("sma_cross", "ema_cross"):
                self.f = self.I(ma, c, p["fast"], name == "ema_cross")
                self.s = self.I(ma, c, p["slow"], name == "ema_cross")
            elif name == "rsi_reversion":
                self.r = self.I(rsi, c, p["window"])
            elif name == "bollinger":
                self.m = self.I(ma, c, p["window"])
                self.sd = self.I(lambda x, n: pd.Series(x).rolling(n).std(ddof=0).to_numpy(), c,
                                 p["window"])  # fmt: skip
            else:
                self.roc = self.I(lambda x, n: pd.Series(x).pct_change(n).to_numpy(), c,
                                  p["lookback"])  # fmt: skip

        def next(self):
            c = self.data.Close[-1]
            if name in ("sma_cross", "ema_cross"):
                go, stop = crossover(self.f, self.s), crossover(self.s, self.f)
            elif name == "rsi_reversion":
                go, stop = self.r[-1] < p["lower"], self.r[-1] > p["upper"]
            elif name == "bollinger":
                go, stop = c < self.m[-1] - p["k"] * self.sd[-1], c >= self.m[-1]
            else:
                go, stop = self.roc[-1] > p["threshold"], self.roc[-1] <= p["threshold"]
            if go and not self.position:
                self.buy()
            elif stop and self.position:
                self.position.close()

    return S


def bt_run(df, name, p):
    from backtesting import Backtest

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Backtest(df, _bt_class(name, p), cash=1e12, commission=COMMISSION,
                        finalize_trades=True).run()  # fmt: skip


def _sma(x, n):
    return pd.Series(x).rolling(n).mean().to_numpy()


def _grid_class():
    """backtesting.py's optimize pickles the strategy into its worker processes: module level."""
    from backtesting import Strategy
    from backtesting.lib import crossover

    global GridSmaCross

    class GridSmaCross(Strategy):
        fast, slow = 10, 30

        def init(self):
            self.f = self.I(_sma, self.data.Close, self.fast)
            self.s = self.I(_sma, self.data.Close, self.slow)

        def next(self):
            if crossover(self.f, self.s) and not self.position:
                self.buy()
            elif crossover(self.s, self.f) and self.position:
                self.position.close()

    GridSmaCross.__qualname__ = "GridSmaCross"
    return GridSmaCross


_ALLOWED: set = set()


def _allowed(q) -> bool:
    return (q.fast, q.slow) in _ALLOWED


def bt_optimize(df, pairs):
    """backtesting.py's own grid search over ``pairs`` (best Sharpe; it uses a process pool)."""
    from backtesting import Backtest

    _ALLOWED.clear()
    _ALLOWED.update(pairs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bt = Backtest(df, _grid_class(), cash=1e12, commission=COMMISSION, finalize_trades=True)
        return bt.optimize(
            fast=sorted({f for f, _ in pairs}), slow=sorted({s for _, s in pairs}),
            constraint=_allowed, maximize="Sharpe Ratio",
        )  # fmt: skip


# ---------------------------------------------------------------- cases
def add(rows, row) -> None:
    """Keep a result row and print it at once (the table is printed again at the end)."""
    rows.append(row)
    case, engine, secs, note = row
    print(f"{case:<40} {engine:<20} {secs:>9.4f}  {note}", flush=True)


def case_f(args, missing, rows) -> None:
    case = "f: walk-forward 10 x 1,225, 10k bars"
    df = synthetic(10_000, seed=11, freq="B")
    wf = ours_walkforward(df)
    assert len(wf.windows) == 10, len(wf.windows)
    t_ours = timeit(lambda: ours_walkforward(df))
    add(rows, (case, "ours", t_ours, f"{12_250 / t_ours:,.0f} window-backtests/s"))
    mine = list(zip(wf.windows.fast, wf.windows.slow, strict=True))
    if not missing["vectorbt"]:
        vbt_walkforward(df.iloc[: TRAIN + TEST])  # JIT
        chosen: list = []

        def run():
            chosen[:] = [vbt_walkforward(df)]

        t_vbt = timeit(run, repeat=1 if args.quick else 2)
        same = sum(a == b for a, b in zip(chosen[0][0], mine, strict=True))
        add(
            rows,
            (
                case,
                "vectorbt loop",
                t_vbt,
                f"ours {t_vbt / t_ours:.1f}x; same pair chosen in {same}/10 windows",
            ),
        )
    if not missing["backtesting"]:
        # optimize() starts a process pool per call: time it on 12 and on 48 pairs of one
        # window, and extrapolate each window as that fixed cost plus 1,225 x the cost per pair
        # (dividing 12 pairs' time by 12 would count the pool's start-up once per pair)
        train = df.iloc[:TRAIN]
        times = {}
        for k in (12, 48):
            some = PAIRS[:: len(PAIRS) // k][:k]
            t0 = time.perf_counter()
            bt_optimize(train, some)
            times[k] = time.perf_counter() - t0
        per_pair = max((times[48] - times[12]) / 36, times[48] / 48 / 4)  # not below 1/4 of avg
        fixed = max(times[12] - 12 * per_pair, 0.0)
        hist = df.iloc[: TRAIN + TEST]  # a test window's run (with its history)
        t_test = timeit(lambda: bt_run(hist, "sma_cross", STRATEGIES["sma_cross"]), repeat=1)
        t_bt = (fixed + per_pair * len(PAIRS) + t_test) * 10
        note = (f"extrapolated: optimize() {fixed:.1f}s per call + {per_pair * 1e3:.1f} ms per "
                f"pair (from 12 and 48 pairs); ours {t_bt / t_ours:.0f}x")  # fmt: skip
        add(rows, (case, "backtesting.py", t_bt, note))


def case_g(args, missing, rows) -> None:
    case = "g: universe 5 strategies x 50 symbols"
    frames = universe_data()
    u = ours_universe(frames)
    assert len(u.table) == 250
    t_ours = timeit(lambda: ours_universe(frames))
    add(rows, (case, "ours", t_ours, f"{250 / t_ours:,.0f} backtests/s"))
    if not missing["vectorbt"]:
        vbt_universe_loop({k: v for k, v in list(frames.items())[:1]})  # JIT
        res: dict = {}

        def loop():
            res.update(vbt_universe_loop(frames))

        t_vbt = timeit(loop, repeat=1 if args.quick else 2)
        ours_t = u.table.set_index(["strategy", "symbol"])["num_trades"]
        cross = [k for k in res if k[0] in ("sma_cross", "ema_cross")]
        same = sum(int(res[k][3]) == int(ours_t[k]) for k in cross)
        add(
            rows,
            (
                case,
                "vectorbt loop",
                t_vbt,
                f"{250 / t_vbt:,.0f} bt/s; ours "
                f"{t_vbt / t_ours:.1f}x; crossover trade counts equal in {same}/{len(cross)}",
            ),
        )
        vbt_universe_wide(frames)
        t_wide = timeit(lambda: vbt_universe_wide(frames))
        add(
            rows,
            (
                case,
                "vectorbt wide",
                t_wide,
                f"50 symbols as columns, one run per strategy; ours {t_wide / t_ours:.1f}x",
            ),
        )
    if not missing["backtesting"]:
        n = 5 if args.quick else 50
        some = dict(list(frames.items())[:n])
        t0 = time.perf_counter()
        for name, p in STRATEGIES.items():
            for df in some.values():
                bt_run(df, name, p)
        t_bt = (time.perf_counter() - t0) * 50 / n
        note = f"ours {t_bt / t_ours:.0f}x" + (
            f" (extrapolated from {n} symbols)" if n < 50 else ""
        )
        add(rows, (case, "backtesting.py loop", t_bt, note))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="backtesting.py on 5 symbols in (g)")
    ap.add_argument("--cases", default="fg", help="which cases to run (default: fg)")
    args = ap.parse_args()
    missing = {m: have(m) for m in ("vectorbt", "backtesting")}
    for m, why in missing.items():
        if why:
            print(f"skipping {m}: {why}")
    rows: list[tuple[str, str, float, str]] = []
    import chatops_widget.engine  # noqa: F401  (imports outside the timings)

    if "f" in args.cases:
        case_f(args, missing, rows)
    if "g" in args.cases:
        case_g(args, missing, rows)
    print(f"\n{'case':<40} {'engine':<20} {'seconds':>9}  notes")
    for case, engine, secs, note in rows:
        print(f"{case:<40} {engine:<20} {secs:>9.4f}  {note}")
    print(f"\nload average at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
