"""What the backtest service tells the chat on its own: runs a dead server left unfinished,
and worker processes that broke or work again (``self``: the :class:`~.service.BacktestService`).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

from chatops_widget.server.faults import StorageError

__all__ = ["settle_interrupted", "worker_notice"]


async def settle_interrupted(self: Any) -> None:
    """At start: runs a dead server left unfinished are failed, and their sessions told."""
    try:
        lost = self.runlog.interrupted()
    except StorageError:
        return
    by_session: dict[str, list[dict[str, Any]]] = {}
    for row in lost:
        if self.results.record(row["runId"]) is not None:  # its result made it to disk
            self.runlog.ended(row["runId"], "completed")
            continue
        by_session.setdefault(row["sessionId"], []).append(row)
    for session_id, rows in by_session.items():
        names = ", ".join(f"**{r['runId']}** (`{r['command'] or r['kind']}`)" for r in rows)
        many = len(rows) > 1
        text = (
            f"{'These runs were' if many else 'This run was'} interrupted: the server "
            f"restarted while {'they' if many else 'it'} ran (it had stopped or crashed) "
            f"-- {names}. Start {'them' if many else 'it'} again."
        )
        with contextlib.suppress(StorageError):
            await self.host.publish(session_id, "system", text, {"interrupted": len(rows)})


def worker_notice(self: Any, kind: str, text: str) -> None:
    """Tell the sessions with recent runs that the worker processes broke or work again."""
    recent = {j.session_id for j in self.jobs.of_session() if time.time() - j.created < 3600}
    note = (
        f"The backtest worker processes keep crashing: {text}. Runs fail until they start."
        if kind == "broken"
        else "The backtest worker processes work again; new runs go ahead."
    )
    for session_id in sorted(recent):
        task = asyncio.ensure_future(
            self.host.publish(session_id, "system", note, {"workers": kind})
        )
        self._notes.add(task)
        task.add_done_callback(self._notes.discard)
