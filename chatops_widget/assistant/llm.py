"""Optional LLM provider: any OpenAI-compatible ``/chat/completions`` endpoint.

The model sees the session's recent messages and every registered command as a *tool*
(``{"args": "<everything after the command name>"}``). Its text streams into the panel as one
``assistant`` message updated in place (metadata ``{"streaming": true}`` until the end); each
tool call becomes ``/<name> <args>`` and goes through ``host.run_command`` -- the same parser,
router and validation as a typed command. Nothing else the model says is ever executed; a call
to an unknown command is refused with a note. Timeouts, HTTP errors, malformed streams and an
unreachable endpoint raise :class:`LLMUnavailable`; the assistant then posts a ``system`` note and
answers with the built-in parser.

Configure with server CLI flags (see :func:`add_llm_arguments`) or env variables
``CHATOPS_LLM_BASE_URL``, ``CHATOPS_LLM_MODEL``, ``CHATOPS_LLM_API_KEY``, ``CHATOPS_LLM_TIMEOUT``.

Example:
    >>> cfg = LLMConfig(base_url="http://127.0.0.1:11434/v1", model="llama3")
    >>> cfg.endpoint
    'http://127.0.0.1:11434/v1/chat/completions'
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp

from ..protocol import MAX_COMMAND_CHARS
from ._reply import Names, lang_of, run_understood
from ._stream import update_message

__all__ = [
    "LLMConfig",
    "LLMUnavailable",
    "add_llm_arguments",
    "command_tools",
    "llm_config",
    "respond_llm",
]

_UPDATE_EVERY = 0.08  # seconds between in-place updates of a streaming message

SYSTEM_PROMPT = """You are the ChatOps assistant of a backtesting chat.
Users ask, in English or Korean, to backtest, compare and sweep trading strategies.
To do something, call one of the tools: each tool is a slash command, `args` is everything
after the command name, e.g. run_backtest(args="strategy_1 symbol=ALPHA start=2015-01-01").
Dates are YYYY-MM-DD; sweep ranges are param=lo:hi:step. A strategy described in words is
create_strategy(args='name=dip entry="rsi(14) < 30" exit="rsi(14) > 70" stop_loss=5%') in the
rule language (sma ema rsi atr ... crosses_above; $params with defaults such as fast=12); stops,
targets and sizing (stop_loss= take_profit= trailing_stop= size= risk=) go on any run, and a
stored strategy is named by id or name. Answer briefly, in the user's
language. Never invent results: the command posts its own result. For small talk, answer in
one sentence and mention /help.
Known strategies and templates: {strategies}. Known symbols: {symbols}."""


class LLMUnavailable(RuntimeError):
    """The endpoint timed out, failed or answered something unusable (message says which)."""


@dataclass(frozen=True)
class LLMConfig:
    """Where and how to reach the model. ``timeout`` bounds a whole answer, ``read_timeout``
    the silence between two streamed chunks, ``connect_timeout`` the connection."""

    base_url: str
    model: str
    api_key: str | None = None
    timeout: float = 60.0
    connect_timeout: float = 5.0
    read_timeout: float = 20.0
    history: int = 12

    @property
    def endpoint(self) -> str:
        """The chat-completions URL under ``base_url``."""
        return self.base_url.rstrip("/") + "/chat/completions"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> LLMConfig | None:
        """``CHATOPS_LLM_BASE_URL`` + ``CHATOPS_LLM_MODEL`` (+ API key, timeout), else None."""
        env = os.environ if env is None else env
        base, model = env.get("CHATOPS_LLM_BASE_URL"), env.get("CHATOPS_LLM_MODEL")
        if not base or not model:
            return None
        timeout = float(env.get("CHATOPS_LLM_TIMEOUT") or 60.0)
        return cls(base, model, env.get("CHATOPS_LLM_API_KEY") or None, timeout=timeout)


def add_llm_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--llm-base-url``, ``--llm-model``, ``--llm-api-key``, ``--llm-timeout``."""
    parser.add_argument(
        "--llm-base-url",
        default=None,
        help="OpenAI-compatible API base URL, e.g. http://127.0.0.1:11434/v1 "
        "(default: env CHATOPS_LLM_BASE_URL; unset = built-in offline parser only)",
    )
    parser.add_argument("--llm-model", default=None, help="model name (env CHATOPS_LLM_MODEL)")
    parser.add_argument("--llm-api-key", default=None, help="API key (env CHATOPS_LLM_API_KEY)")
    parser.add_argument(
        "--llm-timeout", type=float, default=None, help="seconds per answer (default 60)"
    )


