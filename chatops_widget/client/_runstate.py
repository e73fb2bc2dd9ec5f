"""What the kernel knows of one run: :class:`RunState`, kept by the
:class:`~._tracker.RunTracker` (and read by its early fetches, :mod:`._prefetch`)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

__all__ = ["RunState"]


@dataclass
class RunState:
    """What the tracker knows of one run (updated on the client's event-loop thread)."""

    run_id: str
    session_id: str | None
    kind: str | None = None
    status: str = "queued"
    progress: float = 0.0
    strategy_id: str | None = None
    label: str | None = None
    command: str | None = None
    summary: dict[str, Any] | None = None
    error: str | None = None
    error_code: str | None = None
    seen: bool = False
    mine: bool = False
    updated: float = field(default_factory=time.time)
