"""A job: one run's identity, status and progress, as the :class:`~.manager.JobManager` keeps it."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

from chatops_widget.protocol import TERMINAL_STATUSES

__all__ = ["Job", "JobCancelled"]


class JobCancelled(Exception):
    """Raised inside a job's coroutine when the job was cancelled."""


@dataclass
class Job:
    """One run: who/what/where, its status and progress (0-100, monotonic)."""

    run_id: str
    session_id: str
    kind: str
    strategy_id: str | None = None
    command: str | None = None
    started_by: str | None = None
    label: str | None = None
    status: str = "queued"
    progress: float = 0.0
    error: str | None = None
    created: float = field(default_factory=time.time)
    finished: float | None = None
    engine_seconds: float = 0.0
    cancel_requested: bool = False
    announced: bool = False  # the first ("queued") report went out
    waiters: list[asyncio.Future[bool]] = field(default_factory=list, repr=False, compare=False)

    @property
    def done(self) -> bool:
        """Whether the job has ended (completed, failed or cancelled)."""
        return self.status in TERMINAL_STATUSES

    def info(self) -> dict[str, Any]:
        """A JSON-able row for ``/status`` and ``client.runs``."""
        return {
            "runId": self.run_id,
            "kind": self.kind,
            "status": self.status,
            "progress": round(self.progress, 1),
            "strategyId": self.strategy_id,
            "label": self.label,
            "startedBy": self.started_by,
            "command": self.command,
            "created": self.created,
            "finished": self.finished,
            "error": self.error,
        }
