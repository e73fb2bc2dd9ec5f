"""Fan-out: many people chatting in one session, ChatOps (assistant on) vs a bare socket.io echo.

One run starts, each in its own process under uvicorn: (1) a bare python-socketio room echo
(``joinSession`` enters a room, ``sendMessage`` emits the message to the room and acks it -- no
storage, no assistant) and (2) the real ChatOps server (``python -m chatops_widget serve``, the
assistant on, offline parser) and, for context, (3) the same with ``CHATOPS_ASSISTANT=off``.

Against each, ``--clients`` raw python-socketio clients (spread over ``--procs`` processes, so
the clients are not the bottleneck) join one fresh session and each sends ``--messages`` chat
lines one after another (the next once the previous is acked). Measured: throughput (user
messages per second, from the start signal until every client has received every message),
acks' latency (p50, p99), messages lost (expected deliveries not received), assistant replies
received, and the server process's CPU time per message (which, unlike throughput, hardly
depends on what else the machine is running). The target: ChatOps with the assistant on
>= 0.9x the echo's throughput, 0 lost. In a shared session plain chat is not answered
(docs/assistant.md, "Who it answers"), so the assistant adds only the check of each line.

    python benchmarks/bench_fanout.py                   # 50 clients x 200 messages, 3 rounds
    python benchmarks/bench_fanout.py --rounds 5 --procs 5
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PATH = "/ws/chatops"
ECHO = "echo (bare python-socketio)"

#: What people say to each other: conversation the assistant must leave alone.
LINES = [
    "looks good to me, see you at the meeting",
    "did anyone check the numbers from this morning?",
    "lunch at noon?",
    "I think the drawdown is too deep for my taste",
    "the new data looks a bit off, can you double check",
    "점심 뭐 먹지?",
    "오늘 회의는 몇 시에 해요?",
    "agreed, let's talk about it tomorrow",
    "haha nice one",
    "sending the slides in a minute",
]


# ---------------------------------------------------------------------- the bare echo server


def echo_server(port: int) -> None:
    """A bare python-socketio room echo with the same events and settings as ChatOps."""
    import socketio
    import uvicorn

    sio = socketio.AsyncServer(async_mode="asgi", cors_allowed_origins=[], async_handlers=False)
    seq = {"n": 0}

    @sio.on("joinSession")
    async def join(sid, data):
        await sio.enter_room(sid, data["sessionId"])
        return {"ok": True, "sessionId": data["sessionId"], "messages": []}

    @sio.on("sendMessage")
    async def send(sid, data):
        seq["n"] += 1
        msg = {
            "id": f"msg_{seq['n']}",
            "sessionId": data["sessionId"],
            "role": "user",
            "content": data["content"],
            "seq": seq["n"],
            "metadata": {},
            "clientMessageId": data.get("clientMessageId"),
        }
        await sio.emit("message", msg, room=data["sessionId"])
        return {"ok": True, "message": msg}

    app = socketio.ASGIApp(sio, socketio_path=PATH.strip("/"))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", loop="asyncio",
                ws="websockets-sansio")  # fmt: skip


# ---------------------------------------------------------------------- client processes


def client_proc(
    index: int, n_clients: int, n_messages: int, total: int, url: str, token: str | None,
    session_id: str, ready: Any, start: Any, out: Any,
) -> None:  # fmt: skip
    """``n_clients`` clients in this process: join, wait for ``start``, send, count arrivals."""
    asyncio.run(_clients(index, n_clients, n_messages, total, url, token, session_id, ready,
                         start, out))  # fmt: skip


async def _clients(index, n_clients, n_messages, total, url, token, session_id, ready, start, out):
    import socketio

    loop = asyncio.get_running_loop()
    received = [0] * n_clients
    assistant = [0] * n_clients
    done_at = [0.0] * n_clients
    all_done = asyncio.Event()
    clients = []

    def handler(k: int):
        def on_message(msg: Any) -> None:
            if msg.get("role") == "user":
                received[k] += 1
                if received[k] == total:
                    done_at[k] = time.time()
                    if all(done_at):
                        all_done.set()
            else:
                assistant[k] += 1

        return on_message

    for k in range(n_clients):
        c = socketio.AsyncClient(reconnection=False)
        c.on("message", handler(k))
        await c.connect(url, auth={"token": token} if token else None, transports=["websocket"],
                        socketio_path=PATH, wait_timeout=30)  # fmt: skip
        ack = await c.call("joinSession", {"sessionId": session_id}, timeout=30)
        assert ack.get("ok"), ack
        clients.append(c)
    ready.put(index)
    await loop.run_in_executor(None, start.wait)
    latencies: list[float] = []
    errors = 0

    async def sender(k: int, c: Any) -> None:
        nonlocal errors
        for i in range(n_messages):
            line = LINES[(index * 7 + k * 3 + i) % len(LINES)]
            payload = {"sessionId": session_id, "content": f"{line} ({index}.{k}.{i})",
                       "clientMessageId": f"p{index}c{k}m{i}"}  # fmt: skip
            t0 = time.perf_counter()
            ack = await c.call("sendMessage", payload, timeout=120)
            latencies.append(time.perf_counter() - t0)
            if not ack.get("ok"):
                errors += 1

    await asyncio.gather(*(sender(k, c) for k, c in enumerate(clients)))
    sent_at = time.time()
    try:
        await asyncio.wait_for(all_done.wait(), 60)
    except asyncio.TimeoutError:
        pass
    await asyncio.sleep(0.5)  # late assistant replies (there should be none) are counted too
    for c in clients:
        await c.disconnect()
    out.put({
        "latencies": latencies, "received": received, "assistant": sum(assistant),
        "done_at": max(done_at) if all(done_at) else None, "sent_at": sent_at, "errors": errors,
    })  # fmt: skip


# ---------------------------------------------------------------------- one measurement


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) the process ``pid`` has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(url: str, token: str | None, pid: int, args: argparse.Namespace) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    ready, out, start = ctx.Queue(), ctx.Queue(), ctx.Event()
    session_id = f"session_fanout{secrets.token_hex(4)}"
    per = [args.clients // args.procs + (i < args.clients % args.procs) for i in range(args.procs)]
    total = args.clients * args.messages
    procs = [
        ctx.Process(
            target=client_proc,
            args=(i, n, args.messages, total, url, token, session_id, ready, start, out),
        )
        for i, n in enumerate(per)
    ]
    for p in procs:
        p.start()
    for _ in procs:
        ready.get(timeout=120)
    t0, cpu0 = time.time(), cpu_seconds(pid)
    start.set()
    results = [out.get(timeout=600) for _ in procs]
    cpu = cpu_seconds(pid) - cpu0
    for p in procs:
        p.join(30)
    lat = sorted(x for r in results for x in r["latencies"])
    received = sum(sum(r["received"]) for r in results)
    ends = [r["done_at"] for r in results]
    end = max(ends) if all(ends) else max(r["sent_at"] for r in results)
    wall = end - t0
    return {
        "wall": wall,
        "throughput": total / wall,
        "p50": lat[len(lat) // 2] * 1e3,
        "p99": lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1e3,
        "lost": total * args.clients - received,
        "assistant": sum(r["assistant"] for r in results),
        "errors": sum(r["errors"] for r in results),
        "cpu_per_msg": cpu / total * 1e3,  # ms of the server's CPU per message
    }


# ---------------------------------------------------------------------- servers


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


def start_servers(tmp: Path, token: str) -> tuple[dict[str, tuple[str, str | None, int]], list]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATOPS_")}
    env["PYTHONPATH"] = f"{ROOT}{os.pathsep}{env.get('PYTHONPATH', '')}"
    targets: dict[str, tuple[str, str | None, int]] = {}
    procs = []
    port = free_port()
    # every server in a session of its own: with the kernel's autogroup scheduling a process
    # shares its session's CPU share, and the clients' session must not hold one of them
    procs.append(subprocess.Popen([sys.executable, __file__, "--echo-server", str(port)], env=env,
                                  start_new_session=True))  # fmt: skip
    wait_port(port, procs[-1])
    targets[ECHO] = (f"http://127.0.0.1:{port}", None, procs[-1].pid)
    for name, extra in (("chatops, assistant on", {}), ("chatops, assistant off",
                                                        {"CHATOPS_ASSISTANT": "off"})):  # fmt: skip
        port = free_port()
        data = tmp / name.replace(" ", "_").replace(",", "")
        cmd = [sys.executable, "-m", "chatops_widget", "serve", "--port", str(port),
               f"--token={token}", "--data-dir", str(data)]  # fmt: skip
        procs.append(subprocess.Popen(cmd, env={**env, **extra}, cwd=ROOT, start_new_session=True,
                                      stdout=subprocess.DEVNULL))  # fmt: skip
        wait_port(port, procs[-1])
        targets[name] = (f"http://127.0.0.1:{port}", token, procs[-1].pid)
    return targets, procs


def stop(procs: list[subprocess.Popen]) -> None:
    import signal

    for p in procs:
        try:
            os.killpg(p.pid, signal.SIGTERM)  # the server and its worker processes
        except (ProcessLookupError, PermissionError):
            p.terminate()
    for p in procs:
        try:
            p.wait(15)
        except subprocess.TimeoutExpired:
            p.kill()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--messages", type=int, default=200, help="per client")
    ap.add_argument("--procs", type=int, default=5, help="client processes")
    ap.add_argument("--rounds", type=int, default=3, help="each target this often, alternating")
    args = ap.parse_args(argv)
    token = secrets.token_urlsafe(16)
    with tempfile.TemporaryDirectory() as tmp:
        targets, procs = start_servers(Path(tmp), token)
        rows: dict[str, list[dict[str, Any]]] = {name: [] for name in targets}
        try:
            time.sleep(5)  # let the servers' worker processes finish starting
            warm = argparse.Namespace(**{**vars(args), "messages": 5})
            for name in targets:  # untimed: connections, code paths and caches warm
                measure(*targets[name], warm)
            for r in range(args.rounds):
                order = list(targets) if r % 2 == 0 else list(reversed(targets))
                for name in order:
                    res = measure(*targets[name], args)
                    rows[name].append(res)
                    print(f"round {r + 1} {name:30s} {res['throughput']:8.0f} msg/s  "
                          f"p99 {res['p99']:6.1f} ms  lost {res['lost']}  "
                          f"assistant replies {res['assistant']}  server CPU "
                          f"{res['cpu_per_msg']:.2f} ms/msg  load {os.getloadavg()[0]:.1f}",
                          flush=True)  # fmt: skip
        finally:
            stop(procs)
    total = args.clients * args.messages
    print(f"\n{args.clients} clients x {args.messages} messages in one session "
          f"({total:,} messages, {total * args.clients:,} deliveries), {args.procs} client "
          f"processes; median of {args.rounds} rounds (ratio: median of each round's ratio to "
          "the echo of that round)")  # fmt: skip
    echo_rows = rows[ECHO]
    echo_cpu = statistics.median(x["cpu_per_msg"] for x in echo_rows)
    print(f"{'server':30s} {'msg/s':>8s} {'ratio':>6s} {'per round':>18s} {'p50 ack':>8s} "
          f"{'p99 ack':>8s} {'lost':>5s} {'replies':>7s} {'server CPU/msg':>15s}")  # fmt: skip
    for name, res in rows.items():
        tp = statistics.median(x["throughput"] for x in res)
        # each round's ratio against the echo of the same round (the load on a shared box moves)
        ratios = [x["throughput"] / e["throughput"] for x, e in zip(res, echo_rows, strict=True)]
        p50 = statistics.median(x["p50"] for x in res)
        p99 = statistics.median(x["p99"] for x in res)
        lost = sum(x["lost"] + x["errors"] for x in res)
        replies = sum(x["assistant"] for x in res)
        per = " ".join(f"{r:.2f}" for r in ratios)
        cpu = statistics.median(x["cpu_per_msg"] for x in res)
        print(f"{name:30s} {tp:8.0f} {statistics.median(ratios):5.2f}x {per:>18s} "
              f"{p50:6.1f}ms {p99:6.1f}ms {lost:5d} {replies:7d} {cpu:6.2f} ms "
              f"{cpu / echo_cpu:5.2f}x")  # fmt: skip
    print("\nserver CPU/msg: the server process's CPU time per message sent (fanned out to every "
          "client), and its ratio to the echo's; unlike msg/s it hardly moves with the load of "
          "a shared machine")  # fmt: skip
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--echo-server":
        echo_server(int(sys.argv[2]))
    else:
        sys.exit(main())
