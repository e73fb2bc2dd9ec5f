"""Worker processes that crash (issue 11, items 8, 9 and 11).

- A crash loop (every new worker killed with SIGSEGV right after it starts) must not leave the
  pool broken for good: it backs off, keeps trying, recovers once workers can live again, and
  says so in the chat.
- A run whose worker dies under it once is retried and completes; a run that cannot get a live
  worker fails as ``worker_died`` (a server fault, not ``bad_argument``), so the kernel raises
  ``RunFailed`` rather than ``ProtocolError``.
- A server killed with SIGKILL while its workers are busy leaves no ``BrokenPipeError``
  tracebacks from them.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time

import pytest
from reliability._harness import TOKEN, Serve, pid_alive, tracebacks
from reliability._peers import Peer, wait_for

from chatops_widget import ChatOpsClient
from chatops_widget.protocol import ProtocolError

SWEEP = "/sweep sma_cross symbol=ALPHA fast=2:100:1 slow=20:220:2"  # 20 chunks, ~1 s


def _kill(pid: int, sig: int) -> bool:
    try:
        os.kill(pid, sig)
        return True
    except ProcessLookupError:
        return False


async def _crash_loop(srv: Serve, kills_wanted: int, quiet_for: float = 3.0) -> int:
    """SIGSEGV every worker the moment it shows up, until ``kills_wanted`` died or no new one
    appeared for ``quiet_for`` s. Returns the number of workers killed."""
    killed: set[int] = set()
    last_new = time.monotonic()
    while len(killed) < kills_wanted and time.monotonic() - last_new < quiet_for:
        for pid in srv.worker_pids():
            if pid not in killed and _kill(pid, signal.SIGSEGV):
                killed.add(pid)
                last_new = time.monotonic()
        await asyncio.sleep(0.01)
    return len(killed)


def test_a_worker_crash_loop_backs_off_recovers_and_says_so_in_chat(serve, arun):
    srv = serve()

    async def go():
        peer = await Peer(srv.url).connect()
        await peer.join("session_crash")
        await wait_for(lambda: len(srv.worker_pids()) >= 2, 20)
        ack = await peer.call(
            "executeCommand", {"sessionId": "session_crash", "command": SWEEP + " run_id=run_c1"}
        )
        assert ack["ok"], ack
        await peer.wait_event("backtestProgress", lambda e: e["status"] == "running")
        killed = await _crash_loop(srv, kills_wanted=8)
        assert killed >= 4, f"only {killed} workers were started to be killed"
        failed = await peer.wait_event(
            "commandResult", lambda r: "run_id=run_c1" in r["command"], timeout=30
        )
        # workers can live again: within a bounded time a run completes
        outcome, t0 = None, time.monotonic()
        for attempt in range(40):
            text = f"/run_backtest strategy_1 run_id=run_r{attempt}"
            res = await peer.command("session_crash", text)
            if res["ok"]:
                outcome = res
                break
            assert res["error"]["code"] == "worker_died", res["error"]
            await asyncio.sleep(1.0)
        later = time.monotonic() - t0
        print(f"\ncrash loop: {killed} workers killed; a run completed {later:.1f} s later")
        notes = [
            m["content"]
            for m in peer.of("message")
            if m["role"] == "system" and "worker" in m["content"].lower()
        ]
        await peer.close()
        return failed, outcome, notes

    failed, outcome, notes = arun(go(), 120)
    assert failed["ok"] is False and failed["error"]["code"] == "worker_died", failed
    assert outcome is not None, "no run completed within 40 s after the crash loop stopped"
    assert notes, "the chat was never told that the workers crashed"
    assert srv.alive
    assert not [t for t in tracebacks(srv.log) if "BrokenPipeError" in t]


def test_a_run_whose_worker_dies_under_it_once_is_retried_and_completes(serve, arun):
    srv = serve()

    async def go():
        peer = await Peer(srv.url).connect()
        await peer.join("session_retry")
        clean = await peer.command("session_retry", SWEEP + " run_id=run_clean")
        assert clean["ok"], clean
        await wait_for(lambda: len(srv.worker_pids()) >= 2, 20)
        text = SWEEP + " run_id=run_dies"
        ack = await peer.call("executeCommand", {"sessionId": "session_retry", "command": text})
        assert ack["ok"], ack
        await peer.wait_event(
            "backtestProgress", lambda e: e["runId"] == "run_dies" and e["progress"] > 0
        )
        victim = srv.worker_pids()[0]
        assert _kill(victim, signal.SIGKILL)
        res = await peer.wait_event(
            "commandResult", lambda r: "run_id=run_dies" in r["command"], timeout=60
        )
        await peer.close()
        return clean, res

    clean, res = arun(go(), 120)
    assert res["ok"], f"the run failed instead of being retried: {res.get('error')}"
    assert res["summary"]["count"] == clean["summary"]["count"]
    assert res["summary"]["rows"][:5] == clean["summary"]["rows"][:5]


def test_a_run_without_live_workers_raises_run_failed_in_the_kernel(serve, arun):
    srv = serve()
    client = ChatOpsClient(srv.url, TOKEN)
    seen: list[dict] = []
    try:
        session = client.create_session()
        arun(wait_for(lambda: len(srv.worker_pids()) >= 2, 20))
        stop = False

        async def keep_killing():
            while not stop:
                for pid in srv.worker_pids():
                    _kill(pid, signal.SIGSEGV)
                await asyncio.sleep(0.01)

        async def scenario():
            nonlocal stop
            watcher = await Peer(srv.url).connect()  # sees the session's commandResult
            await watcher.join(session)
            killer = asyncio.ensure_future(keep_killing())
            try:
                await asyncio.sleep(3)  # the pool is in its crash loop now
                run = await asyncio.to_thread(
                    client.sweep,
                    "sma_cross",
                    "ALPHA",
                    block=False,
                    fast=range(2, 101),
                    slow=range(20, 221, 2),
                )
                await asyncio.to_thread(run.result, 60)
            finally:
                stop = True
                await killer
                seen.extend(watcher.of("commandResult"))
                await watcher.close()

        with pytest.raises(Exception) as info:
            arun(scenario(), 120)
    finally:
        client.close()
    exc = info.value
    assert not isinstance(exc, ProtocolError), f"a server fault raised ProtocolError: {exc!r}"
    assert type(exc).__name__ == "RunFailed", repr(exc)
    assert "worker" in str(exc).lower(), str(exc)
    (result,) = [r for r in seen if r["command"].startswith("/sweep")]
    assert result["error"]["code"] == "worker_died", result["error"]


def test_killing_the_server_while_workers_are_busy_leaves_no_broken_pipe_tracebacks(serve, arun):
    srv = serve()

    async def go():
        peers = [await Peer(srv.url).connect() for _ in range(3)]
        for p in peers:
            await p.join("session_pipe")
        await wait_for(lambda: len(srv.worker_pids()) >= 2, 20)
        for i, p in enumerate(peers):  # workers busy with short chunks back to back
            text = SWEEP + f" run_id=run_pipe{i}"
            await p.call("executeCommand", {"sessionId": "session_pipe", "command": text})
        await peers[0].wait_event("backtestProgress", lambda e: e["progress"] > 0, timeout=30)
        return srv.worker_pids()

    workers = arun(go(), 60)
    assert workers
    srv.kill(group=False)  # only the server: its workers notice and exit by themselves
    arun(wait_for(lambda: not any(pid_alive(p) for p in workers), 15))
    with contextlib.suppress(Exception):
        for p in workers:
            os.kill(p, signal.SIGKILL)
    found = [t for t in tracebacks(srv.log) if "BrokenPipe" in t or "EOFError" in t]
    assert not found, f"{len(found)} worker tracebacks after the kill; first:\n{found[0]}"
    assert "BrokenPipeError" not in srv.log
