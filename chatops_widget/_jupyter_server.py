"""A Jupyter Server extension: kernel websockets send each frame at once (``TCP_NODELAY``).

Tornado, under Jupyter Server, leaves Nagle's algorithm on for the kernel websocket. A frame
written while an earlier one is not yet acknowledged then waits for the browser's ACK, which
the browser delays (up to 40 ms). On one machine the panel meets this on every run: the run's
"completed" and its reply go out as small frames, and the result card's frame (~30 kB, one
segment on loopback) waits behind them. Measured in ``benchmarks/bench_widget_sync.py``: the
first frames of a run reached the page ~26 ms sooner with it, the result frame's hop from the
kernel to the page went from ~12-22 ms to ~5 ms (medians). Any widget's messages gain; the cost
is more, smaller TCP segments, which websockets of interactive pages already are.

Installed with the package and enabled by ``jupyter-config/`` (Jupyter Server reads
``etc/jupyter/jupyter_server_config.d/chatops_widget.json``); turn it off with
``jupyter server extension disable chatops_widget``. It wraps whichever kernel websocket
connection class the server is configured with (a gateway's too) and changes nothing else.

Example:
    >>> from jupyter_server.services.kernels.connection.channels import (
    ...     ZMQChannelsWebsocketConnection)
    >>> cls = nodelay_connection_class(ZMQChannelsWebsocketConnection)
    >>> cls.__name__, issubclass(cls, ZMQChannelsWebsocketConnection)
    ('NoDelayZMQChannelsWebsocketConnection', True)
    >>> nodelay_connection_class(cls) is cls  # wrapped once
    True
"""

from __future__ import annotations

from typing import Any

__all__ = ["nodelay_connection_class"]

_SETTING = "kernel_websocket_connection_class"


def nodelay_connection_class(base: type) -> type:
    """A subclass of the kernel websocket connection class ``base`` whose ``connect`` first
    turns Nagle's algorithm off on the browser's websocket."""
    if getattr(base, "_chatops_nodelay", False):
        return base

    class NoDelay(base):  # a subclass of a class known only at run time
        _chatops_nodelay = True

        def connect(self) -> Any:
            try:
                self.websocket_handler.set_nodelay(True)
            except Exception:  # no such socket option here: the frames still go, as before
                self.log.debug("chatops_widget: cannot set TCP_NODELAY", exc_info=True)
            return super().connect()

    NoDelay.__name__ = NoDelay.__qualname__ = f"NoDelay{base.__name__}"
    NoDelay.__doc__ = f"{base.__name__}, with TCP_NODELAY on the browser's websocket."
    return NoDelay


def _load_jupyter_server_extension(serverapp: Any) -> None:
    """Jupyter Server calls this once at start-up (see the module docstring)."""
    settings = serverapp.web_app.settings
    base = settings.get(_SETTING)
    if base is None:  # a server without kernel websockets (or an API we do not know)
        serverapp.log.info("chatops_widget: no kernel websocket connection class; left as is")
        return
    settings[_SETTING] = nodelay_connection_class(base)
    serverapp.log.info("chatops_widget: kernel websockets send frames at once (TCP_NODELAY)")
