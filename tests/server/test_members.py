"""``host.members(session_id)``: the connections in a session's room, on the real server.

The assistant uses it to tell a one-person session from a shared one. With Redis (several
servers as one) each server counts only its own connections.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest
import socketio
from _support import free_port

from chatops_widget.server import EmbeddedServer


@pytest.fixture(scope="module")
def bare_server(tmp_path_factory):
    srv = EmbeddedServer(data_dir=tmp_path_factory.mktemp("members"), plugins=[]).start()
    yield srv
    srv.stop()


def test_members_counts_connections_in_the_room(bare_server, raw_client_cls, arun, wait_until):
    host = bare_server.server
    sid = "session_members1"

    async def scenario():
        assert host.members(sid) == 0
        a = await raw_client_cls(bare_server.url, bare_server.token).connect()
        assert host.members(sid) == 0  # connected, not joined
        assert (await a.call("joinSession", {"sessionId": sid}))["ok"]
        assert host.members(sid) == 1
        assert (await a.call("joinSession", {"sessionId": sid}))["ok"]  # again: still one
        assert host.members(sid) == 1
        b = await raw_client_cls(bare_server.url, bare_server.token).connect()
        assert (await b.call("joinSession", {"sessionId": sid}))["ok"]
        assert host.members(sid) == 2 and host.members("session_other") == 0
        assert (await b.call("leaveSession", {"sessionId": sid}))["ok"]
        assert host.members(sid) == 1
        assert (await b.call("joinSession", {"sessionId": sid}))["ok"]
        await b.close()
        wait_until(lambda: host.members(sid) == 1, 10)  # a disconnect leaves the room
        await a.close()
        wait_until(lambda: host.members(sid) == 0, 10)

    arun(scenario(), timeout=60)


@pytest.fixture
def redis_url(tmp_path, wait_until):
    exe = shutil.which("redis-server")
    assert exe, "redis-server is missing: `apt-get install redis-server` (.ci/setup does it)"
    port = free_port()
    proc = subprocess.Popen(
        [exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    import redis

    def up() -> bool:
        try:
            return redis.Redis(port=port).ping()
        except redis.ConnectionError:
            return False

    wait_until(up, 20)
    yield f"redis://127.0.0.1:{port}/0"
    proc.kill()
    proc.wait(10)


def test_with_redis_each_server_counts_its_own_connections(
    tmp_path, redis_url, raw_client_cls, arun
):
    data = tmp_path / "shared"
    servers = [
        EmbeddedServer(data_dir=data, token="t", plugins=[],
                       client_manager=socketio.AsyncRedisManager(redis_url)).start()
        for _ in range(2)
    ]  # fmt: skip
    sid = "session_members_redis"
    try:

        async def scenario():
            a = await raw_client_cls(servers[0].url, "t").connect()
            b = await raw_client_cls(servers[1].url, "t").connect()
            for c in (a, b):
                assert (await c.call("joinSession", {"sessionId": sid}))["ok"]
            # the session has two people, but each server sees one: its own
            assert [s.server.members(sid) for s in servers] == [1, 1]
            ack = await a.call("sendMessage", {"sessionId": sid, "content": "hi from one"})
            assert ack["ok"]
            await b.wait_event("message", lambda m: m["content"] == "hi from one")
            await a.close()
            await b.close()

        arun(scenario(), timeout=60)
    finally:
        for s in servers:
            s.stop()
