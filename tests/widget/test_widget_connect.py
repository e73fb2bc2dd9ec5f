"""``ChatOpsWidget()`` without a client: it returns at once and connects in the background.

Against the real embedded server (a temporary data dir): the panel's state follows once the
client has joined a session, calls made meanwhile wait for it, a second panel in the same
process shares the embedded server, and a server that cannot be reached is said in the panel.
"""

from __future__ import annotations

import pytest

from chatops_widget.protocol import ProtocolError
from chatops_widget.server import EmbeddedServer, embedded
from chatops_widget.widget import ChatOpsWidget


@pytest.fixture(autouse=True)
def _data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("CHATOPS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("CHATOPS_URL", raising=False)


def _shared() -> set[EmbeddedServer]:
    """The process's shared embedded servers that are running (URL-less clients hold them)."""
    return {s for s in embedded._shared_users if s.running}


def _server_of(w: ChatOpsWidget) -> EmbeddedServer:
    return w.client._embedded.server


def _notices(w: ChatOpsWidget) -> list[str]:
    return [m["text"] for m in w.sent if m.get("type") == "notice"]


@pytest.fixture
def record(monkeypatch):
    """Every custom message a widget sends to its front end, as ``w.sent``."""
    original = ChatOpsWidget.send

    def send(self, content, buffers=None):
        self.__dict__.setdefault("sent", []).append(content)
        return original(self, content, buffers)

    monkeypatch.setattr(ChatOpsWidget, "send", send)


def test_the_panel_connects_in_the_background_and_calls_wait_for_it(wait_until, record):
    before = _shared()
    w = ChatOpsWidget()
    try:
        # a call made right away waits for the client (it has not connected yet, or just has)
        ack = w.execute_command("/help")
        assert ack["message"]["content"] == "/help"
        wait_until(lambda: w.connected and w.session_id, 30)
        assert w.session_id == w.client.current_session_id
        assert {"help", "run_backtest"} <= {c["name"] for c in w.commands}
        assert any(s["id"] == "strategy_1" for s in w.strategies)
        # the history went to the front end once the session was joined
        wait_until(lambda: any(m.get("type") == "history" for m in w.__dict__.get("sent", [])))
        server = _server_of(w)
        assert server.running and server not in before
    finally:
        w.close()
    wait_until(lambda: not server.running, 20)  # the last panel out stops the embedded server


def test_a_second_panel_in_the_process_shares_the_embedded_server(wait_until):
    first = ChatOpsWidget()
    second = ChatOpsWidget()
    try:
        assert first.client is not second.client
        assert _server_of(first) is _server_of(second)  # one embedded server, two clients
        assert first.client.url == second.client.url
        wait_until(lambda: first.session_id and second.session_id, 30)
        assert first.session_id != second.session_id
        second.join_session(first.session_id)  # sessions meet on the shared server
        first.send_message("hello from the first panel")
        wait_until(
            lambda: "hello from the first panel" in [m["content"] for m in second.client.messages]
        )
        server = _server_of(first)
    finally:
        first.close()
        assert server.running  # still held by the second
        second.close()
    wait_until(lambda: not server.running, 20)


def test_a_server_that_cannot_be_reached_is_said_in_the_panel(wait_until, record):
    w = ChatOpsWidget(url="http://127.0.0.1:9", token="x")
    try:
        with pytest.raises(ConnectionError, match=r"cannot connect to http://127\.0\.0\.1:9"):
            w.send_message("hello")
        wait_until(lambda: any("cannot connect" in t for t in _notices(w)), 10)
        assert w.connected is False
    finally:
        w.close()


def test_a_wrong_token_is_said_in_the_panel(wait_until, record):
    helper = ChatOpsWidget()
    try:
        url = helper.client.url
        w = ChatOpsWidget(url=url, token="wrong")
        with pytest.raises(ProtocolError, match="unauthorized"):
            w.execute_command("/help")
        wait_until(lambda: any("unauthorized" in t for t in _notices(w)), 10)
        w.close()
    finally:
        helper.close()


def test_closing_a_panel_while_it_connects_closes_its_client(wait_until):
    before = _shared()
    w = ChatOpsWidget()
    w.close()  # most likely before the client has connected
    with pytest.raises((RuntimeError, ConnectionError)):
        w._pending.get(timeout=30).send_message("too late")
    wait_until(lambda: _shared() <= before, 20)  # its hold on the embedded server is given back
