"""A completed run's result is durable before ``completed`` is announced (issue 11, item 1).

- ``kill -9`` of the server the moment ``completed`` arrives loses nothing: after a restart
  ``getResult`` returns the result and ``getRuns`` lists the run as completed;
- a full disk when a run finishes fails the run visibly (``storage``), never "completed" and
  then gone;
- a run in flight when the server dies is marked failed at restart, with a note in the chat.
"""

from __future__ import annotations

import asyncio
import os
import signal

from reliability._harness import Serve, fill
from reliability._peers import Peer

SWEEP = "/sweep sma_cross symbol=ALPHA fast=2:100:1 slow=20:220:2"  # 20 chunks, ~1 s


async def _kill_on_completed(srv: Serve, peer: Peer, session: str, text: str, run_id: str):
    """Run ``text`` and SIGKILL the server (group) inside the ``completed`` event's handler."""
    killed = asyncio.Event()

    def on_progress(data):
        peer.events.append(("backtestProgress", data))
        if data.get("runId") == run_id and data.get("status") == "completed":
            os.killpg(srv.pid, signal.SIGKILL)
            killed.set()

    peer.sio.on("backtestProgress", on_progress)
    ack = await peer.call("executeCommand", {"sessionId": session, "command": text})
    assert ack["ok"], ack
    await asyncio.wait_for(killed.wait(), 60)


def test_a_result_survives_a_kill_right_after_completed(serve, arun):
    srv = serve()
    rounds = 3
    session = "session_durable"

    async def one(i: int) -> None:
        peer = await Peer(srv.url).connect()
        await peer.join(session)
        text = f"/run_backtest strategy_{1 + i % 2} run_id=run_durable{i}"
        await _kill_on_completed(srv, peer, session, text, f"run_durable{i}")
        await peer.close()

    for i in range(rounds):
        arun(one(i))
        srv.proc.wait(30)
        srv.kills += 1
        srv.start()

    async def check():
        peer = await Peer(srv.url).connect()
        await peer.join(session)
        found = {}
        for i in range(rounds):
            ack = await peer.call("getResult", {"sessionId": session, "runId": f"run_durable{i}"})
            found[f"run_durable{i}"] = ack
        runs = await peer.call("getRuns", {"sessionId": session})
        await peer.close()
        return found, runs

    found, runs = arun(check())
    lost = [r for r, ack in found.items() if not ack.get("ok")]
    assert not lost, f"{len(lost)} of {rounds} completed runs lost after kill -9: {found[lost[0]]}"
    for ack in found.values():
        assert ack["kind"] == "backtest" and set(ack["frames"]) >= {"equity", "trades"}
        assert len(ack["equity"]) > 0
    status = {r["runId"]: r["status"] for r in runs["runs"]}
    assert all(status.get(f"run_durable{i}") == "completed" for i in range(rounds)), status
    print(f"\ndurability: {rounds} kill -9 in the completed handler; {rounds} results kept")


def test_a_full_disk_when_a_run_finishes_fails_the_run_visibly(serve, small_fs, arun):
    fs = small_fs("24m")
    srv = serve(fs / "data")
    session = "session_fullrun"
    ballast = fs / "ballast"

    async def go():
        peer = await Peer(srv.url).connect()
        await peer.join(session)
        text = SWEEP + " run_id=run_full"
        ack = await peer.call("executeCommand", {"sessionId": session, "command": text})
        assert ack["ok"], ack
        await peer.wait_event(
            "backtestProgress", lambda e: e["runId"] == "run_full" and e["status"] == "running"
        )
        fill(ballast)  # the disk is full before the run finishes
        res = await peer.wait_event("commandResult", lambda r: r["command"] == text, timeout=60)
        completed = [
            e for e in peer.of("backtestProgress")
            if e["runId"] == "run_full" and e["status"] == "completed"
        ]  # fmt: skip
        await peer.close()
        return res, completed

    res, completed = arun(go(), 90)
    ballast.unlink()
    srv.restart()

    async def after():
        peer = await Peer(srv.url).connect()
        await peer.join(session)
        ack = await peer.call("getResult", {"sessionId": session, "runId": "run_full"})
        await peer.close()
        return ack

    stored = arun(after())
    if res["ok"]:  # it had the space after all: then the result must have been kept
        assert stored["ok"], f"run_full was reported completed and then lost: {stored}"
    else:
        assert res["error"]["code"] == "storage", res["error"]
        assert "disk" in res["error"]["message"] and "full" in res["error"]["message"]
        assert not completed, "a run that could not be stored was announced completed"


def test_a_run_in_flight_at_a_crash_is_marked_failed_with_a_chat_note(serve, arun):
    srv = serve()
    session = "session_inflight"

    async def go():
        peer = await Peer(srv.url).connect()
        await peer.join(session)
        for i in range(3):  # one running, two queued behind it
            text = SWEEP + f" run_id=run_inflight{i}"
            ack = await peer.call("executeCommand", {"sessionId": session, "command": text})
            assert ack["ok"], ack
        await peer.wait_event(
            "backtestProgress",
            lambda e: e["runId"] == "run_inflight0" and e["status"] == "running",
        )
        await peer.close()

    arun(go())
    srv.restart()

    async def after():
        peer = await Peer(srv.url).connect()
        ack = await peer.join(session)
        runs = await peer.call("getRuns", {"sessionId": session})
        await peer.close()
        return ack, runs

    ack, runs = arun(after())
    status = {r["runId"]: r for r in runs["runs"]}
    for i in range(3):
        run = status.get(f"run_inflight{i}")
        assert run is not None, f"run_inflight{i} vanished from getRuns after the crash: {status}"
        assert run["status"] == "failed", run
    notes = [
        m for m in ack["messages"] if m["role"] == "system" and "run_inflight0" in m["content"]
    ]
    assert notes, "no chat note about the runs the crash interrupted"
    assert "restart" in notes[0]["content"].lower(), notes[0]
