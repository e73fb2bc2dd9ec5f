"""The tiny HTTP front beside the socket.io endpoint, and where a server keeps its data.

``GET /`` (and ``/healthz``) describe the server without a token; every other path is a 404
that names the socket.io path.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from .._version import __version__
from ..protocol import SOCKETIO_PATH

__all__ = ["default_data_dir", "describe"]


def default_data_dir() -> Path:
    """The per-user data dir: ``$CHATOPS_DATA_DIR``, else ``platformdirs.user_data_dir()``.

    >>> default_data_dir().name in ("chatops-widget", os.environ.get("CHATOPS_DATA_DIR", "")[-14:])
    True
    """
    from platformdirs import user_data_dir

    return Path(os.environ.get("CHATOPS_DATA_DIR") or user_data_dir("chatops-widget"))


async def describe(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """ASGI app: ``GET /`` describes the server (no data, no token needed)."""
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
