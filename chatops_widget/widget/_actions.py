"""What the panel does besides chat (mixed into :class:`~._widget.ChatOpsWidget`): the result
cards (each run's sent once, from the client's cached result), the Sessions menu (list, create,
join, leave), the widget's own name in the notebook (so replies say ``w.results[...]``), the
Python call behind each result card ("copy as code"), and export (``w.export(path)``,
``/export [file.ipynb | file.html]`` in the panel).

Example:
    >>> w = ChatOpsWidget()                       # doctest: +SKIP
    >>> w                                         # doctest: +SKIP
    >>> w.python_name                             # doctest: +SKIP
    'w'
    >>> w.export("research.html")                 # doctest: +SKIP
    PosixPath('/home/me/research.html')
"""

from __future__ import annotations

import logging
import re
import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..protocol import SESSION_ID_PATTERN, ProtocolError
from ._code import python_call
from ._connect import sync

__all__ = ["EXPORT_COMMAND", "PanelActions", "variable_name"]

#: the panel's own command (run in the kernel, never sent to the server)
EXPORT_COMMAND = {
    "name": "export",
    "usage": "/export [file.ipynb | file.html]",
    "summary": "Export this session: a notebook that reruns every run, or an HTML report.",
    "details": "Downloads the file in the panel; with a file name it is also saved there "
    "(relative to the notebook's folder). Python: `w.export('session.ipynb')`.",
    "example": "/export report.html",
}
_DOWNLOAD_LIMIT = 64 * 1024 * 1024  # bytes sent to the browser at most (bigger: saved only)
startup = logging.getLogger("chatops_widget.startup")  # timestamps for benchmarks/coldstart


def variable_name(obj: Any) -> str:
    """The name ``obj`` is bound to in the IPython user namespace (``w`` after
    ``w = ChatOpsWidget()``), or "" outside IPython or when it has none of its own.

    >>> variable_name(object())
    ''
    """
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - no IPython: no notebook namespace to look in
        return ""
    shell = get_ipython()
    if shell is None:
        return ""
    for _ in range(3):  # the kernel may bind names meanwhile (this runs off its thread)
        try:
            names = [k for k, v in list(shell.user_ns.items()) if v is obj]
            break
        except RuntimeError:
            continue
    else:
        return ""
    names = [n for n in names if re.fullmatch(r"[^\W_]\w*", n) and n not in ("In", "Out")]
    return min(names, key=lambda n: (len(n), n)) if names else ""


