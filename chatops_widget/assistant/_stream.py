"""Update a published chat message in place (for text streamed by an LLM).

The server's ``publish`` persists a message and emits ``message``; this module adds the missing
half: emit ``message`` again with the **same id and seq** and new content (clients upsert by
id), and persist the final text. It uses ``server.update_message(...)`` when the server has one;
otherwise it updates the row through the store's SQLite file (``server.store.path``, WAL mode,
safe beside the server's own connection) and emits with ``server.emit_to_session``.

Example:
    >>> msg = await server.publish(sid, "assistant", "", {"streaming": True})  # doctest: +SKIP
    >>> msg = await update_message(server, msg, "Hel", streaming=True)         # doctest: +SKIP
    >>> msg = await update_message(server, msg, "Hello", streaming=False)      # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from typing import Any

__all__ = ["update_message"]


def _persist(path: Any, message_id: str, content: str, metadata: dict[str, Any]) -> None:
    db = sqlite3.connect(path, isolation_level=None, timeout=5.0)
    try:
        db.execute(
            "UPDATE messages SET content = ?, metadata = ? WHERE id = ?",
            (content, json.dumps(metadata, default=str), message_id),
        )
    finally:
        db.close()


async def update_message(
    server: Any,
    message: Any,
    content: str,
    *,
    streaming: bool,
    metadata: dict[str, Any] | None = None,
) -> Any:
    """Replace ``message``'s content (same id/seq) for everyone in its session.

    ``streaming=True`` marks an intermediate state (metadata ``{"streaming": true}``, emitted
    only); ``streaming=False`` is the final text, persisted so history and late joiners see it.
    Returns the updated ``ChatMessage``.
    """
    meta = {**(message.metadata or {}), **(metadata or {}), "streaming": streaming}
    native = getattr(server, "update_message", None)
    if native is not None:
        return await native(message.sessionId, message.id, content, meta)
    updated = message.model_copy(update={"content": content, "metadata": meta})
    if not streaming:
        await asyncio.to_thread(_persist, server.store.path, message.id, content, meta)
    await server.emit_to_session(message.sessionId, "message", updated.wire())
    return updated
