"""The session side of :class:`~chatops_widget.client.ChatOpsClient` (private): which session
the client is in, its messages as they arrived, and creating, joining and leaving sessions."""

from __future__ import annotations

from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

from .._lazy import lazy_module
from ..protocol import JoinSession, ProtocolError, parse
from ._connection import Connection, log
from ._decode import history_frame
from ._requests import unique_session_id
from ._wire import check_ack

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")

__all__ = ["SessionsMixin"]


class SessionsMixin:
    """Session state and membership; the client supplies the connection and its loop."""

    _conn: Connection

    def _run(self, coro: Coroutine[Any, Any, Any], timeout: float | None = None) -> Any:
        raise NotImplementedError  # ChatOpsClient's

    @property
    def current_session_id(self) -> str | None:
        """The joined session's id (``session_<ms>``), or None outside any session."""
        return self._conn.session_id

    @property
    def commands(self) -> list[dict[str, Any]]:
        """Command specs (name, usage, summary, details) from the last join ack."""
        return list(self._conn.join_ack.get("commands", []))

    @property
    def join_info(self) -> dict[str, Any]:
        """The last ``joinSession`` ack (includes plugin extras such as ``strategies``)."""
        return dict(self._conn.join_ack)

    @property
    def messages(self) -> list[dict[str, Any]]:
        """The current session's ChatMessages (dicts), in ``seq`` order, each once."""
        with self._conn.lock:
            return [self._conn.messages[k] for k in sorted(self._conn.messages)]

    @property
    def history(self) -> pd.DataFrame:
        """The current session's messages as a DataFrame: seq, id, role, content, timestamp, ..."""
        return history_frame(self.messages)

    # ------------------------------------------------------------------ sessions

    def create_session(self, name: str | None = None) -> str:
        """Create a session (``session_<epoch ms>``), join it and return its id.

        Ids are unique within the process (two panels connecting at once get two sessions).
        """
        session_id = unique_session_id(self._conn.session_id)
        self._join(session_id, name)
        return session_id

    def join_session(self, session_id: str) -> dict[str, Any]:
        """Join ``session_id`` (leaving the current one) and fetch its history; returns the ack."""
        return self._join(session_id, None)

    def _join(self, session_id: str, name: str | None) -> dict[str, Any]:
        parse(JoinSession, {"sessionId": session_id})  # a bad id fails before anything changes
        previous = self._conn.session_id
        if previous and previous != session_id:
            self.leave_session()
        try:
            return check_ack(self._run(self._conn.join(session_id, name)))
        except ProtocolError:
            self._conn.session_id = None  # refused: in no session, and no re-join on reconnect
            raise

    def leave_session(self) -> None:
        """Leave the current session; no more messages arrive from it (history stays readable)."""
        session_id = self._conn.session_id
        if session_id is None:
            return
        self._conn.session_id = None
        if self._conn.connected:
            try:
                self._run(self._conn.direct("leaveSession", {"sessionId": session_id}))
            except (ConnectionError, TimeoutError) as exc:
                log.info("leaveSession %s: %s (left anyway)", session_id, exc)

    def _ensure_session(self) -> str:
        return self._conn.session_id or self.create_session()
