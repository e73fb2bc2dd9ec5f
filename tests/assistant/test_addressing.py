"""Who the assistant answers, on the real server with raw socket.io clients.

In a one-person session every chat line is answered; with a second connection in the session's
room only lines that mention the assistant (``@assistant``, a configured name) or read entirely
as a command are, in English and Korean. Commands' results are posted either way.
"""

from __future__ import annotations

import itertools

import pytest

from chatops_widget.assistant import AssistantPlugin
from chatops_widget.assistant._address import Addressing
from chatops_widget.server import EmbeddedServer
from chatops_widget.server.backtest import BacktestPlugin

_ids = itertools.count(1)


@pytest.fixture(autouse=True)
def _offline(monkeypatch):
    for key in ("CHATOPS_LLM_BASE_URL", "CHATOPS_LLM_MODEL", "CHATOPS_LLM_API_KEY"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.delenv("CHATOPS_ASSISTANT_NAME", raising=False)


@pytest.fixture(scope="module")
def named_server(tmp_path_factory):
    """A server whose assistant also answers to ``@bot`` and ``@비서``."""
    backtest = BacktestPlugin(workers=1, mode="thread")
    assistant = AssistantPlugin(names=backtest, name_aliases=["bot", "비서"], use_env=False)
    srv = EmbeddedServer(
        data_dir=tmp_path_factory.mktemp("named"), plugins=[backtest, assistant]
    ).start()
    yield srv
    srv.stop()


async def _members(raw_client_cls, srv, n):
    """``n`` raw clients joined to one fresh session: (clients, session id)."""
    session_id = f"session_address{next(_ids)}"
    clients = []
    for _ in range(n):
        c = await raw_client_cls(srv.url, srv.token).connect()
        ack = await c.call("joinSession", {"sessionId": session_id})
        assert ack["ok"], ack
        clients.append(c)
    return clients, session_id


async def _send(c, session_id, text):
    ack = await c.call("sendMessage", {"sessionId": session_id, "content": text})
    assert ack["ok"], ack
    return ack["message"]


async def _reply_to(c, session_id, text):
    """Send ``text`` and wait for the assistant's answer to it."""
    sent = await _send(c, session_id, text)
    return await c.wait_event(
        "message",
        lambda m: (
            m["role"] == "assistant" and m["seq"] > sent["seq"] and "assistant" in m["metadata"]
        ),
    )


def _answers(srv, session_id):
    """The assistant's own answers stored in the session (not command summaries)."""
    return [m for m in srv.server.store.messages_after(session_id) if "assistant" in m.metadata]


async def _close(clients):
    for c in clients:
        await c.close()


def test_a_shared_session_answers_mentions_and_direct_requests_only(
    embedded_server, raw_client_cls, arun
):
    async def scenario():
        (alice, bob), sid = await _members(raw_client_cls, embedded_server, 2)
        assert embedded_server.server.members(sid) == 2
        for text in ("lunch at noon?", "점심 뭐 먹지?", "hi", "thanks!",
                     "I backtested strategy_1 yesterday and it was bad"):  # fmt: skip
            await _send(alice, sid, text)
        # a mention is answered (the mention is not part of what is read), in Korean too
        help_reply = await _reply_to(bob, sid, "@assistant 도움말")
        assert help_reply["metadata"]["assistant"]["command"] == "/help"
        result = await bob.wait_event("commandResult", lambda r: r["command"] == "/help")
        assert result["ok"]
        # nothing before the mention was answered: the first answer is the one to "도움말"
        assert [m.id for m in _answers(embedded_server, sid)] == [help_reply["id"]]
        # a direct request needs no mention, in English and Korean
        en = await _reply_to(alice, sid, "backtest strategy_1 on ALPHA")
        assert en["metadata"]["assistant"]["command"] == "/run_backtest strategy_1 symbol=ALPHA"
        ko = await _reply_to(bob, sid, "strategy_1 백테스트해줘")
        assert ko["metadata"]["assistant"]["command"] == "/run_backtest strategy_1"
        assert "실행할게요" in ko["content"]
        for cmd in ("/run_backtest strategy_1 symbol=ALPHA", "/run_backtest strategy_1"):
            done = await alice.wait_event("commandResult", lambda r, c=cmd: r["command"] == c,
                                          timeout=60)  # fmt: skip
            assert done["ok"]
        # commands' results are still posted (the router's summary), by the assistant role
        await alice.wait_event(
            "message",
            lambda m: (
                m["metadata"].get("commandResult", {}).get("command") == "/run_backtest strategy_1"
            ),
        )
        assert len(_answers(embedded_server, sid)) == 3
        await _close([alice, bob])

    arun(scenario(), timeout=120)


def test_help_says_how_to_address_the_assistant(embedded_server, raw_client_cls, arun):
    async def scenario():
        (alice, bob), sid = await _members(raw_client_cls, embedded_server, 2)
        ack = await alice.call("executeCommand", {"sessionId": sid, "command": "/help"})
        assert ack["ok"], ack
        result = await bob.wait_event("commandResult", lambda r: r["command"] == "/help")
        *_, note = result["summary"]["notes"]  # the assistant's, after any hosted listing
        assert "`@assistant`" in note and "Plain chat between people gets no reply" in note
        text = await bob.wait_event("message", lambda m: "commandResult" in m["metadata"])
        assert text["content"].endswith(note)
        await _close([alice, bob])

    arun(scenario(), timeout=60)


def test_a_one_person_session_answers_everything(embedded_server, raw_client_cls, arun):
    async def scenario():
        (alice,), sid = await _members(raw_client_cls, embedded_server, 1)
        assert embedded_server.server.members(sid) == 1
        reply = await _reply_to(alice, sid, "점심 뭐 먹지?")
        assert reply["metadata"]["assistant"]["kind"] == "chat" and "/help" in reply["content"]
        reply = await _reply_to(alice, sid, "lunch at noon?")
        assert reply["metadata"]["assistant"]["kind"] == "chat"
        await _close([alice])

    arun(scenario(), timeout=60)


def test_when_the_others_leave_small_talk_is_answered_again(embedded_server, raw_client_cls, arun):
    async def scenario():
        (alice, bob), sid = await _members(raw_client_cls, embedded_server, 2)
        await _send(alice, sid, "hello")
        ack = await bob.call("leaveSession", {"sessionId": sid})
        assert ack["ok"] and embedded_server.server.members(sid) == 1
        reply = await _reply_to(alice, sid, "hello again")
        assert reply["content"].startswith("Hi!")
        (only,) = _answers(embedded_server, sid)  # "hello" (shared then) got nothing
        assert only.id == reply["id"]
        await _close([alice, bob])

    arun(scenario(), timeout=60)


def test_an_open_question_is_answered_by_a_fragment_despite_chat_in_between(
    embedded_server, raw_client_cls, arun
):
    async def scenario():
        (alice, bob), sid = await _members(raw_client_cls, embedded_server, 2)
        question = await _reply_to(alice, sid, "@assistant backtest on BRAVO")
        assert question["metadata"]["assistant"]["kind"] == "clarify"
        await _send(bob, sid, "lol, which one do you want?")  # between people: ignored
        reply = await _reply_to(alice, sid, "strategy_2")  # completes the request
        cmd = "/run_backtest strategy_2 symbol=BRAVO"
        assert reply["metadata"]["assistant"]["command"] == cmd
        assert (await bob.wait_event("commandResult", lambda r: r["command"] == cmd, 60))["ok"]
        assert len(_answers(embedded_server, sid)) == 2
        await _close([alice, bob])

    arun(scenario(), timeout=90)


def test_a_failed_run_asked_for_in_a_shared_session_is_reported(
    embedded_server, raw_client_cls, arun
):
    async def scenario():
        (alice, bob), sid = await _members(raw_client_cls, embedded_server, 2)
        await _reply_to(alice, sid, "@assistant backtest strategy_1 with fast 50 slow 10")
        cmd = "/run_backtest strategy_1 fast=50 slow=10"
        result = await bob.wait_event("commandResult", lambda r: r["command"] == cmd, 60)
        assert not result["ok"]
        failed = await bob.wait_event(
            "message", lambda m: m["metadata"].get("assistant", {}).get("kind") == "error"
        )
        assert failed["content"] == f"`{cmd}` failed: {result['error']['message']}"
        await _close([alice, bob])

    arun(scenario(), timeout=90)


def test_a_configured_name_is_answered_with_and_without_the_default(
    named_server, raw_client_cls, arun
):
    async def scenario():
        (alice, bob), sid = await _members(raw_client_cls, named_server, 2)
        await _send(alice, sid, "@robot hi")  # not one of its names
        await _send(alice, sid, "email me at ann@bot.example")
        reply = await _reply_to(bob, sid, "@bot status please")
        assert reply["metadata"]["assistant"]["command"] == "/status"
        reply = await _reply_to(alice, sid, "@비서님 도움말")
        assert reply["metadata"]["assistant"]["command"] == "/help"
        reply = await _reply_to(bob, sid, "@Assistant hello")
        assert reply["content"].startswith("Hi!")
        reply = await _reply_to(alice, sid, "@bot")  # a bare mention is a greeting
        assert reply["content"].startswith("Hi!")
        assert len(_answers(named_server, sid)) == 4
        result = await alice.wait_event("commandResult", lambda r: r["command"] == "/status")
        assert result["ok"]
        await _close([alice, bob])

    arun(scenario(), timeout=60)


def test_the_name_comes_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("CHATOPS_ASSISTANT_NAME", "quant, 비서")
    assert AssistantPlugin().addressing.names == ("assistant", "quant", "비서")
    assert AssistantPlugin(use_env=False).addressing.names == ("assistant",)
    assert AssistantPlugin(name_aliases=["x1"]).addressing.names == ("assistant", "x1")


def test_a_bad_name_is_refused_with_what_would_be_right():
    with pytest.raises(ValueError, match=r"use 1-40 letters, digits.*e\.g\. 'bot'"):
        Addressing(["two words"])


@pytest.mark.parametrize(
    "text, addressed, body",
    [
        ("@assistant backtest strategy_1", True, "backtest strategy_1"),
        ("backtest strategy_1 @assistant", True, "backtest strategy_1"),
        ("@ASSISTANT, 도움말", True, "도움말"),
        ("assistant: status", True, "status"),
        ("@assistant님 전략 목록", True, "전략 목록"),
        ("@assistants are great", False, "@assistants are great"),
        ("ask the assistant", False, "ask the assistant"),
        ("a@assistant.io", False, "a@assistant.io"),
    ],
)
def test_mentions(text, addressed, body):
    assert Addressing().strip(text) == (addressed, body)
