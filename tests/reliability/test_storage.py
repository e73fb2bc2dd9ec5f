"""A full disk and a read-only data dir (issue 11, items 2 and 3), on small filesystems the tests
make themselves (root only, as in CI).

- Full disk (tmpfs ``size=``): ``sendMessage`` says "the server's disk is full" (code
  ``storage``, not ``internal``), everything acked before is kept, and once space returns the
  server works again by itself.
- Read-only data dir (``chattr +i`` on an ext4 image: SQLite's memory-mapped shared-memory file
  then faults with SIGBUS): a clear ``storage`` error, the server stays up, and recovers when the
  dir is writable again; a server started on a read-only dir says so too.
"""

from __future__ import annotations

import asyncio
import subprocess

from reliability._harness import Serve, fill, reachable, tracebacks
from reliability._peers import Peer, wait_for

SESSION = "session_storage"


async def _send(peer: Peer, content: str) -> dict:
    """``sendMessage``, waiting out a ``rate_limited`` answer (this test sends fast)."""
    while True:
        ack = await peer.call("sendMessage", {"sessionId": SESSION, "content": content})
        if ack["ok"] or ack["error"]["code"] != "rate_limited":
            return ack
        await asyncio.sleep(ack["error"]["retryAfter"])


def _storage_error(ack: dict, *words: str) -> dict:
    assert ack.get("ok") is False, ack
    err = ack["error"]
    assert err["code"] == "storage", err
    for word in words:
        assert word in err["message"], err
    return err


def test_a_full_disk_says_so_keeps_what_was_acked_and_recovers(serve, small_fs, arun):
    fs = small_fs("12m")
    srv = serve(fs / "data")
    ballast = fs / "ballast"
    acked: list[str] = []

    async def go():
        peer = await Peer(srv.url).connect()
        await peer.join(SESSION)
        for i in range(5):
            ack = await _send(peer, f"before {i}")
            assert ack["ok"], ack
            acked.append(ack["message"]["id"])
        fill(ballast)
        refused = []
        for i in range(200):  # 800 kB: more than SQLite can squeeze into pages it already has
            ack = await _send(peer, f"full {i} " + "x" * 4000)
            if ack["ok"]:
                acked.append(ack["message"]["id"])
            else:
                refused.append(ack)
        assert refused, "200 messages of 4 kB fitted on a full disk"
        print(f"\nfull disk: {len(refused)} of 200 messages refused as storage")
        err = _storage_error(refused[0], "disk", "full")
        assert all(a["error"]["code"] == "storage" for a in refused), refused[:3]
        ballast.unlink()  # space is back: no restart needed
        for i in range(5):
            ack = await _send(peer, f"after {i}")
            assert ack["ok"], f"the server did not recover when space came back: {ack}"
            acked.append(ack["message"]["id"])
        await peer.close()
        return err

    arun(go(), 120)
    assert srv.alive
    assert not tracebacks(srv.log), tracebacks(srv.log)[0]
    srv.restart()  # and everything acked is on disk

    async def history():
        peer = await Peer(srv.url).connect()
        ack = await peer.join(SESSION)
        await peer.close()
        return ack["messages"]

    messages = arun(history())
    ids = [m["id"] for m in messages]
    assert len(ids) == len(set(ids))
    missing = [i for i in acked if i not in set(ids)]
    assert not missing, f"{len(missing)} acked messages lost"


def _chattr(flag: str, path) -> None:
    subprocess.run(["chattr", "-R", flag, str(path)], check=True)
    subprocess.run(["sync", "-f", str(path)], check=True)  # write back: pages are read-only now


def test_a_read_only_data_dir_is_a_storage_error_and_the_server_stays_up(serve, small_fs, arun):
    fs = small_fs("32m", kind="ext4")
    srv = serve(fs / "data")

    async def go():
        peer = await Peer(srv.url).connect()
        await peer.join(SESSION)
        for i in range(3):
            ack = await peer.call("sendMessage", {"sessionId": SESSION, "content": f"before {i}"})
            assert ack["ok"], ack
        _chattr("+i", srv.data_dir)
        acks = []
        for event, payload in [
            ("sendMessage", {"sessionId": SESSION, "content": "while read-only"}),
            ("joinSession", {"sessionId": SESSION, "lastSeq": 0}),
            ("joinSession", {"sessionId": "session_new_while_ro"}),
            ("executeCommand", {"sessionId": SESSION, "command": "/status"}),
        ]:
            acks.append(await peer.call(event, payload, timeout=10))
            assert srv.alive, f"the server died ({srv.proc.returncode}) on {event}"
        _storage_error(acks[0], "read-only")
        for ack in acks[1:]:
            assert ack["ok"] or ack["error"]["code"] == "storage", ack
        assert reachable(srv.url)
        _chattr("-i", srv.data_dir)

        async def writable_again() -> bool:
            ack = await peer.call("sendMessage", {"sessionId": SESSION, "content": "after"})
            return ack["ok"]

        ok = False
        for _ in range(50):  # recovers by itself, within a few seconds
            ok = await writable_again()
            if ok:
                break
            await wait_for(lambda: True, 0.1)
        await peer.close()
        return ok

    recovered = arun(go(), 90)
    assert srv.alive, f"the server died with {srv.proc.returncode}:\n{srv.log[-2000:]}"
    assert recovered, "the server did not recover once the data dir was writable again"
    assert not tracebacks(srv.log), tracebacks(srv.log)[0]


def test_a_server_started_on_a_read_only_data_dir_says_so(serve, small_fs, arun):
    fs = small_fs("32m", kind="ext4")
    first = serve(fs / "data")

    async def seed():
        peer = await Peer(first.url).connect()
        await peer.join(SESSION)
        ack = await peer.call("sendMessage", {"sessionId": SESSION, "content": "stored"})
        assert ack["ok"], ack
        await peer.close()

    arun(seed())
    first.kill()
    _chattr("+i", first.data_dir)
    srv: Serve = serve(fs / "data", run=False)
    try:
        srv.start()
    except AssertionError:  # refusing to start is fine if it says why
        assert "read-only" in srv.log, srv.log[-2000:]
        return

    async def go():
        peer = await Peer(srv.url).connect()
        acks = [
            await peer.call("joinSession", {"sessionId": SESSION, "lastSeq": 0}),
            await peer.call("sendMessage", {"sessionId": SESSION, "content": "x"}),
        ]
        await peer.close()
        return acks

    join, send = arun(go(), 60)
    assert srv.alive, f"the server died with {srv.proc.returncode}"
    assert join["ok"] or join["error"]["code"] == "storage", join
    _storage_error(send if join["ok"] else join, "read-only")
    assert not tracebacks(srv.log), tracebacks(srv.log)[0]
