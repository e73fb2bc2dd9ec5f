"""The kernel client against real servers: embedded, in-process, and a CLI server we SIGKILL."""

from __future__ import annotations

import asyncio
import os
import signal
import threading

import pytest
from _support import free_port, reachable

from chatops_widget import ChatOpsClient
from chatops_widget.protocol import ErrorCode, ProtocolError
from chatops_widget.server import EmbeddedServer


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = EmbeddedServer(data_dir=tmp_path_factory.mktemp("client-data"), plugins=[]).start()
    yield srv
    srv.stop()


@pytest.fixture
def client(server):
    c = ChatOpsClient(server.url, server.token)
    yield c
    c.close()


def test_send_and_history_dataframe(client):
    session = client.create_session("research")
    assert session.startswith("session_") and session[8:].isdigit()
    assert client.current_session_id == session and client.is_connected
    msg = client.send_message("hello")
    assert (msg["seq"], msg["role"], msg["content"]) == (1, "user", "hello")
    client.send_message("second")
    h = client.history
    assert list(h.columns[:6]) == ["seq", "id", "role", "content", "timestamp", "sender"]
    assert h["sender"].tolist() == [client.name] * 2
    assert h["seq"].tolist() == [1, 2] and h["content"].tolist() == ["hello", "second"]
    assert str(h["timestamp"].dt.tz) == "UTC"


def test_callbacks_fire_and_a_failing_callback_does_not_break_the_client(client, wait_until):
    seen: dict[str, list] = {"message": [], "commandResult": [], "error": []}
    for name, bucket in seen.items():
        client.on(name, bucket.append)
    client.on("message", lambda m: 1 / 0)  # logged, never raised
    client.create_session()
    client.send_message("ping")
    ack = client.execute_command("/help")
    assert ack["message"]["content"] == "/help"
    wait_until(lambda: seen["commandResult"] and seen["commandResult"][0]["ok"])
    assert seen["commandResult"][0]["summary"]["kind"] == "help"
    with pytest.raises(ProtocolError) as info:
        client.execute_command("/hepl")
    assert info.value.code == ErrorCode.UNKNOWN_COMMAND and "/help" in info.value.message
    wait_until(lambda: seen["error"])
    assert seen["error"][0]["code"] == "unknown_command"
    # user message, command text, the /help reply (assistant); in seq order, once each
    wait_until(lambda: len(seen["message"]) == 3)
    assert [m["seq"] for m in seen["message"]] == [1, 2, 3]
    assert seen["message"][2]["role"] == "assistant"
    client.off("message", seen["message"].append)
    client.send_message("unheard")
    wait_until(lambda: len(client.history) == 4)
    assert len(seen["message"]) == 3


def test_two_clients_share_a_session_and_a_late_joiner_gets_the_history(server, wait_until):
    with ChatOpsClient(server.url, server.token) as a, ChatOpsClient(server.url, server.token) as b:
        session = a.create_session()
        a.send_message("from a")
        ack = b.join_session(session)
        assert [m["content"] for m in ack["messages"]] == ["from a"]
        b.send_message("from b")
        wait_until(lambda: len(a.history) == 2)
        assert a.history["content"].tolist() == b.history["content"].tolist()
        b.leave_session()
        assert b.current_session_id is None
        a.send_message("b left")
        wait_until(lambda: len(a.history) == 3)
        assert len(b.history) == 2  # kept, but no longer growing


def test_url_with_token_query_and_refused_token(server):
    with ChatOpsClient(f"{server.url}/?token={server.token}") as c:
        assert c.is_connected and c.token == server.token
    with pytest.raises(ProtocolError) as info:
        ChatOpsClient(server.url, "wrong-token")
    assert info.value.code == ErrorCode.UNAUTHORIZED
    with pytest.raises(ValueError, match="no token"):
        ChatOpsClient(server.url)
    # a URL that is no server address says what one looks like (before any token talk)
    cases = [(8500, "the server's address as a string"), ("ftp://127.0.0.1:8500", "expected http")]
    for bad, said in [*cases, ("http://", "and a host")]:
        with pytest.raises(ValueError, match=said) as info:
            ChatOpsClient(bad, server.token)
        assert "http://127.0.0.1:8500" in str(info.value)


