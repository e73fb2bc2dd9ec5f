"""Several servers as one: python-socketio's AsyncRedisManager relays session broadcasts.

Two real ``chatops-widget serve`` processes share a data dir and a real Redis (Debian's
redis-server, started here on a free port); a client on each joins the same session.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest
from _support import free_port

from chatops_widget import ChatOpsClient


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


def test_two_servers_share_sessions_through_redis(tmp_path, redis_url, cli_server, wait_until):
    token, data = "scale-token", tmp_path / "shared-data"
    ports = [free_port(), free_port()]
    for port in ports:
        cli_server(port, token, data, "--redis-url", redis_url)
    a = ChatOpsClient(f"http://127.0.0.1:{ports[0]}", token)
    b = ChatOpsClient(f"http://127.0.0.1:{ports[1]}", token)
    try:
        session = a.create_session("shared")
        b.join_session(session)
        a.send_message("from server one")
        b.send_message("from server two")

        def users(c: ChatOpsClient) -> list[str]:
            return c.history.query("role == 'user'")["content"].tolist()

        def ids(c: ChatOpsClient) -> list[str]:
            return c.history["id"].tolist()

        # each server's assistant may answer too: wait until both hold the same messages
        expected = ["from server one", "from server two"]
        wait_until(lambda: users(a) == users(b) == expected and ids(a) == ids(b), 30)
        # one sequence per session across both servers (they share the SQLite store)
        history = a.history  # once: an assistant's reply may arrive between two reads
        assert history["seq"].tolist() == list(range(1, len(history) + 1))
    finally:
        a.close()
        b.close()
