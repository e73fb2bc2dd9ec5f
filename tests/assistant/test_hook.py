"""The assistant hook on the real server (all plugins, sample data) with raw socket.io clients."""

from __future__ import annotations

import itertools

import pytest

_ids = itertools.count(1)


@pytest.fixture(autouse=True)
def _offline(monkeypatch):
    for key in ("CHATOPS_LLM_BASE_URL", "CHATOPS_LLM_MODEL", "CHATOPS_LLM_API_KEY"):
        monkeypatch.delenv(key, raising=False)


async def _join(raw_client_cls, srv):
    session_id = f"session_assistant{next(_ids)}"
    c = await raw_client_cls(srv.url, srv.token).connect()
    ack = await c.call("joinSession", {"sessionId": session_id})
    assert ack["ok"], ack
    return c, session_id


async def _say(c, session_id, text):
    ack = await c.call("sendMessage", {"sessionId": session_id, "content": text})
    assert ack["ok"], ack
    return await c.wait_event(
        "message",
        # the assistant's answer to this text (not a result text of an earlier command)
        lambda m: (
            m["role"] == "assistant"
            and m["seq"] > ack["message"]["seq"]
            and "assistant" in m["metadata"]
        ),
    )


def _assistant_meta(msg):
    return msg["metadata"]["assistant"]


def test_understood_command_is_announced_run_and_reported(embedded_server, raw_client_cls, arun):
    async def scenario():
        c, sid = await _join(raw_client_cls, embedded_server)
        reply = await _say(c, sid, "backtest strategy_1 on ALPHA since 2015")
        cmd = "/run_backtest strategy_1 symbol=ALPHA start=2015-01-01"
        assert f"`{cmd}`" in reply["content"] and _assistant_meta(reply)["command"] == cmd
        echo = await c.wait_event("message", lambda m: m["content"] == cmd)
        assert echo["role"] == "user" and echo["metadata"] == {"command": True}
        result = await c.wait_event("commandResult", lambda r: r["command"] == cmd, timeout=60)
        assert result["ok"] and result["summary"]["kind"] == "backtest"
        assert result["summary"]["symbol"] == "ALPHA"
        await c.close()

    arun(scenario(), timeout=90)


def test_korean_comparison(embedded_server, raw_client_cls, arun):
    async def scenario():
        c, sid = await _join(raw_client_cls, embedded_server)
        reply = await _say(c, sid, "strategy_1이랑 strategy_2 비교해줘")
        assert "실행할게요" in reply["content"]
        cmd = "/compare_strategies strategy_1 strategy_2"
        result = await c.wait_event("commandResult", lambda r: r["command"] == cmd, timeout=60)
        assert result["ok"] and result["summary"]["kind"] == "comparison"
        await c.close()

    arun(scenario(), timeout=90)


def test_missing_strategy_is_asked_back_then_completed(embedded_server, raw_client_cls, arun):
    async def scenario():
        c, sid = await _join(raw_client_cls, embedded_server)
        question = await _say(c, sid, "backtest on BRAVO")
        assert _assistant_meta(question)["kind"] == "clarify"
        assert "Which strategy" in question["content"] and "strategy_1" in question["content"]
        assert not c.of("commandResult")
        reply = await _say(c, sid, "strategy_2")
        cmd = "/run_backtest strategy_2 symbol=BRAVO"
        assert _assistant_meta(reply)["command"] == cmd
        result = await c.wait_event("commandResult", lambda r: r["command"] == cmd, timeout=60)
        assert result["ok"]
        await c.close()

    arun(scenario(), timeout=90)


def test_sweep_without_symbol_asks_for_one(embedded_server, raw_client_cls, arun):
    async def scenario():
        c, sid = await _join(raw_client_cls, embedded_server)
        question = await _say(c, sid, "sweep sma_cross fast 5 to 15 by 5")
        assert "ALPHA" in question["content"] and _assistant_meta(question)["kind"] == "clarify"
        await _say(c, sid, "ALPHA")
        cmd = "/sweep sma_cross symbol=ALPHA fast=5:15:5"
        result = await c.wait_event("commandResult", lambda r: r["command"] == cmd, timeout=60)
        assert result["ok"] and result["summary"]["kind"] == "sweep"
        assert result["summary"]["count"] == 3
        await c.close()

    arun(scenario(), timeout=90)


