"""The ChatOps server: python-socketio ``AsyncServer`` (ASGI, under uvicorn) + SQLite + commands.

- :class:`ChatOpsServer` -- the socket.io app (``.asgi_app``), ``publish``, ``run_command``;
- :class:`EmbeddedServer` -- the same in a background thread on a free port;
- :data:`router` / :class:`CommandRouter` -- where slash commands register;
- ``chatops-widget serve`` -- the CLI (:mod:`chatops_widget.server.cli`).

Example:
    >>> from chatops_widget.server import EmbeddedServer
    >>> with EmbeddedServer(data_dir=tempfile.mkdtemp()) as srv:   # doctest: +SKIP
    ...     print(srv.url, srv.token)
"""

from .app import ChatOpsServer, default_data_dir
from .embedded import EmbeddedServer
from .router import (
    CommandContext,
    CommandReply,
    CommandRouter,
    ParsedCommand,
    parse_command,
    router,
)

__all__ = [
    "ChatOpsServer",
    "EmbeddedServer",
    "CommandContext",
    "CommandReply",
    "CommandRouter",
    "ParsedCommand",
    "parse_command",
    "router",
    "default_data_dir",
]
