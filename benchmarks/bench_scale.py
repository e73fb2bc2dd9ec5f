"""Scale benchmark (issue 16): a folder of many intraday symbols, big uploads, sweeps on every
core and on Dask, a universe comparison -- ours next to vectorbt where it applies, in one run.

(a) ``chatops-widget serve`` on a folder of N symbols x M bars of Parquet (written here): time
    until it answers, its RSS (server + workers), the first backtest of one symbol; next to
    reading every file eagerly with pandas (what the catalog did before it was lazy).
(b) ``client.upload_data`` of a U-bar frame over loopback (chunked): MB/s of Arrow bytes.
(c) the 1,225-pair sma_cross sweep (windows 5, 7, ..., 103) on S bars with 1 and 2 local
    workers (``engine.sweep(workers=)``), each in a fresh process: time, speedup, peak RSS;
    next to vectorbt looped over the fast windows (``MA.run_combs`` would need 1,225 x S
    floats at once), extrapolated from the first few fast windows.
(d) the same sweep through the server on a Dask ``LocalCluster`` of 1 and 2 worker processes
    (``CHATOPS_JOBS=dask``, ``CHATOPS_DASK_SCHEDULER``; bars read by the workers from Parquet).
(e) 5 strategies x 100 symbols of 2,520 daily bars: ``compare_universe`` vs a vectorbt loop.

Sizes default to what fits in ~8 minutes on a shared 2-core box; ``--full`` is the issue's
(100 x 1M bars, 1M-bar upload and sweep: ~5 GB of disk and far longer). Data is generated.

Reproduce:
    python benchmarks/bench_scale.py            # the default sizes (see the printed header)
    python benchmarks/bench_scale.py --full     # the issue's sizes
    python benchmarks/bench_scale.py --symbols 100 --bars 200000 --sweep-bars 50000
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_engine import COMMISSION, WINDOWS, have, synthetic, vbt_pf

ROOT = Path(__file__).resolve().parents[1]
PAIRS = [(f, s) for f in WINDOWS for s in WINDOWS if f < s]
GRID = {"fast": WINDOWS, "slow": WINDOWS}


def _rss_tree(pid: int) -> float:
    import psutil

    proc = psutil.Process(pid)
    return sum(p.memory_info().rss for p in [proc, *proc.children(recursive=True)]) / 2**20


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_folder(folder: Path, symbols: int, bars: int) -> float:
    folder.mkdir(parents=True, exist_ok=True)
    base = synthetic(bars, seed=1)
    for i in range(symbols):
        path = folder / f"S{i:03d}.parquet"
        if not path.exists():
            df = base * (1 + i / 1000)  # cheap distinct prices, same shape
            df.index.name = "Date"
            df.to_parquet(path, row_group_size=65_536)
    return sum(p.stat().st_size for p in folder.glob("*.parquet")) / 2**30


def case_a_b(args, rows: list[str], work: Path) -> None:
    from chatops_widget import ChatOpsClient

    data_dir = work / "serve"
    gb = write_folder(data_dir / "data", args.symbols, args.bars)
    rows.append(f"(a) folder: {args.symbols} symbols x {args.bars:,} bars, {gb:.2f} GB Parquet")
    port, token = _free_port(), "bench-scale"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "chatops_widget", "serve", "--port", str(port), "--token", token,
         "--data-dir", str(data_dir)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), 0.2):
                    break
            except OSError:
                time.sleep(0.02)
        started = time.perf_counter() - t0
        client = ChatOpsClient(url, token, timeout=300)
        client.create_session()
        listed = time.perf_counter() - t0
        rss = _rss_tree(proc.pid)
        t = time.perf_counter()
        run = client.trigger_backtest("sma_cross", symbol="S007", fast=10, slow=30).result(600)
        first = time.perf_counter() - t
        rss_after = _rss_tree(proc.pid)
        rows.append(
            f"(a) ours: server answers in {started:.2f} s (client joined at {listed:.2f} s), "
            f"RSS {rss:.0f} MB; first backtest {first:.2f} s ({int(run.stats['num_trades'])} "
            f"trades), RSS then {rss_after:.0f} MB"
        )
        t = time.perf_counter()
        upload = synthetic(args.upload_bars, seed=3)
        from chatops_widget._serialization import to_arrow_bytes

        size = len(to_arrow_bytes(upload)) / 2**20
        marks: list[float] = []

        def progress(got: int, total: int) -> None:
            marks.append(time.perf_counter())

        dt = wire = float("inf")
        for i in range(3):  # best of 3 (the box is shared)
            marks.clear()
            t = time.perf_counter()
            ack = client.upload_data("UPBIG", upload, progress=progress, overwrite=i > 0)
            dt = min(dt, time.perf_counter() - t)
            wire = min(wire, marks[-1] - marks[0])  # uploadStart acked .. last chunk acked
        rows.append(
            f"(b) ours, best of 3: upload_data of {ack['bars']:,} bars ({size:.1f} MB Arrow) "
            f"in {dt:.2f} s "
            f"end to end = {size / dt:.0f} MB/s; the chunks alone {wire:.2f} s = "
            f"{size / wire:.0f} MB/s; the rest is the kernel's check + Arrow encoding and the "
            "server's validation + Parquet write"
        )
        client.close()
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # its own process group: the workers too
        proc.wait(30)
    t = time.perf_counter()
    frames = [pd.read_parquet(p) for p in sorted((data_dir / "data").glob("S*.parquet"))]
    eager = time.perf_counter() - t
    mb = sum(f.memory_usage(deep=True).sum() for f in frames) / 2**20
    rows.append(f"(a) eager pandas read of every file: {eager:.2f} s, {mb:.0f} MB of frames")
    del frames


def _peak_mb() -> float:
    """This process's peak RSS in MB: ``VmHWM`` (``ru_maxrss`` survives ``exec``, so a child
    started by a big parent would report the parent's size)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _sweep_child(bars: int, workers: int) -> None:
    from chatops_widget.engine import sweep

    df = synthetic(bars)
    sweep(synthetic(2_000), "sma_cross", {"fast": [5], "slow": [20]})  # warm-up
    t = time.perf_counter()
    table = sweep(df, "sma_cross", GRID, commission=COMMISSION, workers=workers)
    dt = time.perf_counter() - t
    peak = _peak_mb()
    print(json.dumps({"seconds": dt, "rows": len(table), "peak_mb": peak}))


