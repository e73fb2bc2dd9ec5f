"""The LLM provider against a local OpenAI-compatible endpoint (aiohttp, SSE) on loopback.

The fake model answers by a marker in the last user message: ``[tool]`` streams text then a
tool call, ``[stream]`` streams slowly, ``[hang]`` never answers in time, ``[500]`` fails,
``[evil]`` asks for a command that does not exist.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import socket
import threading

import pytest
from aiohttp import web

from chatops_widget.assistant import AssistantPlugin
from chatops_widget.assistant.llm import LLMConfig, command_tools
from chatops_widget.server import ChatOpsServer, EmbeddedServer, standard_plugins

_ids = itertools.count(1)


class FakeLLM:
    """An OpenAI-compatible ``/v1/chat/completions`` in its own thread and event loop."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict, dict]] = []
        self.loop = asyncio.new_event_loop()
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/v1"
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> FakeLLM:
        ready = threading.Event()
        self._ready = ready
        self._thread.start()
        assert ready.wait(10)
        return self

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self._closing = asyncio.Event()
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._handle)
        self.runner = web.AppRunner(app)
        self.loop.run_until_complete(self.runner.setup())
        self.loop.run_until_complete(web.SockSite(self.runner, self.sock).start())
        self._ready.set()
        self.loop.run_forever()

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self._closing.set)  # release a hanging answer
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.requests.append((body, dict(request.headers)))
        last = body["messages"][-1]["content"]
        if "[500]" in last:
            return web.json_response({"error": {"message": "model overloaded"}}, status=500)
        if "[json]" in last:  # a non-streaming answer is accepted too
            call = {"id": "c1", "type": "function", "function": {"name": "status", "arguments": ""}}
            msg = {"role": "assistant", "content": "Checking.", "tool_calls": [call]}
            return web.json_response({"choices": [{"index": 0, "message": msg}]})
        if "[hang]" in last:  # longer than the client's read timeout
            try:
                await asyncio.wait_for(self._closing.wait(), 30)
            except asyncio.TimeoutError:
                pass
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)

        async def send(delta: dict, finish: str | None = None) -> None:
            chunk = {"choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
            await resp.write(f"data: {json.dumps(chunk)}\n\n".encode())

        if "[tool]" in last or "[failing tool]" in last:
            for piece in ("Sure", ", running", " it."):
                await send({"content": piece})
            call = {"index": 0, "id": "call_1", "type": "function"}
            await send({"tool_calls": [{**call, "function": {"name": "run_backtest"}}]})
            args = "fast=50 slow=10" if "[failing tool]" in last else "symbol=ALPHA"
            for part in ('{"args": "strat', f'egy_1 {args}"}}'):
                await send({"tool_calls": [{"index": 0, "function": {"arguments": part}}]})
            await send({}, "tool_calls")
        elif "[stream]" in last:
            for i in range(6):
                await send({"content": f"word{i} "})
                await asyncio.sleep(0.15)
            await send({}, "stop")
        elif "[evil]" in last:
            fn = {"name": "shell", "arguments": '{"args": "rm -rf /"}'}
            await send(
                {"tool_calls": [{"index": 0, "id": "c", "type": "function", "function": fn}]}
            )
            await send({}, "tool_calls")
        else:
            await send({"content": "Hello! Type /help to see the commands."}, "stop")
        await resp.write(b"data: [DONE]\n\n")
        return resp


@pytest.fixture(scope="module")
def fake_llm():
    llm = FakeLLM().start()
    yield llm
    llm.stop()


@pytest.fixture(scope="module")
def llm_server(fake_llm, tmp_path_factory):
    config = LLMConfig(fake_llm.url, "fake-model", "test-key", timeout=5, read_timeout=1.0)
    srv = EmbeddedServer(
        data_dir=tmp_path_factory.mktemp("llm-data"),
        plugins=[*standard_plugins(assistant=False), AssistantPlugin(llm=config, use_env=False)],
    ).start()
    yield srv
    srv.stop()


async def _join(raw_client_cls, srv):
    session_id = f"session_llm{next(_ids)}"
    c = await raw_client_cls(srv.url, srv.token).connect()
    assert (await c.call("joinSession", {"sessionId": session_id}))["ok"]
    return c, session_id


async def _send(c, sid, text):
    ack = await c.call("sendMessage", {"sessionId": sid, "content": text})
    assert ack["ok"], ack
    return ack["message"]["seq"]


def test_tool_call_runs_the_command_and_reports_the_result(
    llm_server, fake_llm, raw_client_cls, arun
):
    async def scenario():
        c, sid = await _join(raw_client_cls, llm_server)
        await _send(c, sid, "[tool] please backtest the first strategy")
        final = await c.wait_event(
            "message",
            lambda m: m["role"] == "assistant" and m["metadata"].get("streaming") is False,
        )
        assert final["content"] == "Sure, running it."
        cmd = "/run_backtest strategy_1 symbol=ALPHA"
        note = await c.wait_event("message", lambda m: m["content"] == f"Running `{cmd}`.")
        assert note["metadata"]["assistant"]["tool"] == "run_backtest"
        result = await c.wait_event("commandResult", lambda r: r["command"] == cmd, timeout=60)
        assert result["ok"] and result["summary"]["kind"] == "backtest"
        # the router's own reply reports the result in the chat
        await c.wait_event("message", lambda m: "commandResult" in m["metadata"], timeout=60)
        body, headers = fake_llm.requests[-1]
        assert headers["Authorization"] == "Bearer test-key"
        assert body["model"] == "fake-model" and body["stream"] is True
        names = {t["function"]["name"] for t in body["tools"]}
        assert {"run_backtest", "compare_strategies", "sweep", "help"} <= names
        assert (
            body["messages"][0]["role"] == "system"
            and "strategy_1" in body["messages"][0]["content"]
        )
        assert body["messages"][-1] == {
            "role": "user",
            "content": "[tool] please backtest the first strategy",
        }
        await c.close()

    arun(scenario(), timeout=90)


def test_a_tool_call_that_fails_is_reported_in_the_users_language(llm_server, raw_client_cls, arun):
    async def scenario():
        c, sid = await _join(raw_client_cls, llm_server)
        await _send(c, sid, "[failing tool] 빠른 50 느린 10으로 strategy_1 백테스트")
        cmd = "/run_backtest strategy_1 fast=50 slow=10"
        result = await c.wait_event("commandResult", lambda r: r["command"] == cmd, timeout=60)
        assert not result["ok"]
        failed = await c.wait_event(
            "message", lambda m: m["metadata"].get("assistant", {}).get("kind") == "error"
        )
        reason = result["error"]["message"]
        assert failed["role"] == "assistant"
        assert failed["content"] == f"`{cmd}` 실행에 실패했어요: {reason}"
        meta = failed["metadata"]["assistant"]
        assert meta["source"] == "llm" and meta["command"] == cmd
        await c.close()

    arun(scenario(), timeout=90)


def test_text_streams_into_one_message_updated_in_place(llm_server, raw_client_cls, arun):
    async def scenario():
        c, sid = await _join(raw_client_cls, llm_server)
        seq = await _send(c, sid, "[stream] tell me something")
        final = await c.wait_event(
            "message",
            lambda m: m["seq"] > seq and m["metadata"].get("streaming") is False,
        )
        versions = [m for m in c.of("message") if m["id"] == final["id"]]
        assert len(versions) >= 3, versions  # published, updated while streaming, final
        assert all(m["seq"] == final["seq"] for m in versions)
        assert versions[0]["metadata"]["streaming"] is True
        lengths = [len(m["content"]) for m in versions]
        assert lengths == sorted(lengths) and lengths[0] < lengths[-1]
        assert final["content"] == "".join(f"word{i} " for i in range(6))
        # persisted: a late joiner's backlog has the final text once
        late = await raw_client_cls(llm_server.url, llm_server.token).connect()
        ack = await late.call("joinSession", {"sessionId": sid})
        stored = [m for m in ack["messages"] if m["id"] == final["id"]]
        assert stored == [final] or (len(stored) == 1 and stored[0]["content"] == final["content"])
        assert stored[0]["metadata"]["streaming"] is False
        await late.close()
        await c.close()

    arun(scenario(), timeout=60)


@pytest.mark.parametrize("marker, reason", [("[hang]", "timed out"), ("[500]", "HTTP 500")])
def test_timeouts_and_errors_fall_back_to_the_parser(
    llm_server, raw_client_cls, arun, marker, reason
):
    async def scenario():
        c, sid = await _join(raw_client_cls, llm_server)
        await _send(c, sid, f"{marker} backtest strategy_2")
        note = await c.wait_event("message", lambda m: m["role"] == "system", timeout=30)
        assert "built-in parser" in note["content"] and reason in note["content"]
        reply = await c.wait_event("message", lambda m: m["role"] == "assistant")
        assert reply["metadata"]["assistant"]["source"] == "parser"
        cmd = "/run_backtest strategy_2"
        result = await c.wait_event("commandResult", lambda r: r["command"] == cmd, timeout=60)
        assert result["ok"]
        await c.close()

    arun(scenario(), timeout=90)


def test_unknown_tool_is_refused_and_nothing_runs(llm_server, raw_client_cls, arun):
    async def scenario():
        c, sid = await _join(raw_client_cls, llm_server)
        await _send(c, sid, "[evil] wipe the disk")
        note = await c.wait_event("message", lambda m: m["role"] == "system")
        assert "unknown command 'shell'" in note["content"] and "nothing was run" in note["content"]
        await _send(c, sid, "[tool] again")
        await c.wait_event("commandResult", timeout=60)
        echoes = [m["content"] for m in c.of("message") if m["metadata"].get("command")]
        assert echoes == ["/run_backtest strategy_1 symbol=ALPHA"]
        await c.close()

    arun(scenario(), timeout=90)


def test_unreachable_endpoint_falls_back(tmp_path, arun):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = LLMConfig(f"http://127.0.0.1:{port}/v1", "m", timeout=3, connect_timeout=1)
    assistant = AssistantPlugin(llm=config, use_env=False)
    server = ChatOpsServer(tmp_path, plugins=[*standard_plugins(assistant=False), assistant])

    async def scenario():
        await assistant.respond("session_unreachable", "도움말")
        await asyncio.sleep(0.2)  # let the started /help finish

    arun(scenario())
    msgs = server.store.messages_after("session_unreachable")
    assert msgs[0].role == "system" and "built-in parser" in msgs[0].content
    assert msgs[1].role == "assistant" and "/help" in msgs[1].content
    assert msgs[2].role == "user" and msgs[2].content == "/help"
    server.store.close()


def test_commands_are_offered_as_tools(tmp_path):
    server = ChatOpsServer(tmp_path, plugins=standard_plugins(assistant=False))
    tools = command_tools(server)
    assert all(t["type"] == "function" for t in tools)
    run = next(t["function"] for t in tools if t["function"]["name"] == "run_backtest")
    assert "/run_backtest" in run["description"] and "args" in run["parameters"]["properties"]
    server.store.close()


def test_config_from_env():
    assert LLMConfig.from_env({}) is None
    cfg = LLMConfig.from_env(
        {
            "CHATOPS_LLM_BASE_URL": "http://127.0.0.1:9/v1/",
            "CHATOPS_LLM_MODEL": "m",
            "CHATOPS_LLM_API_KEY": "k",
            "CHATOPS_LLM_TIMEOUT": "7",
        }
    )
    assert cfg.endpoint == "http://127.0.0.1:9/v1/chat/completions"
    assert (cfg.model, cfg.api_key, cfg.timeout) == ("m", "k", 7.0)


def test_non_streaming_answer_with_a_tool_call(llm_server, raw_client_cls, arun):
    async def scenario():
        c, sid = await _join(raw_client_cls, llm_server)
        await _send(c, sid, "[json] how are things")
        said = await c.wait_event("message", lambda m: m["content"] == "Checking.")
        assert said["metadata"]["streaming"] is False
        result = await c.wait_event("commandResult", lambda r: r["command"] == "/status")
        assert result["ok"]
        await c.close()

    arun(scenario(), timeout=60)


def test_cli_flags_configure_the_server(tmp_path, monkeypatch):
    import argparse

    from chatops_widget.assistant.llm import add_llm_arguments, llm_config

    monkeypatch.setenv("CHATOPS_LLM_API_KEY", "from-env")
    monkeypatch.delenv("CHATOPS_LLM_BASE_URL", raising=False)
    monkeypatch.delenv("CHATOPS_LLM_MODEL", raising=False)
    parser = argparse.ArgumentParser()
    add_llm_arguments(parser)
    args = parser.parse_args(["--llm-base-url", "http://127.0.0.1:1/v1", "--llm-model", "m"])
    cfg = llm_config(args.llm_base_url, args.llm_model, args.llm_api_key)
    assert cfg is not None
    assert (cfg.base_url, cfg.model, cfg.api_key) == ("http://127.0.0.1:1/v1", "m", "from-env")
    assert llm_config() is None  # nothing set
    (assistant,) = [p for p in standard_plugins(llm=cfg) if p.name == "assistant"]
    assert assistant.llm is cfg
