"""What the backtest command modules share: the running :class:`.BacktestService` of a server
and the template a command's target names.

Example:
    >>> svc = service(ctx)                        # doctest: +SKIP
    >>> template_of(svc, "strategy_1").name       # doctest: +SKIP
    'sma_cross'
"""

from __future__ import annotations

from typing import Any

from chatops_widget import engine
from chatops_widget.protocol import ErrorCode, ProtocolError

from .service import BacktestService

__all__ = ["service", "template_of"]


def service(ctx_or_server: Any) -> BacktestService:
    """The server's backtest service (from a command context or the server itself)."""
    server = getattr(ctx_or_server, "server", ctx_or_server)
    svc = server.state.get("backtest")
    if svc is None:
        raise ProtocolError(ErrorCode.INTERNAL, "the backtest service is not running yet; retry")
    return svc


def template_of(svc: BacktestService, target: str) -> engine.Template | None:
    """The template a strategy id or template name stands for (``None`` if neither)."""
    s = svc.strategies.get(target)
    return engine.templates().get(s.template if s else target.strip().lower())