def case_c(args, rows: list[str], missing: list[str]) -> dict[int, float]:
    out = {}
    for workers in (1, 2):
        res = subprocess.run(
            [sys.executable, __file__, "--sweep-child", str(args.sweep_bars), str(workers)],
            capture_output=True, text=True, check=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
        )  # fmt: skip
        got = json.loads(res.stdout.strip().splitlines()[-1])
        out[workers] = got["seconds"]
        rows.append(
            f"(c) ours, {workers} local worker(s): {got['rows']:,} pairs on {args.sweep_bars:,} "
            f"bars in {got['seconds']:.2f} s, peak RSS {got['peak_mb']:.0f} MB"
        )
    rows.append(f"(c) ours: speedup 2 vs 1 workers {out[1] / out[2]:.2f}x")
    if have("vectorbt") is None:
        df = synthetic(args.sweep_bars)
        vbt_pf(df.iloc[:2000], WINDOWS[:2], WINDOWS[:2], combos=False)  # numba warm-up
        sample = WINDOWS[: args.vbt_windows]
        t, pairs = time.perf_counter(), 0
        for f in sample:
            slows = [s for s in WINDOWS if s > f]
            vbt_pf(df, [f] * len(slows), slows, combos=False)
            pairs += len(slows)
        dt = time.perf_counter() - t
        est = dt / pairs * len(PAIRS)
        rows.append(
            f"(c) vectorbt looped over fast windows: {pairs} pairs in {dt:.2f} s -> "
            f"~{est:.1f} s for {len(PAIRS):,} (ours 1 worker: {est / out[1]:.1f}x faster)"
        )
    else:
        missing.append("vectorbt")
    return out


