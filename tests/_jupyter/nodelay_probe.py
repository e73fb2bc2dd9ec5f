"""A Jupyter Server extension for tests only: ``GET /chatops-probe/nodelay`` lists TCP_NODELAY
(0 or 1) of every open kernel websocket's socket, read on the server's side."""

from __future__ import annotations

import json
import socket

from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.services.kernels.connection.channels import ZMQChannelsWebsocketConnection
from tornado import web


class NoDelayProbe(JupyterHandler):
    @web.authenticated
    def get(self) -> None:
        flags = []
        for conn in list(ZMQChannelsWebsocketConnection._open_sockets):
            stream = conn.websocket_handler.ws_connection.stream
            flags.append(stream.socket.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"nodelay": flags}))


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "nodelay_probe"}]


def _load_jupyter_server_extension(serverapp) -> None:
    serverapp.web_app.add_handlers(".*$", [("/chatops-probe/nodelay", NoDelayProbe)])