def test_unknown_strategy_gets_suggestions_and_nothing_runs(embedded_server, raw_client_cls, arun):
    async def scenario():
        c, sid = await _join(raw_client_cls, embedded_server)
        reply = await _say(c, sid, "backtest strategy_11")
        assert "Did you mean" in reply["content"] and "`strategy_1`" in reply["content"]
        assert "strategy_1" in _assistant_meta(reply)["suggestions"]
        # the next command is the only one that runs in this session
        await _say(c, sid, "status please")
        await c.wait_event("commandResult", lambda r: r["command"] == "/status")
        echoes = [m["content"] for m in c.of("message") if m["metadata"].get("command")]
        assert echoes == ["/status"]
        await c.close()

    arun(scenario(), timeout=60)


@pytest.mark.parametrize("text, needle", [("hi", "/help"), ("고마워", "/help"), ("lol", "/help")])
def test_small_talk_gets_a_pointer_to_help_and_runs_nothing(
    embedded_server, raw_client_cls, arun, text, needle
):
    async def scenario():
        c, sid = await _join(raw_client_cls, embedded_server)
        reply = await _say(c, sid, text)
        assert needle in reply["content"] and _assistant_meta(reply)["kind"] == "chat"
        await _say(c, sid, "help")
        await c.wait_event("commandResult", lambda r: r["command"] == "/help")
        echoes = [m["content"] for m in c.of("message") if m["metadata"].get("command")]
        assert echoes == ["/help"]
        await c.close()

    arun(scenario(), timeout=60)


def test_chatops_assistant_off_silences_the_assistant(tmp_path, monkeypatch, arun):
    from chatops_widget.assistant import AssistantPlugin
    from chatops_widget.server import ChatOpsServer

    assistant = AssistantPlugin(use_env=False)
    server = ChatOpsServer(tmp_path, plugins=[assistant])
    monkeypatch.setenv("CHATOPS_ASSISTANT", "off")
    arun(assistant.respond("session_quiet", "backtest strategy_1"))
    assert server.store.messages_after("session_quiet") == []
    monkeypatch.delenv("CHATOPS_ASSISTANT")
    arun(assistant.respond("session_quiet", "hi"))
    (reply,) = server.store.messages_after("session_quiet")
    assert reply.role == "assistant" and "/help" in reply.content
    server.store.close()


async def _symbols(c, session_id):
    """The symbols the server's catalog has, as ``/data`` lists them."""
    ack = await c.call("executeCommand", {"sessionId": session_id, "command": "/data"})
    assert ack["ok"], ack
    result = await c.wait_event("commandResult", lambda r: r["command"] == "/data")
    return [s["symbol"] for s in result["summary"]["symbols"]]


def _ran(c):
    """Commands echoed in the session (what actually ran), in order."""
    return [m["content"] for m in c.of("message") if m["metadata"].get("command")]


def test_unknown_symbol_lists_available_ones_and_suggests_a_command(
    embedded_server, raw_client_cls, arun
):
    async def scenario():
        c, sid = await _join(raw_client_cls, embedded_server)
        symbols = await _symbols(c, sid)
        assert "GOOG" not in symbols and "ALPHA" in symbols
        reply = await _say(c, sid, "backtest strategy_1 on GOOG since 2010")
        text = reply["content"]
        assert text.startswith("`GOOG` is not available")
        assert "Available symbols: " + ", ".join(f"`{s}`" for s in symbols[:12]) in text
        cmd = f"/run_backtest strategy_1 symbol={symbols[0]} start=2010-01-01"
        assert f"Try `{cmd}` instead (nothing was run)." in text
        meta = _assistant_meta(reply)
        assert meta["kind"] == "clarify" and meta["unknown"] == "GOOG" and "command" not in meta
        assert meta["suggestions"] == symbols[:12]
        # the suggested command works as typed
        await _say(c, sid, "status please")  # a later command: nothing ran in between
        await c.wait_event("commandResult", lambda r: r["command"] == "/status")
        assert _ran(c) == ["/data", "/status"]
        ack = await c.call("executeCommand", {"sessionId": sid, "command": cmd})
        assert ack["ok"], ack
        result = await c.wait_event("commandResult", lambda r: r["command"] == cmd, timeout=60)
        assert result["ok"] and result["summary"]["symbol"] == symbols[0]
        await c.close()

    arun(scenario(), timeout=90)