def llm_config(
    base_url: str | None = None,
    model: str | None = None,
    api_key: str | None = None,
    timeout: float | None = None,
) -> LLMConfig | None:
    """The LLM settings from the arguments, else the env variables; None if neither names one.

    >>> llm_config("http://127.0.0.1:11434/v1", "llama3").model
    'llama3'
    """
    env = os.environ
    base = base_url or env.get("CHATOPS_LLM_BASE_URL")
    name = model or env.get("CHATOPS_LLM_MODEL")
    if not base or not name:
        return None
    return LLMConfig(
        base,
        name,
        api_key or env.get("CHATOPS_LLM_API_KEY") or None,
        timeout=timeout or float(env.get("CHATOPS_LLM_TIMEOUT") or 60.0),
    )


def command_tools(host: Any) -> list[dict[str, Any]]:
    """The host's commands as OpenAI function tools."""
    tools = []
    for spec in host.router.specs():
        desc = f"{spec['summary']} Usage: {spec['usage']}"
        if spec.get("details"):
            desc += f" {spec['details']}"
        tools.append(
            {
                "type": "function",
                "function": {
                    "name": spec["name"],
                    "description": desc[:1000],
                    "parameters": {
                        "type": "object",
                        "properties": {
                            "args": {
                                "type": "string",
                                "description": "everything after the command name, "
                                "e.g. 'strategy_1 symbol=ALPHA fast=10'",
                            }
                        },
                    },
                },
            }
        )
    return tools


def _messages(
    host: Any, session_id: str, text: str, config: LLMConfig, names: Names
) -> list[dict[str, Any]]:
    strategies, symbols = names
    system = SYSTEM_PROMPT.format(
        strategies=", ".join((strategies or [])[:40]) or "unknown (see /strategies)",
        symbols=", ".join((symbols or [])[:40]) or "unknown (see /data)",
    )
    out: list[dict[str, Any]] = [{"role": "system", "content": system}]
    last = host.store.last_seq(session_id)
    recent = host.store.messages_after(session_id, max(0, last - config.history))
    for m in recent:
        if m.role in ("user", "assistant") and m.content:
            out.append({"role": m.role, "content": m.content[:2000]})
    if len(out) == 1 or out[-1] != {"role": "user", "content": text[:2000]}:
        out.append({"role": "user", "content": text[:2000]})
    return out


class _Stream:
    """Accumulates one streamed answer and mirrors its text into the chat panel."""

    def __init__(self, host: Any, session_id: str, model: str):
        self.host, self.session_id, self.model = host, session_id, model
        self.text = ""
        self.calls: dict[int, dict[str, str]] = {}
        self.message: Any = None
        self._shown = ""
        self._last = 0.0

    async def feed(self, delta: Mapping[str, Any], *, live: bool = True) -> None:
        if delta.get("content"):
            self.text += str(delta["content"])
            if live:
                await self.show(final=False)
        for call in delta.get("tool_calls") or ():
            slot = self.calls.setdefault(int(call.get("index", 0)), {"name": "", "arguments": ""})
            fn = call.get("function") or {}
            slot["name"] += fn.get("name") or ""
            slot["arguments"] += fn.get("arguments") or ""

    async def show(self, *, final: bool, suffix: str = "") -> None:
        text = self.text + suffix
        if not text.strip():
            return
        meta = {"assistant": {"source": "llm", "model": self.model}}
        if self.message is None:
            self.message = await self.host.publish(
                self.session_id, "assistant", text, {**meta, "streaming": not final}
            )
            if final:
                return
        elif final or time.monotonic() - self._last >= _UPDATE_EVERY:
            if text == self._shown and not final:
                return
            self.message = await update_message(
                self.host, self.message, text, streaming=not final, metadata=meta
            )
        else:
            return
        self._shown, self._last = text, time.monotonic()