def case_d(args, rows: list[str], work: Path) -> None:
    import distributed

    from chatops_widget import ChatOpsClient
    from chatops_widget.server import EmbeddedServer, standard_plugins

    data_dir = work / "dask"
    (data_dir / "data").mkdir(parents=True, exist_ok=True)
    df = synthetic(args.sweep_bars)
    df.index.name = "Date"
    df.to_parquet(data_dir / "data" / "SWEEP.parquet", row_group_size=65_536)
    times = {}
    for n in (1, 2):
        with distributed.LocalCluster(
            n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None,
            env={"PYTHONPATH": str(ROOT)},
        ) as cluster:  # fmt: skip
            os.environ["CHATOPS_JOBS"] = "dask"
            os.environ["CHATOPS_DASK_SCHEDULER"] = cluster.scheduler_address
            srv = EmbeddedServer(data_dir=data_dir, plugins=standard_plugins(assistant=False))
            srv.start()
            try:
                client = ChatOpsClient(srv.url, srv.token, timeout=600)
                client.create_session()
                client.sweep("sma_cross", "SWEEP", fast=[5, 7], slow=[20])  # warm the workers
                t = time.perf_counter()
                table = client.sweep("sma_cross", "SWEEP", timeout=1200, **GRID)
                times[n] = time.perf_counter() - t
                client.close()
            finally:
                srv.stop()
        rows.append(
            f"(d) ours on Dask LocalCluster, {n} worker process(es): {len(table):,} pairs on "
            f"{args.sweep_bars:,} bars in {times[n]:.2f} s"
        )
    os.environ.pop("CHATOPS_JOBS", None)
    os.environ.pop("CHATOPS_DASK_SCHEDULER", None)
    rows.append(f"(d) ours on Dask: speedup 2 vs 1 workers {times[1] / times[2]:.2f}x")


def case_e(args, rows: list[str], missing: list[str]) -> None:
    from bench_research import ours_universe, universe_data, vbt_universe_loop

    frames = universe_data(args.universe, 2520)
    ours_universe({k: frames[k] for k in list(frames)[:2]})  # warm-up
    t = time.perf_counter()
    ours_universe(frames)
    ours = time.perf_counter() - t
    rows.append(f"(e) ours compare_universe 5 strategies x {args.universe} symbols: {ours:.2f} s")
    if have("vectorbt") is None:
        vbt_universe_loop({k: frames[k] for k in list(frames)[:1]})  # warm-up
        t = time.perf_counter()
        vbt_universe_loop(frames)
        peer = time.perf_counter() - t
        rows.append(f"(e) vectorbt loop over pairs: {peer:.2f} s (ours {peer / ours:.1f}x faster)")
    else:
        missing.append("vectorbt")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--full", action="store_true", help="the issue's sizes")
    p.add_argument("--symbols", type=int, default=100)
    p.add_argument("--bars", type=int, default=100_000, help="bars per symbol in (a)")
    p.add_argument("--upload-bars", type=int, default=1_000_000)
    p.add_argument("--sweep-bars", type=int, default=20_000)
    p.add_argument("--vbt-windows", type=int, default=3, help="fast windows vectorbt runs")
    p.add_argument("--universe", type=int, default=100)
    p.add_argument("--only", default="abcde", help="which cases, e.g. 'ab'")
    p.add_argument("--sweep-child", nargs=2, type=int, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.sweep_child:
        _sweep_child(*args.sweep_child)
        return
    if args.full:
        args.bars = args.sweep_bars = args.upload_bars = 1_000_000
    rows: list[str] = []
    missing: list[str] = []
    print(f"bench_scale: {os.cpu_count()} cores; sizes {vars(args)}", flush=True)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        work = Path(tmp)
        for case, fn in (
            ("a", lambda: case_a_b(args, rows, work)),
            ("c", lambda: case_c(args, rows, missing)),
            ("d", lambda: case_d(args, rows, work)),
            ("e", lambda: case_e(args, rows, missing)),
        ):
            if case in args.only or (case == "a" and "b" in args.only):
                start = len(rows)
                fn()
                print("\n".join(rows[start:]), flush=True)
    if missing:
        print(f"skipped peers (not installed): {sorted(set(missing))}")
    print(f"total {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
