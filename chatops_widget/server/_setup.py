"""How a server is put together: plugin modules, the assistant hook, the data dir, the Redis
manager for several servers, and the tiny HTTP front beside the socket.io endpoint."""

from __future__ import annotations

import importlib
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import socketio

from .. import __version__
from ..protocol import SOCKETIO_PATH

if TYPE_CHECKING:
    from .app import ChatOpsServer

__all__ = [
    "AssistantHook",
    "client_manager",
    "default_data_dir",
    "describe",
    "load_default_assistant",
    "load_plugins",
]

#: Command modules imported once, before the first server is built. Each registers its commands,
#: hooks and extra events on :data:`chatops_widget.server.router.router` at import time.
#: Add new plugin modules HERE (a missing module is skipped, so parts can land independently).
_PLUGIN_MODULES: tuple[str, ...] = (
    "chatops_widget.server.backtest.commands.running",
    "chatops_widget.server.backtest.data.uploads",  # needs the service
)

#: Where ``assistant="auto"`` looks for the natural-language hook: ``module:attribute``.
_ASSISTANT_HOOK = "chatops_widget.assistant:assistant"

AssistantHook = Callable[["ChatOpsServer", str, str], Awaitable[None]]


def default_data_dir() -> Path:
    """The per-user data dir (``platformdirs.user_data_dir("chatops-widget")``)."""
    import os

    from platformdirs import user_data_dir

    return Path(os.environ.get("CHATOPS_DATA_DIR") or user_data_dir("chatops-widget"))


def load_plugins() -> None:
    """Import every module in ``_PLUGIN_MODULES`` that exists (idempotent)."""
    for name in _PLUGIN_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise


def load_default_assistant() -> AssistantHook | None:
    """The natural-language hook named by ``_ASSISTANT_HOOK``, or None if it is not installed."""
    module, _, attr = _ASSISTANT_HOOK.partition(":")
    try:
        return getattr(importlib.import_module(module), attr, None)
    except ModuleNotFoundError as exc:
        if exc.name != module:
            raise
        return None


def client_manager(redis_url: str | None) -> socketio.AsyncManager | None:
    """Several servers behind one Redis: python-socketio's ``AsyncRedisManager`` relays room
    broadcasts between them (they share ``--data-dir`` for sessions and messages)."""
    if not redis_url:
        return None
    try:
        import redis.asyncio  # noqa: F401
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise RuntimeError(
            "--redis-url needs the 'redis' package: pip install 'chatops-widget[scale]'"
        ) from exc
    return socketio.AsyncRedisManager(redis_url)


async def describe(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """A tiny HTTP front: ``GET /`` describes the server (no data, no token needed)."""
    if scope["type"] == "lifespan":  # pragma: no cover - handled by socketio.ASGIApp
        return
    if scope["type"] != "http":
        return
    found = scope.get("path", "/") in ("/", "/healthz")
    body = json.dumps(
        {"name": "chatops-widget", "version": __version__, "socketio_path": SOCKETIO_PATH}
        if found
        else {"error": "not found; the socket.io endpoint is " + SOCKETIO_PATH}
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 200 if found else 404,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": body})