async def _read(resp: aiohttp.ClientResponse, stream: _Stream) -> None:
    if "text/event-stream" not in resp.headers.get("Content-Type", ""):
        body = await resp.json(content_type=None)
        msg = (body.get("choices") or [{}])[0].get("message") or {}
        calls = [{**c, "index": i} for i, c in enumerate(msg.get("tool_calls") or [])]
        await stream.feed({"content": msg.get("content"), "tool_calls": calls}, live=False)
        return
    async for raw in resp.content:
        line = raw.decode("utf-8", "replace").strip()
        if not line.startswith("data:"):
            continue
        data = line[5:].strip()
        if data == "[DONE]":
            return
        chunk = json.loads(data)
        if chunk.get("error"):
            raise LLMUnavailable(f"endpoint error: {str(chunk['error'])[:200]}")
        for choice in chunk.get("choices") or ():
            await stream.feed(choice.get("delta") or {})


async def respond_llm(
    host: Any, session_id: str, text: str, config: LLMConfig, names: Names = (None, None)
) -> None:
    """Answer ``text`` with the model; raise :class:`LLMUnavailable` to fall back."""
    body = {
        "model": config.model,
        "messages": _messages(host, session_id, text, config, names),
        "tools": command_tools(host),
        "tool_choice": "auto",
        "stream": True,
    }
    headers = {"Content-Type": "application/json"}
    if config.api_key:
        headers["Authorization"] = f"Bearer {config.api_key}"
    timeout = aiohttp.ClientTimeout(
        total=config.timeout, sock_connect=config.connect_timeout, sock_read=config.read_timeout
    )
    stream = _Stream(host, session_id, config.model)
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as http,
            http.post(config.endpoint, json=body, headers=headers) as resp,
        ):
            if resp.status != 200:
                detail = (await resp.text())[:200]
                raise LLMUnavailable(f"HTTP {resp.status} from {config.endpoint}: {detail}")
            await _read(resp, stream)
    except (aiohttp.ClientError, asyncio.TimeoutError, ValueError, LLMUnavailable) as exc:
        if stream.message is not None:
            await stream.show(final=True, suffix=" …")
        if isinstance(exc, LLMUnavailable):
            raise
        reason = "timed out" if isinstance(exc, asyncio.TimeoutError) else str(exc) or repr(exc)
        raise LLMUnavailable(f"{type(exc).__name__}: {reason}"[:300]) from exc
    await stream.show(final=True)
    if not stream.text.strip() and not stream.calls:
        raise LLMUnavailable("the model returned an empty answer")
    for _, call in sorted(stream.calls.items()):
        await _run_tool_call(
            host, session_id, call["name"], call["arguments"], config.model, lang_of(text)
        )


def _args_text(arguments: str) -> str:
    try:
        parsed = json.loads(arguments) if arguments.strip() else {}
    except ValueError:
        return arguments.strip()
    if isinstance(parsed, dict):
        if "args" in parsed:
            return str(parsed["args"]).strip()
        return " ".join(f"{k}={v}" for k, v in parsed.items())
    return str(parsed)


async def _run_tool_call(
    host: Any, session_id: str, name: str, arguments: str, model: str, lang: str = "en"
) -> None:
    names = {s["name"] for s in host.router.specs()}
    meta = {"assistant": {"source": "llm", "model": model, "tool": name}}
    if name not in names:
        await host.publish(
            session_id,
            "system",
            f"The language model asked for an unknown command {name!r}; nothing was run.",
            meta,
        )
        return
    command = f"/{name} {_args_text(arguments)}".strip()
    if len(command) > MAX_COMMAND_CHARS or "\n" in command:
        await host.publish(
            session_id, "system", "The language model sent a malformed command; not run.", meta
        )
        return
    await host.publish(session_id, "assistant", f"Running `{command}`.", meta)
    await run_understood(host, session_id, command, lang=lang, source="llm")
