"""``getSessions``: the stored sessions, newest first, for the panel's Sessions menu."""

from __future__ import annotations

import uuid


def test_get_sessions_lists_names_and_last_seq_newest_first(demo_server, raw_client_cls, arun):
    async def scenario():
        tag = uuid.uuid4().hex[:8]
        ids = [f"session_list_{tag}_{i}" for i in range(3)]
        c = await raw_client_cls(demo_server.url, demo_server.token).connect()
        for i, sid in enumerate(ids):
            ack = await c.call("joinSession", {"sessionId": sid, "name": f"research {i}"})
            assert ack["ok"], ack
        for text in ("one", "two"):
            await c.call("sendMessage", {"sessionId": ids[1], "content": text})

        ack = await c.call("getSessions", None)  # no payload: the default listing
        assert ack["ok"], ack
        mine = [s for s in ack["sessions"] if s["id"] in ids]
        assert [s["id"] for s in mine] == ids[::-1]  # newest first
        assert [s["name"] for s in mine] == ["research 2", "research 1", "research 0"]
        assert [s["lastSeq"] for s in mine] == [0, 2, 0]
        assert all(s["createdAt"].startswith("20") for s in mine)
        assert ack["total"] >= 3

        one = await c.call("getSessions", {"limit": 1})
        assert len(one["sessions"]) == 1 and one["sessions"][0]["id"] == ids[-1]
        for bad, fragment in (({"limit": 0}, "limit"), ({"x": 1}, "unknown field"), ([], "object")):
            ack = await c.call("getSessions", bad)
            assert not ack["ok"] and ack["error"]["code"] == "bad_request", ack
            assert fragment in ack["error"]["message"]
        await c.close()

    arun(scenario())
