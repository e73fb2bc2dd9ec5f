"""What the backtest service asks of the parts plugged into it (interfaces, no behaviour)."""

from __future__ import annotations

from typing import Any, Protocol

__all__ = ["HostedHook"]


class HostedHook(Protocol):
    """What the service asks of the strategies hosted in members' kernels (:mod:`.hosted`)."""

    def check(self, prepared: Any, sid: str | None) -> None:
        """Refuse a run that cannot go now (owner not connected, someone else's private one)."""

    def involved(self, prepared: Any) -> bool:
        """Whether ``prepared`` names a hosted strategy or a finished run."""

    async def run(self, prepared: Any, session_id: str, **fields: Any) -> dict[str, Any]:
        """Run ``prepared`` (in the owner's kernel); its summary."""

    def listing(self) -> list[dict[str, Any]]:
        """Every hosted strategy, as members see it."""

    def names(self) -> list[str]:
        """The hosted strategies' names."""