def test_unknown_symbol_in_korean(embedded_server, raw_client_cls, arun):
    async def scenario():
        c, sid = await _join(raw_client_cls, embedded_server)
        first = (await _symbols(c, sid))[0]
        reply = await _say(c, sid, "strategy_1 GOOG로 2010년부터 백테스트 돌려줘")
        assert "`GOOG` 종목은 사용할 수 없어요" in reply["content"]
        assert f"사용 가능한 종목: `{first}`" in reply["content"]
        assert f"`/run_backtest strategy_1 symbol={first} start=2010-01-01`" in reply["content"]
        await c.close()

    arun(scenario(), timeout=60)


def test_an_unknown_symbol_is_answered_once_then_forgotten(embedded_server, raw_client_cls, arun):
    """The audit's stuck loop: every later message got "There is no data for GOOG"."""

    async def scenario():
        c, sid = await _join(raw_client_cls, embedded_server)
        pending = embedded_server.server.plugin("assistant").pending
        first = await _say(c, sid, "backtest strategy_1 on GOOG since 2010")
        assert "GOOG" in first["content"] and sid not in pending
        hello = await _say(c, sid, "hello")
        assert hello["content"].startswith("Hi!") and _assistant_meta(hello)["kind"] == "chat"
        thanks = await _say(c, sid, "thanks!")
        assert "welcome" in thanks["content"]
        ask = await _say(c, sid, "run a backtest")
        assert ask["content"].startswith("Which strategy should I backtest?")
        for msg in (hello, thanks, ask):
            assert "GOOG" not in msg["content"]
        assert pending[sid] == ("run a backtest", "strategy")  # its own question, not glued
        again = await _say(c, sid, "run a backtest")  # asked again: stored once, not doubled
        assert again["content"] == ask["content"] and pending[sid] == ("run a backtest", "strategy")
        assert _ran(c) == []
        # the open question is answered by the next fragment
        reply = await _say(c, sid, "strategy_2")
        assert _assistant_meta(reply)["command"] == "/run_backtest strategy_2"
        result = await c.wait_event(
            "commandResult", lambda r: r["command"] == "/run_backtest strategy_2", timeout=60
        )
        assert result["ok"] and sid not in pending
        await c.close()

    arun(scenario(), timeout=90)


def test_small_talk_or_a_new_request_closes_an_open_question(embedded_server, raw_client_cls, arun):
    async def scenario():
        c, sid = await _join(raw_client_cls, embedded_server)
        await _say(c, sid, "backtest on BRAVO")
        hello = await _say(c, sid, "hello")  # small talk: not glued onto the question
        assert hello["content"].startswith("Hi!")
        alone = await _say(c, sid, "strategy_2")  # the question is closed: not run on BRAVO
        assert _assistant_meta(alone)["kind"] == "clarify"
        assert "What should I do" in alone["content"]
        await _say(c, sid, "thanks!")  # closes "what should I do with strategy_2?"
        await _say(c, sid, "backtest on BRAVO")
        # a complete request of its own runs as it is, without BRAVO
        reply = await _say(c, sid, "backtest strategy_1 on CHARLIE")
        assert _assistant_meta(reply)["command"] == "/run_backtest strategy_1 symbol=CHARLIE"
        # a sweep's missing symbol answered with an unknown one: said once, then forgotten
        await _say(c, sid, "sweep sma_cross fast 5 to 15 by 5")
        unknown = await _say(c, sid, "GOOG")
        assert "`GOOG` is not available" in unknown["content"]
        first = embedded_server.server.plugin("backtest").service.catalog.symbols()[0]
        assert f"`/sweep sma_cross symbol={first} fast=5:15:5`" in unknown["content"]
        later = await _say(c, sid, "ok thanks")
        assert "GOOG" not in later["content"] and _assistant_meta(later)["kind"] == "chat"
        await c.wait_event(
            "commandResult", lambda r: r["command"] == "/run_backtest strategy_1 symbol=CHARLIE"
        )
        assert _ran(c) == ["/run_backtest strategy_1 symbol=CHARLIE"]
        await c.close()

    arun(scenario(), timeout=90)


