"""Rule strategies through the server vs the template they equal, side by side in one run.

The stored rule strategy ``x`` (``crosses_above(ema($fast), ema($slow))`` /
``crosses_below(...)``, ``where="$fast < $slow"``) against the ``ema_cross`` template: the same
strategy, so any difference is the cost of the rule path -- the rule dict stored in SQLite,
parsed again on the server (validation) and in every worker task, evaluated by the rule
evaluator. Measured from the kernel client (command sent -> DataFrame decoded), alternately so
that load from other jobs hits both alike (best of ``--repeat`` each):

- (a) one backtest, ``trigger_backtest("x")`` vs ``trigger_backtest("ema_cross")`` (12/26, ALPHA);
- (b) a sweep of 2,268 pairs (fast 2..50, slow 10..210 by 4) on ALPHA;
- (c) the same sweep with ``stop_loss=0.05`` (the path-dependent model).

Checks that every row of the rule sweep equals the template's. Run:
``python benchmarks/bench_rule_commands.py [--repeat 5]``.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import numpy as np

from chatops_widget import ChatOpsClient
from chatops_widget.server import EmbeddedServer, standard_plugins

GRID = {"fast": list(range(2, 51)), "slow": list(range(10, 211, 4))}
RULE = {"entry": "crosses_above(ema($fast), ema($slow))",
        "exit": "crosses_below(ema($fast), ema($slow))", "where": "$fast < $slow"}  # fmt: skip


def _timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    srv = EmbeddedServer(data_dir=tempfile.mkdtemp(), plugins=standard_plugins(assistant=False))
    srv.start()
    c = ChatOpsClient(srv.url, srv.token, timeout=60)
    try:
        c.create_session("bench-rules")
        c.create_strategy(name="x", fast=12, slow=26, **RULE)
        cases = {
            "(a) backtest": lambda t: c.trigger_backtest(t, symbol="ALPHA").result(300),
            "(b) sweep": lambda t: c.sweep(t, "ALPHA", **GRID),
            "(c) sweep + stop_loss": lambda t: c.sweep(t, "ALPHA", stop_loss=0.05, **GRID),
        }
        for run in cases.values():  # warm: workers have the data, imports are done
            run("x"), run("ema_cross")
        times: dict[str, dict[str, list[float]]] = {k: {"x": [], "ema_cross": []} for k in cases}
        last: dict[str, object] = {}
        for _ in range(args.repeat):
            for name, run in cases.items():
                for target in ("x", "ema_cross"):
                    dt, last[f"{name} {target}"] = _timed(lambda r=run, t=target: r(t))
                    times[name][target].append(dt)
        rule, tpl = last["(b) sweep x"], last["(b) sweep ema_cross"]
        keys = ["fast", "slow"]
        rule, tpl = rule.sort_values(keys).reset_index(drop=True), tpl.sort_values(keys)  # type: ignore[attr-defined]
        tpl = tpl.reset_index(drop=True)[rule.columns]
        same = np.allclose(rule.to_numpy(float), tpl.to_numpy(float), equal_nan=True)
        print(f"rows: {len(rule)}; rule rows equal the template's in every column: {same}")
        print(f"{'case':<24}{'rule x':>10}{'ema_cross':>12}{'ratio':>8}{'median ratio':>14}   "
              f"(best s of {args.repeat}; the median ratio beside it)")  # fmt: skip
        for name, by in times.items():
            a, b = min(by["x"]), min(by["ema_cross"])
            med = statistics.median(by["x"]) / statistics.median(by["ema_cross"])
            print(f"{name:<24}{a:>10.3f}{b:>12.3f}{a / b:>7.2f}x{med:>13.2f}x")
    finally:
        c.close()
        srv.stop()


if __name__ == "__main__":
    main()