def test_blocking_call_from_a_callback_is_refused_not_deadlocked(client, wait_until):
    errors: list[BaseException] = []

    def callback(msg):
        try:
            client.send_message("nested")
        except RuntimeError as exc:
            errors.append(exc)

    client.on("message", callback)
    client.send_message("outer")
    wait_until(lambda: errors)
    assert "callback" in str(errors[0])
    fut = client.send_message("non-blocking", block=False)
    assert fut.result(timeout=20)["content"] == "non-blocking"


def test_no_url_starts_a_shared_embedded_server_and_the_last_close_stops_it(tmp_path, monkeypatch):
    monkeypatch.delenv("CHATOPS_URL", raising=False)
    monkeypatch.setenv("CHATOPS_DATA_DIR", str(tmp_path))

    def server_threads():
        return [t for t in threading.enumerate() if t.name == "chatops-embedded-server"]

    before = len(server_threads())
    client = ChatOpsClient()
    assert len(server_threads()) == before + 1
    url = client.url
    assert url.startswith("http://127.0.0.1:") and reachable(url)
    session = client.create_session()
    assert client.send_message("embedded")["seq"] == 1
    assert (tmp_path / "chatops.sqlite3").exists()
    # a second URL-less client in this process shares the server, so the sessions meet
    second = ChatOpsClient()
    assert second.url == url and len(server_threads()) == before + 1
    joined = second.join_session(session)["messages"]  # (the assistant may have answered)
    assert [m["content"] for m in joined if m["role"] == "user"] == ["embedded"]
    client.close()
    assert reachable(url) and second.send_message("still up")["seq"] > 1
    second.close()
    assert not reachable(url)
    assert len(server_threads()) == before


# ---------------------------------------------------------------- SIGKILL and restart


