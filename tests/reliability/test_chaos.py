"""Chaos: ``kill -9`` of ``chatops-widget serve`` under load and with runs completing (issue 11,
"Done when": >= 2 kills; nothing acked is lost, completed results survive).

Three kernel clients (``ChatOpsClient``: reconnects, re-joins, queues sends while the server is
away, retries with a ``clientMessageId``) chat in one session, up to 10 messages in flight each,
and start a backtest every 15 messages. The server is killed with SIGKILL (its whole process
group, as a crash would) three times and restarted on the same port and data dir: in the very
handler of a ``completed`` event, shortly after another run completed (others in flight, chat
going on), and at the end. Then: every message the clients sent is stored exactly once (acked,
or queued while the server was down and sent later), ``seq`` has no gaps, and every run anybody
saw completed still has its result.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections import deque

from reliability._harness import TOKEN
from reliability._peers import Peer

from chatops_widget import ChatOpsClient

CLIENTS = 3
MIN_MESSAGES = 60  # per client, at least
IN_FLIGHT = 10
RUN_EVERY = 15


def test_kill_9_under_load_loses_nothing_acked_and_keeps_completed_results(serve, arun):
    srv = serve()
    clients = [ChatOpsClient(srv.url, TOKEN, timeout=60) for _ in range(CLIENTS)]
    lock = threading.Lock()
    completed: list[str] = []
    kill_on_completed = threading.Event()
    killed_on_completed = threading.Event()
    stop = threading.Event()
    sent = [0] * CLIENTS
    futures: list[tuple[str, object]] = []
    errors: list[tuple[str, str]] = []

    def on_progress(event: dict) -> None:
        if event.get("status") != "completed":
            return
        with lock:
            if event["runId"] not in completed:
                completed.append(event["runId"])
            if kill_on_completed.is_set():
                kill_on_completed.clear()
                os.killpg(srv.pid, signal.SIGKILL)
                killed_on_completed.set()

    def send(k: int) -> None:
        c, window = clients[k], deque()
        i = 0
        while i < MIN_MESSAGES or not stop.is_set():
            text = f"c{k} m{i:04d}"
            fut = c.send_message(text, block=False)
            window.append((text, fut))
            with lock:
                futures.append((text, fut))
            if i % RUN_EVERY == RUN_EVERY - 1:
                c.execute_command(f"/run_backtest strategy_1 run_id=run_c{k}_{i}", block=False)
            i += 1
            sent[k] = i
            if len(window) >= IN_FLIGHT:  # wait for the oldest ack (queued while down)
                text, oldest = window.popleft()
                try:
                    oldest.result(90)
                except Exception as exc:
                    errors.append((text, repr(exc)))
            time.sleep(0.03)

    def restart() -> None:
        srv.proc.wait(30)
        time.sleep(0.3)  # down for a moment: sends queue up in the clients
        srv.start()

    def completions_after(n: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while len(completed) <= n:
            assert time.monotonic() < deadline, f"no run completed within {timeout} s"
            time.sleep(0.01)

    try:
        session = clients[0].create_session("chaos")
        for c in clients[1:]:
            c.join_session(session)
        for c in clients:
            c.on("backtestProgress", on_progress)
        threads = [threading.Thread(target=send, args=(k,), daemon=True) for k in range(CLIENTS)]
        for t in threads:
            t.start()
        # kill 1: inside the handler of the first "completed" event
        kill_on_completed.set()
        assert killed_on_completed.wait(60), "no run completed to kill the server on"
        srv.kills += 1
        restart()
        # kill 2: soon after a run completed on the restarted server, with more in flight
        completions_after(len(completed), 60)
        time.sleep(0.2)
        srv.kill()
        restart()
        completions_after(len(completed), 60)  # and the next restart runs them again
        stop.set()
        for t in threads:
            t.join(120)
        for text, fut in futures:
            try:
                fut.result(90)
            except Exception as exc:
                errors.append((text, repr(exc)))
        results = [(text, fut.result(0)) for text, fut in futures if fut.exception(0) is None]
        # the runs of the last round finish; then kill 3: everything at rest must be on disk
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            runs = clients[0].runs
            if not len(runs) or not runs["status"].isin(["queued", "running"]).any():
                break
            time.sleep(0.2)
        with lock:
            seen_completed = list(completed)
    finally:
        stop.set()
        for c in clients:
            c.close()
    srv.kill()
    srv.start()

    async def check():
        peer = await Peer(srv.url).connect()
        join = await peer.join(session)
        fetched = {}
        for run_id in seen_completed:
            fetched[run_id] = await peer.call("getResult", {"sessionId": session, "runId": run_id})
        await peer.close()
        return join, fetched

    join, fetched = arun(check(), 60)
    assert srv.kills >= 3
    assert not errors, f"{len(errors)} sends failed: {errors[:3]}"
    stored = join["messages"]
    assert [m["seq"] for m in stored] == list(range(1, len(stored) + 1)), "seq has gaps"
    chat = [m for m in stored if m["role"] == "user" and not m["metadata"].get("command")]
    assert all(m["metadata"].get("sender") for m in chat)  # who sent it (identity at connect)
    texts = [m["content"] for m in chat]
    wanted = [f"c{k} m{i:04d}" for k in range(CLIENTS) for i in range(sent[k])]
    assert len(wanted) >= CLIENTS * MIN_MESSAGES
    twice = sorted({t for t in texts if texts.count(t) > 1})
    assert not twice, f"{len(twice)} messages stored twice, e.g. {twice[:3]}"
    lost = sorted(set(wanted) - set(texts))
    assert not lost, f"{len(lost)} of {len(wanted)} messages lost, e.g. {lost[:3]}"
    ids = {m["id"] for m in stored}
    assert all(msg["id"] in ids for _, msg in results), "an acked message id is not stored"
    assert len(seen_completed) >= 3, seen_completed
    gone = [r for r, ack in fetched.items() if not ack.get("ok")]
    assert not gone, (
        f"{len(gone)} of {len(fetched)} completed runs lost their result after kill -9: "
        f"{gone[:5]}; e.g. {fetched[gone[0]]}"
    )
    print(
        f"\nchaos: {srv.kills} kills, {len(wanted)} messages, {len(seen_completed)} completed "
        "runs; nothing lost"
    )
