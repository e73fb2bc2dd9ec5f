"""New ids (sessions, messages, runs) in the seed's formats, and the time stamps messages carry."""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timezone

__all__ = ["new_message_id", "new_run_id", "new_session_id", "utc_now"]


def new_session_id() -> str:
    """A new session id in the seed's format, ``session_<epoch ms>``."""
    return f"session_{int(time.time() * 1000)}"


def new_message_id() -> str:
    """A new message id, ``msg_<32 hex>``."""
    return f"msg_{uuid.uuid4().hex}"


def new_run_id() -> str:
    """A new run id, ``run_<12 hex>``.

    >>> run_id = new_run_id()
    >>> run_id.startswith("run_"), len(run_id)
    (True, 16)
    """
    return f"run_{uuid.uuid4().hex[:12]}"


def utc_now() -> datetime:
    """Now, in UTC (message timestamps)."""
    return datetime.now(timezone.utc)
