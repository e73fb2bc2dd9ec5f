"""Engine benchmark: chatops_widget.engine vs vectorbt vs backtesting.py, side by side.

(a) one sma_cross(10, 30) backtest on 1,000,000 synthetic bars;
(b) a sweep of all 1,225 sma_cross pairs of windows 5, 7, ..., 103 (fast < slow) on 10,000 bars
    (vectorbt timed warm, after a JIT run; backtesting.py timed on a subset and extrapolated);
(c) a fresh process doing import + first backtest on backtesting.py's GOOG.csv (wall, peak RSS).

All three use the same model: signal on bar t's close, fill at bar t+1's open, all-in, same
commission. Every peer computes the same headline stats (total return, Sharpe, max drawdown,
number of trades, win rate). Peers missing from the environment are reported and skipped.

Reproduce (see benchmarks/README.md for the venv):
    python benchmarks/bench_engine.py            # full run, prints a table and ratios
    python benchmarks/bench_engine.py --quick    # smaller (a) for the pure-Python peer
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

os.environ.setdefault("TQDM_DISABLE", "1")  # backtesting.py's progress bars, here and in children

COMMISSION = 0.001
WINDOWS = list(range(5, 104, 2))  # 50 windows -> 1,225 pairs


def synthetic(n: int, seed: int = 7, freq: str = "min") -> pd.DataFrame:
    """Deterministic GBM-style OHLCV with n bars."""
    rng = np.random.default_rng(seed)
    lr = rng.normal(0.0, 0.001 if freq == "min" else 0.015, n)
    close = 100.0 * np.exp(np.cumsum(lr))
    open_ = close * np.exp(rng.normal(0.0, 0.0003, n))
    high = np.maximum(open_, close) * 1.001
    low = np.minimum(open_, close) * 0.999
    idx = pd.date_range("2000-01-03", periods=n, freq=freq if freq == "min" else "B")
    vol = np.full(n, 1000.0)
    return pd.DataFrame(
        {"Open": open_, "High": high, "Low": low, "Close": close, "Volume": vol}, index=idx
    )


def timeit(fn, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


# ---------------------------------------------------------------- our engine
def ours_one(df):
    from chatops_widget.engine import backtest

    r = backtest(df, "sma_cross", {"fast": 10, "slow": 30}, commission=COMMISSION)
    return r.stats["total_return"], int(r.stats["num_trades"])


def ours_sweep(df):
    from chatops_widget.engine import sweep

    t = sweep(df, "sma_cross", {"fast": WINDOWS, "slow": WINDOWS}, commission=COMMISSION)
    return t


# ---------------------------------------------------------------- vectorbt
def vbt_pf(df, fast_w, slow_w, combos: bool, parts: dict | None = None):
    import vectorbt as vbt

    t0 = time.perf_counter()
    close = df["Close"]
    if combos:
        fast, slow = vbt.MA.run_combs(close, window=fast_w, r=2, short_names=["fast", "slow"])
    else:
        fast = vbt.MA.run(close, fast_w, short_name="fast")
        slow = vbt.MA.run(close, slow_w, short_name="slow")
    entries = fast.ma_crossed_above(slow)
    exits = fast.ma_crossed_below(slow)
    t1 = time.perf_counter()
    # decided on close t, filled at open t+1 (same model as ours)
    pf = vbt.Portfolio.from_signals(
        close,
        entries.vbt.fshift(1, fill_value=False),
        exits.vbt.fshift(1, fill_value=False),
        price=df["Open"],
        fees=COMMISSION,
        init_cash=1_000_000.0,
        freq="1D" if combos else "1min",
    )
    t2 = time.perf_counter()
    stats = {
        "total_return": pf.total_return(),
        "sharpe": pf.sharpe_ratio(),
        "max_drawdown": pf.max_drawdown(),
        "num_trades": pf.trades.count(),
        "win_rate": pf.trades.win_rate(),
    }
    if parts is not None:
        for key, dt in (
            ("signals", t1 - t0),
            ("simulation", t2 - t1),
            ("stats", time.perf_counter() - t2),
        ):
            parts[key] = min(parts.get(key, float("inf")), dt)
    return pf, stats


# ---------------------------------------------------------------- backtesting.py
def bt_run(df, fast_w, slow_w):
    from backtesting import Backtest, Strategy
    from backtesting.lib import crossover

    def sma(x, n):
        return pd.Series(x).rolling(n).mean().to_numpy()

    class SmaCross(Strategy):
        def init(self):
            self.f = self.I(sma, self.data.Close, fast_w)
            self.s = self.I(sma, self.data.Close, slow_w)

        def next(self):
            if crossover(self.f, self.s):
                self.position.close()
                self.buy()
            elif crossover(self.s, self.f):
                self.position.close()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bt = Backtest(df, SmaCross, cash=1e12, commission=COMMISSION, finalize_trades=True)
        return bt.run()


def have(mod: str) -> str | None:
    try:
        __import__(mod)
        return None
    except Exception as e:
        return f"{type(e).__name__}: {e}"


COLD = {
    "ours": (
        "import pandas as pd; import chatops_widget.engine as e; "
        "df = pd.read_csv(GOOG_CSV, index_col=0, parse_dates=True); "
        "r = e.backtest(df, 'sma_cross', {'fast': 10, 'slow': 20}); s = r.stats"
    ),
    "backtesting.py": (
        "import pandas as pd; from backtesting import Backtest, Strategy; "
        "from backtesting.lib import crossover\n"
        "df = pd.read_csv(GOOG_CSV, index_col=0, parse_dates=True)\n"
        "sma = lambda x, n: pd.Series(x).rolling(n).mean().to_numpy()\n"
        "class S(Strategy):\n"
        "    def init(self):\n"
        "        self.f = self.I(sma, self.data.Close, 10)\n"
        "        self.s = self.I(sma, self.data.Close, 20)\n"
        "    def next(self):\n"
        "        if crossover(self.f, self.s): self.position.close(); self.buy()\n"
        "        elif crossover(self.s, self.f): self.position.close()\n"
        "import warnings; warnings.simplefilter('ignore')\n"
        "s = Backtest(df, S, cash=1e7, finalize_trades=True).run()"
    ),
    "vectorbt": (
        "import pandas as pd; import vectorbt as vbt\n"
        "df = pd.read_csv(GOOG_CSV, index_col=0, parse_dates=True)\n"
        "c = df['Close']; f = vbt.MA.run(c, 10); s = vbt.MA.run(c, 20)\n"
        "pf = vbt.Portfolio.from_signals(c, f.ma_crossed_above(s).vbt.fshift(1, fill_value=False),"
        " f.ma_crossed_below(s).vbt.fshift(1, fill_value=False), price=df['Open'], freq='1D')\n"
        "x = (pf.total_return(), pf.sharpe_ratio(), pf.max_drawdown(), pf.trades.count())"
    ),
}
# VmHWM: this process's peak resident set (ru_maxrss would include the forking parent's pages)
_RSS = (
    "\nprint('RSS_KB', [l.split()[1] for l in open('/proc/self/status') "
    "if l.startswith('VmHWM')][0])"
)


def cold(name: str, goog_csv: str, repeat: int) -> tuple[float, float]:
    code = f"GOOG_CSV = {goog_csv!r}\n" + COLD[name] + _RSS
    walls, rss = [], []
    for _ in range(repeat):
        t = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout
        walls.append(time.perf_counter() - t)
        rss.append(int(out.split("RSS_KB")[-1]) / 1024)
    return statistics.median(walls), max(rss)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="(a) with 200k bars for backtesting.py")
    ap.add_argument("--bt-sweep-sample", type=int, default=12, help="backtesting.py combos timed")
    ap.add_argument("--cold-repeat", type=int, default=5)
    args = ap.parse_args()

    missing = {m: have(m) for m in ("vectorbt", "backtesting")}
    for m, why in missing.items():
        if why:
            print(f"!! {m} unavailable, skipped: {why}")
    import numpy
    import pandas

    print(
        f"python {sys.version.split()[0]}, numpy {numpy.__version__}, pandas "
        f"{pandas.__version__}, {os.cpu_count()} CPUs"
    )
    if not missing["vectorbt"]:
        import vectorbt

        print(f"vectorbt {vectorbt.__version__}")
    rows = []

    # (a) one backtest on 1M bars
    big = synthetic(1_000_000)
    ours_one(big.iloc[:5000])  # import + first call outside the timing
    t_ours = timeit(lambda: ours_one(big))
    rows.append(("a: 1 backtest, 1M bars", "ours", t_ours, ""))
    if not missing["vectorbt"]:
        vbt_pf(big.iloc[:5000], 10, 30, combos=False)  # JIT
        t_vbt = timeit(lambda: vbt_pf(big, 10, 30, combos=False))
        rows.append(("a: 1 backtest, 1M bars", "vectorbt", t_vbt, f"ours {t_vbt / t_ours:.1f}x"))
    if not missing["backtesting"]:
        nb = 200_000 if args.quick else len(big)
        t_bt = timeit(lambda: bt_run(big.iloc[:nb], 10, 30), repeat=1) * len(big) / nb
        note = f"ours {t_bt / t_ours:.0f}x" + (" (extrapolated from 200k)" if args.quick else "")
        rows.append(("a: 1 backtest, 1M bars", "backtesting.py", t_bt, note))

    # (b) sweep of 1,225 pairs on 10k bars
    mid = synthetic(10_000, seed=11, freq="B")
    table = ours_sweep(mid)
    assert len(table) == 1225, len(table)
    t_ours = timeit(lambda: ours_sweep(mid))
    rows.append(("b: sweep 1,225 pairs, 10k bars", "ours", t_ours, f"{1225 / t_ours:,.0f} bt/s"))
    if not missing["vectorbt"]:
        _, st = vbt_pf(mid, WINDOWS, None, combos=True)  # JIT warm-up
        parts: dict = {}
        t_vbt = timeit(lambda: vbt_pf(mid, WINDOWS, None, combos=True, parts=parts))
        rows.append(
            (
                "b: sweep 1,225 pairs, 10k bars",
                "vectorbt",
                t_vbt,
                f"{1225 / t_vbt:,.0f} bt/s; ours {t_vbt / t_ours:.1f}x",
            )
        )
        sim = parts["simulation"]
        rows.append(
            (
                "b: sweep 1,225 pairs, 10k bars",
                "vbt sim only",
                sim,
                f"from_signals alone (signals {parts['signals']:.2f}s, stats "
                f"{parts['stats']:.2f}s excluded); ours {sim / t_ours:.1f}x",
            )
        )
        # same trades?  vectorbt counts an open position as a trade too
        ours_n = table.set_index(["fast", "slow"])["num_trades"]
        vbt_n = st["num_trades"]
        vbt_n.index = vbt_n.index.set_names(["fast", "slow"])
        agree = (ours_n.reindex(vbt_n.index).to_numpy() == vbt_n.to_numpy()).mean()
        print(f"(b) trade counts equal to vectorbt's for {agree:.1%} of the 1,225 pairs")
    if not missing["backtesting"]:
        k = args.bt_sweep_sample
        pairs = [(f, s) for f in WINDOWS for s in WINDOWS if f < s][:: 1225 // k][:k]
        t = time.perf_counter()
        for f, s in pairs:
            bt_run(mid, f, s)
        t_bt = (time.perf_counter() - t) / len(pairs) * 1225
        rows.append(
            (
                "b: sweep 1,225 pairs, 10k bars",
                "backtesting.py",
                t_bt,
                f"extrapolated from {len(pairs)}; ours {t_bt / t_ours:.0f}x",
            )
        )

    # (c) fresh process: import + first backtest on GOOG
    import backtesting

    goog = str(Path(backtesting.__file__).parent / "test" / "GOOG.csv")
    res = {}
    for name in ("ours", "backtesting.py", "vectorbt"):
        if name != "ours" and missing["vectorbt" if name == "vectorbt" else "backtesting"]:
            continue
        res[name] = cold(name, goog, args.cold_repeat)
    for name, (wall, rss) in res.items():
        note = f"peak RSS {rss:.0f} MB"
        if name != "ours":
            note += f"; ours takes {res['ours'][0] / wall:.2f}x the wall time"
        rows.append(("c: fresh import + 1st backtest (GOOG)", name, wall, note))

    w = max(len(r[0]) for r in rows)
    print(f"\n{'case':<{w}}  {'engine':<15} {'seconds':>10}  notes")
    for case, eng, sec, note in rows:
        print(f"{case:<{w}}  {eng:<15} {sec:>10.4f}  {note}")


if __name__ == "__main__":
    main()
