"""Transport benchmark: what the ChatOps layer adds on top of socket.io, and Arrow vs JSON.

One run starts, on this machine, (1) a bare python-socketio echo server and (2) the real ChatOps
server (``python -m chatops_widget serve``), each in its own process under uvicorn with the same
settings, and measures from this process:

a. the raw socket.io round trip (emit + ack of a small payload, python-socketio AsyncClient);
b. ``/run_backtest``: command sent -> result DataFrames in the kernel (``ChatOpsClient.
   trigger_backtest(...).result()``), minus the engine's own time (reported by the worker), as a
   multiple of (a). Target <= 5x (the floor is two round trips: the command and getResult);
c. a 1M-row result (DatetimeIndex + 4 float columns, an equity curve) fetched from the bare server
   as Arrow IPC bytes vs as JSON lists, each decoded to a DataFrame. Target: Arrow >= 5x faster;
   and, for reference, the same size fetched end to end from the ChatOps server (a 1M-bar
   backtest's equity via ``client.results``);
d. chat round trips (sendMessage) while a long sweep runs, with the server's jobs in worker
   processes (the default) vs in threads (``CHATOPS_JOBS=thread``).

Run:  python benchmarks/bench_transport.py [--runs 30]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROWS = 1_000_000
PATH = "/ws/chatops"


def big_frame(rows: int = ROWS) -> pd.DataFrame:
    """An equity-curve-like frame: minute DatetimeIndex, equity/returns/drawdown/position."""
    rng = np.random.default_rng(7)
    idx = pd.date_range("2000-01-03", periods=rows, freq="min", name="Date")
    eq = 1e6 * np.exp(np.cumsum(rng.normal(0, 1e-4, rows)))
    peak = np.maximum.accumulate(eq)
    return pd.DataFrame(
        {
            "equity": eq,
            "returns": np.r_[0.0, eq[1:] / eq[:-1] - 1],
            "drawdown": eq / peak - 1,
            "position": rng.integers(-1, 2, rows).astype("float64"),
        },
        index=idx,
    )


def big_ohlcv(rows: int = ROWS) -> pd.DataFrame:
    rng = np.random.default_rng(11)
    idx = pd.date_range("2000-01-03", periods=rows, freq="min", name="Date")
    close = 100 * np.exp(np.cumsum(rng.normal(0, 5e-4, rows)))
    open_ = np.r_[close[0], close[:-1]]
    return pd.DataFrame(
        {
            "Open": open_,
            "High": np.maximum(open_, close) * 1.0005,
            "Low": np.minimum(open_, close) * 0.9995,
            "Close": close,
            "Volume": rng.integers(100, 10_000, rows).astype("float64"),
        },
        index=idx,
    )


# ---------------------------------------------------------------------- the bare echo server


def echo_server(port: int) -> None:
    """A bare python-socketio server: ``echo`` and ``frame`` (1M rows as arrow or json)."""
    import socketio
    import uvicorn

    from chatops_widget._serialization import to_arrow_bytes, to_json_table

    df = big_frame()
    stored = {"arrow": to_arrow_bytes(df), "json": to_json_table(df)}
    sio = socketio.AsyncServer(async_mode="asgi", cors_allowed_origins=[])

    @sio.on("echo")
    async def echo(sid, data):
        return data

    @sio.on("frame")
    async def frame(sid, fmt):
        return {"ok": True, "fmt": fmt, "data": stored[fmt]}

    app = socketio.ASGIApp(sio, socketio_path=PATH.strip("/"))
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        loop="asyncio",
        ws="websockets-sansio",
    )


# ---------------------------------------------------------------------- helpers


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"port {port} did not open")


def med(xs: list[float]) -> float:
    return statistics.median(xs)


async def raw_rtt(url: str, n: int, token: str | None = None, gap: float = 0.0) -> list[float]:
    """``n`` echo round trips, back to back (``gap=0``) or one every ``gap`` s."""
    import socketio

    c = socketio.AsyncClient(websocket_extra_options={"max_msg_size": 0})
    await c.connect(
        url, transports=["websocket"], socketio_path=PATH, auth={"token": token} if token else None
    )
    out = []
    for i in range(n + 50):
        if gap:
            await asyncio.sleep(gap)
        t0 = time.perf_counter()
        await c.call("echo", {"i": i, "text": "ping"})
        if i >= 50:
            out.append(time.perf_counter() - t0)
    await c.disconnect()
    return out


async def fetch_frames(url: str, n: int) -> dict[str, list[float]]:
    import socketio

    from chatops_widget._serialization import from_arrow_bytes, from_json_table

    c = socketio.AsyncClient(websocket_extra_options={"max_msg_size": 0})
    await c.connect(url, transports=["websocket"], socketio_path=PATH)
    times: dict[str, list[float]] = {"arrow": [], "json": []}
    for _ in range(n):
        for fmt in ("arrow", "json"):
            t0 = time.perf_counter()
            ack = await c.call("frame", fmt, timeout=300)
            df = from_arrow_bytes(ack["data"]) if fmt == "arrow" else from_json_table(ack["data"])
            times[fmt].append(time.perf_counter() - t0)
            assert len(df) == ROWS
    await c.disconnect()
    return times


# ---------------------------------------------------------------------- main


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=30, help="backtests to time (default 30)")
    ap.add_argument("--frames", type=int, default=3, help="1M-row fetches per format")
    args = ap.parse_args()

    from chatops_widget import ChatOpsClient, engine

    data_dir = Path(tempfile.mkdtemp(prefix="bench-transport-"))
    (data_dir / "data").mkdir()
    big_ohlcv().to_parquet(data_dir / "data" / "BIG.parquet")
    echo_port, chat_port, token = free_port(), free_port(), "bench-token"
    procs = [
        subprocess.Popen([sys.executable, __file__, "--echo-server", str(echo_port)]),
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "chatops_widget",
                "serve",
                "--port",
                str(chat_port),
                "--token",
                token,
                "--data-dir",
                str(data_dir),
            ],
            stdout=subprocess.DEVNULL,
        ),
    ]
    try:
        wait_port(echo_port, procs[0])
        wait_port(chat_port, procs[1])
        echo_url, chat_url = f"http://127.0.0.1:{echo_port}", f"http://127.0.0.1:{chat_port}"
        rtt = asyncio.run(raw_rtt(echo_url, 300))
        rtt_med = med(rtt)
        print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
        print(
            f"(a) raw socket.io round trip (bare echo server): median {rtt_med * 1e3:.3f} ms, "
            f"p90 {np.percentile(rtt, 90) * 1e3:.3f} ms over {len(rtt)}"
        )
        paced = med(asyncio.run(raw_rtt(echo_url, 100, gap=0.02)))
        print(
            f"    for context, one echo every 20 ms (paced like the backtests in (b), so caches "
            f"and idle cores are cold): median {paced * 1e3:.3f} ms"
        )

        with ChatOpsClient(chat_url, token, timeout=120) as client:
            client.create_session("bench")
            for _ in range(5):  # warm the worker pool
                client.trigger_backtest("strategy_1").result(timeout=60)
            kernel_rtt = []
            for i in range(230):  # a small request/ack from a notebook thread, for context
                t0 = time.perf_counter()
                client.call("getStrategies", {"sessionId": client.current_session_id})
                if i >= 30:
                    kernel_rtt.append(time.perf_counter() - t0)
            print(
                f"(a') kernel client round trip (ChatOpsClient.call, small ack, ChatOps server): "
                f"median {med(kernel_rtt) * 1e3:.3f} ms"
            )
            total, eng, over = [], [], []
            for i in range(args.runs):
                t0 = time.perf_counter()
                run = client.trigger_backtest("strategy_1", fast=5 + i % 20)
                res = run.result(timeout=60)
                dt = time.perf_counter() - t0
                assert len(res.equity) > 0
                total.append(dt)
                eng.append(run.meta["engineSeconds"])
                over.append(dt - run.meta["engineSeconds"])
            df = engine.sample_catalog().get("ALPHA")
            local = []
            for _ in range(10):
                t0 = time.perf_counter()
                engine.backtest(df, "sma_cross", {"fast": 10, "slow": 30})
                local.append(time.perf_counter() - t0)
            ratio = med(over) / rtt_med
            print(
                f"(b) /run_backtest strategy_1 (2,608 bars), {args.runs} runs: total median "
                f"{med(total) * 1e3:.2f} ms, engine {med(eng) * 1e3:.2f} ms (in-process "
                f"{med(local) * 1e3:.2f} ms), overhead {med(over) * 1e3:.2f} ms = "
                f"{ratio:.1f}x the raw round trip (target <= 5x); {med(over) / paced:.1f}x the "
                "paced one"
            )

            frames = asyncio.run(fetch_frames(echo_url, args.frames))
            arrow, js = med(frames["arrow"]), med(frames["json"])
            print(
                f"(c) 1M-row frame from the bare server: Arrow {arrow * 1e3:.0f} ms, JSON "
                f"{js * 1e3:.0f} ms -> Arrow {js / arrow:.1f}x faster (target >= 5x)"
            )

            run = client.trigger_backtest("buy_and_hold", symbol="BIG")
            run.wait(timeout=300)
            t0 = time.perf_counter()
            res = client.results[run.run_id]
            fetch = time.perf_counter() - t0
            assert len(res.equity) == ROWS
            print(
                f"    1M-row backtest result from the ChatOps server (getResult, Arrow, "
                f"equity + trades + stats): {fetch * 1e3:.0f} ms"
            )
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(10)
    chat_during_sweep(data_dir)


def chat_during_sweep(data_dir: Path) -> None:
    """(d) Chat latency while a long sweep runs, jobs in processes vs in threads."""
    from chatops_widget import ChatOpsClient

    grid = {"fast": range(2, 101), "slow": range(10, 111), "short": [True, False]}
    for mode in ("process", "thread"):
        port = free_port()
        env = {**os.environ, "CHATOPS_JOBS": mode}
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "chatops_widget",
                "serve",
                "--port",
                str(port),
                "--token",
                "t",
                "--data-dir",
                str(data_dir / mode),
            ],
            stdout=subprocess.DEVNULL,
            env=env,
        )
        try:
            wait_port(port, proc)
            with ChatOpsClient(f"http://127.0.0.1:{port}", "t", timeout=120) as client:
                client.create_session(f"chat-{mode}")
                client.trigger_backtest("strategy_5").result(timeout=120)  # workers are up
                idle = [_send(client) for _ in range(30)]
                run = client.sweep("sma_cross", "ALPHA", block=False, **grid)
                busy = []
                while not run.done:
                    busy.append(_send(client))
                run.wait(300)
                print(
                    f"(d) chat round trip, jobs in {mode} mode: idle median "
                    f"{med(idle) * 1e3:.1f} ms; during a 16k-combination sweep median "
                    f"{med(busy) * 1e3:.1f} ms, max {max(busy) * 1e3:.1f} ms "
                    f"({len(busy)} messages)"
                )
        finally:
            proc.terminate()
            proc.wait(10)


def _send(client) -> float:
    t0 = time.perf_counter()
    client.send_message("ping")
    return time.perf_counter() - t0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--echo-server":
        echo_server(int(sys.argv[2]))
    else:
        main()
