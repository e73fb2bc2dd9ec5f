"""chatops-widget: run and compare trading-strategy backtests by chatting, inside JupyterLab.

Four parts, data flowing one way:

- :mod:`chatops_widget.protocol` -- the one schema the server and every client use;
- :mod:`chatops_widget.server` -- the python-socketio ChatOps server (``chatops-widget serve``);
- :class:`ChatOpsClient` -- the kernel-side client (the seed's ``useChatOps`` hook in Python);
- :class:`ChatOpsWidget` -- the anywidget chat panel;

and :mod:`chatops_widget.engine`, the pure numpy/pandas backtest engine behind the commands.

Example (in a notebook cell; ``w`` shows the panel):
    >>> from chatops_widget import ChatOpsWidget
    >>> w = ChatOpsWidget()  # doctest: +SKIP
    >>> w  # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._version import __version__

__all__ = ["ChatOpsClient", "ChatOpsWidget", "__version__"]

if TYPE_CHECKING:
    from .client import ChatOpsClient
    from .widget import ChatOpsWidget


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    """Jupyter Server's entry point: :mod:`chatops_widget._jupyter_server` (kernel websockets
    that send each frame at once)."""
    return [{"module": "chatops_widget._jupyter_server"}]


def __getattr__(name: str) -> Any:
    # Lazy: importing the engine alone must not pull in socket.io or anywidget.
    if name == "ChatOpsClient":
        from .client import ChatOpsClient

        return ChatOpsClient
    if name == "ChatOpsWidget":
        from .widget import ChatOpsWidget

        return ChatOpsWidget
    raise AttributeError(f"module 'chatops_widget' has no attribute {name!r}")