def test_client_survives_sigkill_and_restart_with_every_message_once(
    tmp_path, wait_until, cli_server
):
    port, token = free_port(), "sigkill-test-token"
    url = f"http://127.0.0.1:{port}"
    server = cli_server(port, token, tmp_path)
    client = ChatOpsClient(url, token, timeout=15)
    log: list[str] = []
    client.on("disconnect", lambda reason=None: log.append("disconnect"))
    client.on("connect", lambda: log.append("connect"))
    try:
        session = client.create_session()
        for i in range(3):
            client.send_message(f"before {i}")

        os.killpg(server.pid, signal.SIGKILL)
        server.wait(30)
        wait_until(lambda: not client.is_connected, 30)
        queued = [client.send_message(f"while down {i}", block=False) for i in range(2)]

        server = cli_server(port, token, tmp_path)
        # someone else posts right after the restart, maybe before our client is back
        with ChatOpsClient(url, token) as other:
            other.join_session(session)
            other.send_message("from other")
        sent = [f.result(timeout=60) for f in queued]
        assert [m["content"] for m in sent] == ["while down 0", "while down 1"]
        wait_until(lambda: client.is_connected, 60)
        for i in range(2):
            client.send_message(f"after {i}")

        # (the server's assistant may answer each message, so compare with the server's log)
        with ChatOpsClient(url, token) as check:

            def stored():
                ack = check.call("joinSession", {"sessionId": session})
                return [(m["seq"], m["id"]) for m in ack["messages"]]

            def mine():
                h = client.history
                return list(zip(h["seq"], h["id"], strict=True))

            wait_until(lambda: len(stored()) >= 7 and stored() == mine(), 30)
        h = client.history
        assert h["seq"].tolist() == list(range(1, len(h) + 1))
        assert h["id"].is_unique
        contents = h[h["role"] == "user"]["content"].tolist()
        assert contents[:3] == ["before 0", "before 1", "before 2"]
        assert contents[-2:] == ["after 0", "after 1"]
        assert sorted(contents[3:6]) == ["from other", "while down 0", "while down 1"]
        assert contents.index("while down 0") < contents.index("while down 1")
        assert log[0] == "disconnect" and log[-1] == "connect"
        assert client.reconnect_attempt == 0
    finally:
        client.close()
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(30)
        try:  # workers a server may have spawned (it has its own process group)
            os.killpg(server.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def test_client_keeps_retrying_after_the_seeds_five_attempts(tmp_path, monkeypatch, wait_until):
    """The seed's browser hook gives up after 5 attempts; the kernel client keeps trying."""
    from chatops_widget.client import _connection

    monkeypatch.setattr(_connection, "backoff", lambda attempt: 0.05)  # same loop, short delays
    first = EmbeddedServer(data_dir=tmp_path, plugins=[]).start()
    port, token = first.port, first.token
    attempts: list[int] = []
    with ChatOpsClient(first.url, token) as client:
        client.on("reconnect_attempt", attempts.append)
        client.create_session()
        client.send_message("one")
        first.stop()
        wait_until(lambda: len(attempts) >= 2 * _connection.RECONNECTION_ATTEMPTS, 60)
        assert not client.is_connected
        again = EmbeddedServer(data_dir=tmp_path, token=token, port=port, plugins=[]).start()
        try:
            wait_until(lambda: client.is_connected, 30)
            client.send_message("two")
            assert client.history["content"].tolist() == ["one", "two"]
            assert client.reconnect_attempt == 0
        finally:
            again.stop()


def test_in_place_update_replaces_the_message_and_fires_again(server, client, wait_until):
    """Streamed text (same id and seq, new content) replaces the row instead of being dropped."""
    session = client.create_session()
    seen: list[str] = []
    client.on("message", lambda m: seen.append(m["content"]))
    srv = server.server

    async def stream() -> None:
        msg = await srv.publish(session, "assistant", "Hel", {"streaming": True})
        await srv.update_message(session, msg.id, "Hello", {"streaming": True})
        await srv.update_message(session, msg.id, "Hello, world", {"streaming": False})

    asyncio.run_coroutine_threadsafe(stream(), srv.loop).result(10)
    wait_until(lambda: seen[-1:] == ["Hello, world"])
    assert seen == ["Hel", "Hello", "Hello, world"]
    h = client.history
    assert h["content"].tolist() == ["Hello, world"] and h["seq"].tolist() == [1]


def test_a_refused_join_leaves_the_client_usable(client):
    session = client.create_session()
    client.send_message("kept")
    with pytest.raises(ProtocolError) as info:
        client.join_session("session_bad id")
    assert info.value.code == ErrorCode.INVALID_SESSION and "session_" in info.value.message
    # nothing changed: still in the old session, sending works, history intact
    assert client.current_session_id == session
    assert client.send_message("still here")["sessionId"] == session
    users = client.history.query("role == 'user'")["content"].tolist()
    assert users == ["kept", "still here"]


def test_a_burst_past_the_rate_limit_is_paced_not_refused(tmp_path):
    """200 messages at once to a server allowing 10 at once, then 50 a second: every one is
    stored exactly once (the client waits out each ``rate_limited`` and then sends one at a
    time). Messages already on the wire when the first refusal comes may be stored before the
    refused one (the bucket refills meanwhile): within a burst past the limit, order is not kept."""
    from chatops_widget.server.limits import Limits, Rate

    limits = Limits(rates={"messages": Rate(per_second=50.0, burst=10)})
    srv = EmbeddedServer(data_dir=tmp_path, plugins=[], limits=limits).start()
    c = ChatOpsClient(srv.url, srv.token, timeout=60)
    try:
        c.create_session("burst")
        texts = [f"burst {i:03d}" for i in range(200)]
        pending = [c.send_message(t, block=False) for t in texts]
        acks = [p.result(timeout=60) for p in pending]
        assert [a["content"] for a in acks] == texts  # each call got its own message's ack
        h = c.history
        assert sorted(h["content"]) == texts and h["seq"].tolist() == list(range(1, 201))
        assert c.send_message("after the burst")["seq"] == 201  # back to normal
    finally:
        c.close()
        srv.stop()
