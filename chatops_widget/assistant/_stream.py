"""Update a published chat message in place (for text streamed by an LLM).

Thin wrapper over :meth:`ChatOpsServer.update_message`: the message is emitted again with the
**same id and seq** and new content (clients upsert by id); the final text is persisted.

Example:
    >>> msg = await host.publish(sid, "assistant", "", {"streaming": True})  # doctest: +SKIP
    >>> msg = await update_message(host, msg, "Hel", streaming=True)         # doctest: +SKIP
    >>> msg = await update_message(host, msg, "Hello", streaming=False)      # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

__all__ = ["update_message"]


async def update_message(
    host: Any,
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
    return await host.update_message(message.sessionId, message.id, content, meta)
