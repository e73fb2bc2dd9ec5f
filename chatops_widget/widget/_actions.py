"""What the panel does besides chat and results (mixed into :class:`~._widget.ChatOpsWidget`):
the Sessions menu (list, create, join, leave), the widget's own name in the notebook (so
replies say ``w.results[...]``), the Python call behind each result card ("copy as code"), and
export (``w.export(path)``, ``/export [file.ipynb | file.html]`` in the panel).

Example:
    >>> w = ChatOpsWidget()                       # doctest: +SKIP
    >>> w                                         # doctest: +SKIP
    >>> w.python_name                             # doctest: +SKIP
    'w'
    >>> w.export("research.html")                 # doctest: +SKIP
    PosixPath('/home/me/research.html')
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..protocol import SESSION_ID_PATTERN, ProtocolError
from ._code import python_call

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
    python_name: str
    if TYPE_CHECKING:  # provided by the widget

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
