"""The ChatOps server: a generic socket.io chat host, and the plugins that give it commands.

- :class:`ChatOpsServer` -- the socket.io app (``.asgi_app``): sessions, messages, commands;
- :class:`EmbeddedServer` -- the same in a background thread on a free port;
- :class:`Plugin` / :class:`Host` -- what a plugin is and what it sees (:mod:`.host`);
- :class:`CommandRouter`, :func:`command`, :class:`CommandContext`, :class:`CommandReply` --
  how commands are written (:mod:`.router`, :mod:`.grammar`);
- :func:`standard_plugins` -- the backtest plugin (:mod:`.backtest`) and the assistant;
- ``chatops-widget serve`` -- the CLI (:mod:`.cli`).

Example:
    >>> from chatops_widget.server import EmbeddedServer
    >>> with EmbeddedServer(data_dir=tempfile.mkdtemp()) as srv:   # doctest: +SKIP
    ...     print(srv.url, srv.token)
"""

from ._http import default_data_dir
from .app import ChatOpsServer
from .embedded import EmbeddedServer
from .grammar import ParsedCommand, parse_command
from .host import CommandContext, CommandReply, Host, Plugin
from .plugins import standard_plugins
from .router import CommandRouter, CommandSpec, command

__all__ = [
    "ChatOpsServer",
    "CommandContext",
    "CommandReply",
    "CommandRouter",
    "CommandSpec",
    "EmbeddedServer",
    "Host",
    "ParsedCommand",
    "Plugin",
    "command",
    "default_data_dir",
    "parse_command",
    "standard_plugins",
]
