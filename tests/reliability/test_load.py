"""Load: many clients in one session, every message delivered to all of them exactly once, in
one order (issue 11, "Done when": >= 20 clients x 100 messages).

Each client sends its messages one after another (waiting for each ack, retrying with the same
``clientMessageId`` after the hint if the server says ``rate_limited``) while every client
records the live ``message`` events. Then: every acked message is stored once; every client saw
every message of the session once, with ``seq`` 1..N without gaps, in the same order and with
the same content as everyone else; a late joiner's backlog is that same list; each sender's
messages keep its send order.
"""

from __future__ import annotations

import asyncio
import time
import uuid

from reliability._peers import Peer, wait_for

CLIENTS = 20
MESSAGES = 100
SESSION = "session_load"


async def _send_all(peer: Peer, k: int) -> list[dict]:
    acked = []
    for i in range(MESSAGES):
        payload = {
            "sessionId": SESSION,
            "content": f"c{k:02d} m{i:03d}",
            "clientMessageId": uuid.uuid4().hex,
        }
        for _attempt in range(50):
            ack = await peer.call("sendMessage", payload, timeout=30)
            if ack["ok"] or ack["error"]["code"] != "rate_limited":
                break
            await asyncio.sleep(float(ack["error"].get("retryAfter", 0.5)))
        assert ack["ok"], ack
        assert not ack["duplicate"], ack
        acked.append(ack["message"])
    return acked


def test_twenty_clients_times_a_hundred_messages_none_lost_none_twice_one_order(serve, arun):
    srv = serve()

    async def go():
        peers = [await Peer(srv.url).connect() for _ in range(CLIENTS)]
        for p in peers:
            await p.join(SESSION)
        t0 = time.monotonic()
        acked = await asyncio.gather(*(_send_all(p, k) for k, p in enumerate(peers)))
        elapsed = time.monotonic() - t0
        # the session settles (the assistant answers too); everyone catches up to its last seq
        last = -1
        while True:
            await asyncio.sleep(0.5)
            probe = await Peer(srv.url).connect()
            join = await probe.join(SESSION)
            await probe.close()
            if join["lastSeq"] == last:
                break
            last = join["lastSeq"]

        def caught_up() -> bool:
            return all(max((m["seq"] for m in p.of("message")), default=0) >= last for p in peers)

        await wait_for(caught_up, 30)
        seen = [[m for m in p.of("message")] for p in peers]
        for p in peers:
            await p.close()
        return acked, elapsed, join, seen

    acked, elapsed, join, seen = arun(go(), 170)
    stored = join["messages"]
    sent = [m for per in acked for m in per]
    assert len(sent) == CLIENTS * MESSAGES
    # stored once each
    by_id = {m["id"]: m for m in stored}
    assert len(by_id) == len(stored), "a stored message appears twice in the history"
    missing = [m for m in sent if m["id"] not in by_id]
    assert not missing, f"{len(missing)} acked messages are not in the history"
    user = [m["content"] for m in stored if m["role"] == "user"]
    assert len(user) == len(set(user)) == CLIENTS * MESSAGES, "a message was stored twice"
    # one order: seq 1..N, the same for the late joiner and for every live client
    assert [m["seq"] for m in stored] == list(range(1, len(stored) + 1))
    order = [(m["seq"], m["id"], m["content"]) for m in stored]
    for k, events in enumerate(seen):
        got = [(m["seq"], m["id"], m["content"]) for m in events]
        assert len(got) == len(set(got)), f"client {k} got a message twice"
        assert got == order, f"client {k} saw another order (or missed messages)"
    for per in acked:  # each sender's messages in its send order
        seqs = [m["seq"] for m in per]
        assert seqs == sorted(seqs)
    rate = len(sent) / elapsed
    print(
        f"\nload: {CLIENTS} clients x {MESSAGES} messages in {elapsed:.1f} s ({rate:.0f}/s acked)"
    )
