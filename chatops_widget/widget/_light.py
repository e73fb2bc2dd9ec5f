"""What the panel needs before any result arrives, without numpy or pandas: the upload limits,
the chat history's custom messages (:func:`history_chunks`) and :func:`jsonable` for the plain
data of a join (strategies, templates, progress).

The panel's first "connected" must not wait for numpy, pandas or pyarrow (:mod:`._sync` and
the engine are imported when a result or an upload needs them, or by the warm-up that starts
once the panel is connected). A numpy or pandas value can only exist once its module is
imported, so :func:`jsonable` looks for those types only then.

Example:
    >>> jsonable({"a": float("nan"), "b": [1, (2.5, "x")]})
    {'a': None, 'b': [1, [2.5, 'x']]}
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterator
from typing import Any

__all__ = [
    "HISTORY_CHUNK",
    "MAX_PANEL_UPLOAD_BYTES",
    "PANEL_PART_BYTES",
    "first_constants",
    "history_chunks",
    "jsonable",
]

#: The most a CSV uploaded from the panel may hold (bytes); bigger files go in the data folder.
MAX_PANEL_UPLOAD_BYTES = 2 * 1024**3
#: The panel sends a CSV over this many bytes in ``upload_part`` messages of this size each.
PANEL_PART_BYTES = 4 * 1024 * 1024
#: The most chat messages one ``history`` custom message holds.
HISTORY_CHUNK = 2000


def first_constants() -> dict[str, Any]:
    """The panel's constants from its first render: the protocol's, with the panel's own upload
    limits (a file chosen right after "connected" must already go in parts); the engine's stats
    and rule language follow once connected (:func:`._sync.frontend_constants`).

    >>> first_constants()["limits"]["maxPanelPartBytes"] == PANEL_PART_BYTES
    True
    """
    from ..protocol import frontend_constants

    consts = frontend_constants()
    limits = {**consts["limits"], "maxPanelUploadBytes": MAX_PANEL_UPLOAD_BYTES,
              "maxPanelPartBytes": PANEL_PART_BYTES}  # fmt: skip
    return {**consts, "limits": limits}


def jsonable(value: Any) -> Any:
    """Stats and table values as JSON (NaN/inf -> None, numpy scalars -> Python)."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    np = sys.modules.get("numpy")  # not imported: no value is a numpy scalar
    if np is not None and isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    pd = sys.modules.get("pandas")  # not imported: no value is a Timestamp
    if pd is not None and isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value


def history_chunks(
    messages: list[dict], to: str | None, size: int = HISTORY_CHUNK
) -> Iterator[dict[str, Any]]:
    """The ``history`` custom message(s): the first resets the front end, the rest append."""
    if not messages:
        yield {"type": "history", "to": to, "messages": [], "reset": True}
        return
    for start in range(0, len(messages), size):
        yield {
            "type": "history",
            "to": to,
            "messages": messages[start : start + size],
            "reset": start == 0,
            "final": start + size >= len(messages),
        }