class PanelActions:
    """Sessions menu, own name, copy-as-code and export for the widget (see the module)."""

    _client: Any
    _lock: Any
    _pending: Any
    _session: str | None
    _shown: set[str]
    python_name: str
    if TYPE_CHECKING:  # provided by the widget

        def _background(self, fn: Any, *args: Any) -> None: ...

        def _post(self, content: dict[str, Any]) -> None: ...
        def _notice(
            self,
            text: str,
            level: str = "error",
            key: str | None = None,
            action: dict[str, Any] | None = None,
        ) -> None: ...
        def create_session(self, name: str | None = None) -> str: ...
        def join_session(self, session_id: str) -> dict[str, Any]: ...
        def leave_session(self) -> None: ...

    # ------------------------------------------------------------------ result cards

    def _show_once(self, run_id: str, summary: dict[str, Any] | None, command: str | None) -> None:
        """Send ``run_id``'s card unless it went out already (``resultReady``, then the
        ``commandResult`` of the same run)."""
        with self._lock:
            if run_id in self._shown:
                return
            self._shown.add(run_id)
        self._background(self._show_result, run_id, summary, command)

    def _show_result(
        self, run_id: str, summary: dict[str, Any] | None = None, command: str | None = None
    ) -> None:
        """Send a downsampled view of a result (pool thread); the result is the client's
        (``client.results``), fetched once: the same DataFrames in the panel and the kernel."""
        self._pending.get()  # connected: the engine's constants are in the panel (_connect.py)
        session = self._session
        try:
            value = self._client.results[run_id]
        except (KeyError, ProtocolError, TimeoutError, ConnectionError, RuntimeError) as exc:
            retry = {"label": "show result", "send": {"type": "get_result", "runId": run_id}}
            self._notice(f"cannot show {run_id}: {getattr(exc, 'message', exc)}", action=retry)
            return
        startup.debug("widget: result %s fetched", run_id)
        summary = {**self._client.results.summary(run_id), **(summary or {}), "runId": run_id}
        msg = sync.result_payload(value, summary)
        msg["code"] = self._code_for(run_id, summary, command)  # the card's "copy as code"
        engine_seconds = self._client.results.meta(run_id).get("engineSeconds")
        if isinstance(engine_seconds, (int, float)):
            msg["engineSeconds"] = float(engine_seconds)  # the engine's own time, on the card
        if session == self._session:
            self._post(msg)
            startup.debug("widget: result %s sent to the panel", run_id)

    # ------------------------------------------------------------------ sessions menu

    def _session_action(self, action: Any, session_id: Any) -> None:
        try:
            if action == "create":
                self.create_session(session_id or None)
            elif action == "join":
                sid = str(session_id or "").strip()
                if not re.fullmatch(SESSION_ID_PATTERN, sid):
                    raise ValueError(
                        f"{sid!r} is not a session id; expected 'session_' followed by 1-64 "
                        "letters, digits, '_' or '-', e.g. session_1697472000000"
                    )
                self.join_session(sid)
            elif action == "leave":
                self.leave_session()
            elif action == "list":
                ack = self._client.call("getSessions", {"limit": 200})
                current = self._client.current_session_id
                self._post({"type": "sessions", "sessions": ack.get("sessions", []),
                            "total": ack.get("total"), "current": current})  # fmt: skip
            else:
                self._notice(
                    f"unknown session action {action!r}; expected create, join, leave or list"
                )
        except (ProtocolError, TimeoutError, ConnectionError, ValueError) as exc:
            self._notice(f"session {action}: {getattr(exc, 'message', None) or exc}")

    # ------------------------------------------------------------------ own name, code

    def _refresh_name(self) -> str:
        """Look the widget up in the notebook's namespace; keep ``python_name`` in step."""
        name = variable_name(self)
        with self._lock:
            if name != self.python_name:
                self.python_name = name
        return name

    def _code_for(self, run_id: str, summary: dict[str, Any], command: str | None) -> str | None:
        """The Python call equal to run ``run_id`` on this widget's name (else ``client``)."""
        results = self._client.results
        command = command or results.command(run_id) or results.meta(run_id).get("command")
        if not command:
            return None
        return python_call(command, self._refresh_name() or "client", summary)

    # ------------------------------------------------------------------ export

    def export(self, path: str | Path) -> Path:
        """Write this session as a notebook (``.ipynb``: a cell per run that reruns it with
        the Python API, showing its stats) or a standalone HTML report (``.html``: commands,
        calls, charts as inline SVG, stats); the extension picks the format. Returns the path.
        """
        text, _, _ = self._export_text(path)
        target = Path(path).expanduser().resolve()
        target.write_text(text, encoding="utf-8")
        return target

    def _export_text(self, path: str | Path) -> tuple[str, str, int]:
        """``(text, mime, runs)`` of the session's export to ``path``'s format."""
        from . import _export  # pandas, the engine, SVG: loaded by the first export only

        runs = _export.session_runs(self._client)
        text, mime = _export.render(runs, self._client.current_session_id or "", path)
        return text, mime, len(runs)

    def _export_command(self, text: str) -> None:
        """``/export [file]``: download the export in the panel (and save it, given a file)."""
        usage = EXPORT_COMMAND["usage"]
        try:
            args = shlex.split(text)[1:]
        except ValueError as exc:
            self._notice(f"/export: {exc}; usage: {usage}")
            return
        if len(args) > 1:
            self._notice(f"/export takes one file name at most (got {len(args)}); usage: {usage}")
            return
        name = args[0] if args else f"{self._client.current_session_id or 'session'}.ipynb"
        try:
            body, mime, runs = self._export_text(name)
            saved = f"; saved as {self.export(name)}" if args else ""
        except (ValueError, OSError, ImportError, ProtocolError) as exc:
            self._notice(f"/export: {getattr(exc, 'message', None) or exc}")
            return
        shown = "downloaded in the panel"
        if len(body.encode()) <= _DOWNLOAD_LIMIT:
            self._post({"type": "download", "name": Path(name).name, "mime": mime, "text": body})
        else:
            shown = "too big to download here" + ("" if args else "; give a file name to save it")
        self._notice(f"exported {Path(name).name}: {runs} run(s), {shown}{saved}", level="info")