def _errors(c):
    return [m for m in c.of("message") if m["metadata"].get("assistant", {}).get("kind") == "error"]


def test_a_run_that_fails_is_reported_in_the_chat_history(embedded_server, raw_client_cls, arun):
    """The engine rejects fast >= slow: the chat says so (a chat sender has no error event)."""

    async def scenario():
        c, sid = await _join(raw_client_cls, embedded_server)
        reply = await _say(c, sid, "backtest strategy_1 with fast 50 slow 10")
        cmd = "/run_backtest strategy_1 fast=50 slow=10"
        assert _assistant_meta(reply)["command"] == cmd
        result = await c.wait_event("commandResult", lambda r: r["command"] == cmd, timeout=60)
        assert not result["ok"] and result["error"]["code"] == "bad_argument"
        reason = result["error"]["message"]
        assert "fast" in reason and "slow" in reason
        failed = await c.wait_event("message", lambda m: m in _errors(c))
        assert failed["role"] == "assistant"
        assert failed["content"] == f"`{cmd}` failed: {reason}"
        meta = _assistant_meta(failed)
        assert meta == {
            "source": "parser",
            "kind": "error",
            "command": cmd,
            "error": "bad_argument",
        }
        assert not c.of("error")  # nothing went to an error event: the chat is the report
        await c.close()
        # it is part of the stored history: a client joining later sees it
        late = await raw_client_cls(embedded_server.url, embedded_server.token).connect()
        ack = await late.call("joinSession", {"sessionId": sid})
        assert [m["content"] for m in ack["messages"]][-3:] == [
            reply["content"],
            cmd,
            failed["content"],
        ]
        await late.close()

    arun(scenario(), timeout=90)


def test_a_failed_run_is_reported_in_korean(embedded_server, raw_client_cls, arun):
    async def scenario():
        c, sid = await _join(raw_client_cls, embedded_server)
        await _say(c, sid, "strategy_1 빠른 50 느린 10으로 백테스트 돌려줘")
        cmd = "/run_backtest strategy_1 fast=50 slow=10"
        result = await c.wait_event("commandResult", lambda r: r["command"] == cmd, timeout=60)
        failed = await c.wait_event("message", lambda m: m in _errors(c))
        assert failed["content"] == f"`{cmd}` 실행에 실패했어요: {result['error']['message']}"
        await c.close()

    arun(scenario(), timeout=60)


def test_a_successful_run_adds_no_failure_note(embedded_server, raw_client_cls, arun):
    async def scenario():
        c, sid = await _join(raw_client_cls, embedded_server)
        await _say(c, sid, "backtest strategy_2 on DELTA")
        cmd = "/run_backtest strategy_2 symbol=DELTA"
        result = await c.wait_event("commandResult", lambda r: r["command"] == cmd, timeout=60)
        assert result["ok"]
        summary = await c.wait_event("message", lambda m: "commandResult" in m["metadata"])
        # a later command's result arrives after anything the first one could have added
        await _say(c, sid, "status please")
        await c.wait_event("commandResult", lambda r: r["command"] == "/status")
        await c.wait_event(
            "message",
            lambda m: m["metadata"].get("commandResult", {}).get("command") == "/status",
        )
        assert _errors(c) == [] and summary["role"] == "assistant"
        await c.close()

    arun(scenario(), timeout=90)
