"""The chat panel: an anywidget that shows a :class:`ChatOpsClient`'s session in a notebook cell.

Sync is append-only: small state travels as traitlets (``session_id``, ``connected``,
``reconnect_attempt``, ``commands``, ``strategies``, ``templates``, ``theme``); chat messages go as
custom messages -- the full history once when a front end says ``ready``, then one message per
append. Backtest progress and results (curves downsampled to <= 1000 points) are custom messages
too; the kernel keeps the full DataFrames (:attr:`ChatOpsWidget.results`).

Example:
    >>> from chatops_widget import ChatOpsWidget
    >>> w = ChatOpsWidget()          # no client, no URL: embedded server   # doctest: +SKIP
    >>> w                            # the panel                            # doctest: +SKIP
    >>> w.execute_command("/run_backtest strategy_1")                       # doctest: +SKIP
    >>> w.results                    # run id -> result DataFrames          # doctest: +SKIP
"""

from __future__ import annotations

import logging
import pathlib
import re
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import anywidget
import traitlets

from ..protocol import RESULT_KINDS, RESULT_READY, ErrorCode, ProtocolError
from ._actions import EXPORT_COMMAND, PanelActions
from ._connect import ClientHolder, listing, uploads
from ._light import history_chunks, jsonable
from ._upload_parts import PartUploads

if TYPE_CHECKING:
    from ..client import ChatOpsClient, ResultsView

__all__ = ["ChatOpsWidget"]

log = logging.getLogger("chatops_widget.widget")
startup = logging.getLogger("chatops_widget.startup")  # timestamps for benchmarks/coldstart
_STATIC = pathlib.Path(__file__).parent / "static"
_EVENTS = ("message", "backtestProgress", "commandResult", "error", "connect", "disconnect",
           "reconnect_attempt", "hostedStrategies", RESULT_READY)  # fmt: skip


#: Messages the front end sends (see docs/widget.md, "How it syncs").
_FRONTEND_TYPES = frozenset(
    {"ready", "send", "cancel", "get_result", "session", "upload", "upload_part", "replace_upload"}
)


class ChatOpsWidget(PanelActions, ClientHolder, anywidget.AnyWidget):
    """The ChatOps chat panel, driven by a kernel-side :class:`ChatOpsClient`.

    ``ChatOpsWidget()`` starts an embedded server and a client;
    ``ChatOpsWidget(url=..., token=...)`` connects to a running server;
    ``ChatOpsWidget(client=c)`` shows an existing client (several widgets may share one client);
    ``name=`` is who you are in the session. The client's methods are available on the widget
    (``w.execute_command("/help")``, ``w.trigger_backtest(...)``, ``@w.strategy(...)``, ...).
    """

    _esm = _STATIC / "widget.js"
    #: The panel's styles; anywidget puts them where the view lives (document or shadow root).
    _css = _STATIC / "widget.css"

    session_id = traitlets.Unicode("").tag(sync=True)
    connected = traitlets.Bool(False).tag(sync=True)
    reconnect_attempt = traitlets.Int(0).tag(sync=True)
    commands: traitlets.List[dict[str, Any]] = traitlets.List().tag(sync=True)
    strategies: traitlets.List[dict[str, Any]] = traitlets.List().tag(sync=True)
    templates: traitlets.List[dict[str, Any]] = traitlets.List().tag(sync=True)
    theme = traitlets.Enum(("auto", "light", "dark"), "auto").tag(sync=True)  # auto: the host's
    #: the widget's variable in the notebook ("w"), when it can be known: replies name it
    python_name = traitlets.Unicode("").tag(sync=True)
    #: Run statuses, result kinds, limits, stat units, default cash: the JS keeps no copies.
    constants = traitlets.Dict().tag(sync=True)

    @traitlets.default("constants")
    def _default_constants(self) -> dict[str, Any]:
        from ._light import first_constants  # the engine's stats follow (_connect.py)

        return first_constants()

    def __init__(
        self,
        client: ChatOpsClient | None = None,
        url: str | None = None,
        token: str | None = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        startup.debug("widget: init")
        super().__init__(**kwargs)
        self._lock = threading.RLock()
        self._messages: list[dict[str, Any]] = []
        self._ids: dict[str, int] = {}  # message id -> position in _messages
        self._session: str | None = None
        self._resync_pending = False
        self._recent: dict[str, float] = {}
        self._shown: set[str] = set()  # runs whose card went out (once: resultReady or result)
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="chatops-widget")
        self.uploads: dict[str, Any] = {}
        self._parts = PartUploads(self._post)  # the panel's big uploads, in pieces
        self._handlers = {name: getattr(self, "_on_" + name) for name in _EVENTS}
        self.on_msg(self._on_frontend)
        self._start_client(client, url, token, name)  # without a client: in the background

    # ------------------------------------------------------------------ public API

    @property
    def client(self) -> ChatOpsClient:
        """The kernel-side client this panel shows."""
        return self._client

    @property
    def results(self) -> ResultsView:
        """Run id -> result for every completed run of the session (``client.results``): the
        full DataFrames, of which the panel shows a downsampled view."""
        return self._client.results

    @property
    def history(self) -> Any:
        """The session's messages as a DataFrame (``client.history``)."""
        return self._client.history

    def send_message(self, text: str, **kwargs: Any) -> Any:
        """Send chat text to the session (``client.send_message``)."""
        return self._client.send_message(text, **kwargs)

    def execute_command(self, text: str, **kwargs: Any) -> Any:
        """Run a slash command, e.g. ``"/run_backtest strategy_1"`` (``client.execute_command``)."""
        return self._client.execute_command(text, **kwargs)

    def create_session(self, name: str | None = None) -> str:
        """Create and join a new session; the panel switches to it."""
        sid = self._client.create_session(name)
        self._resync()
        return sid

    def join_session(self, session_id: str) -> dict[str, Any]:
        """Join ``session_id``; the panel shows its history."""
        ack = self._client.join_session(session_id)
        self._resync()
        return ack

    def leave_session(self) -> None:
        """Leave the current session (the panel empties)."""
        self._client.leave_session()
        self._resync()

    def __getattr__(self, name: str) -> Any:
        # Forward the client's other public methods (trigger_backtest, compare_strategies,
        # runs, create_strategy, call, ...) without listing them.
        if name.startswith("_") or "_pending" not in self.__dict__:
            raise AttributeError(name)
        try:
            return getattr(self._client, name)
        except AttributeError:
            raise AttributeError(
                f"'ChatOpsWidget' object has no attribute {name!r} (nor has its client)"
            ) from None

    def close(self) -> None:
        """Detach from the client (closing it if the widget created it) and close the panel."""
        client = self._detach()
        if client is not None:
            for name, fn in self._handlers.items():
                client.off(name, fn)
            if self._owns_client:
                client.close()
        self._pool.shutdown(wait=False)
        self._parts.close()
        super().close()

    # ------------------------------------------------------------------ sending

    def _post(self, content: dict[str, Any]) -> None:
        """A custom message to every front end (thread-safe; ipykernel routes it via IOPub)."""
        with self._lock:
            try:
                self.send(content)
            except Exception:  # the comm is gone (widget closed): nothing to show it on
                log.debug("send failed", exc_info=True)

    def _notice(
        self,
        text: str,
        level: str = "error",
        key: str | None = None,
        action: dict[str, Any] | None = None,
    ) -> None:
        """A local notice in the panel; the same error (by ``key``) shows once per 3 s.

        ``action`` (``{"label", "send"}``) adds a button that sends ``send`` back to the kernel.
        """
        key = key or text
        now = time.monotonic()
        with self._lock:
            self._recent = {k: t for k, t in self._recent.items() if now - t < 3.0}
            if key in self._recent:
                return  # one failure arrives as a failed ack, an `error` and a commandResult
            self._recent[key] = now
        self._post(
            {
                "type": "notice",
                "level": level,
                "text": text,
                **({"action": action} if action else {}),
            }
        )

    def _refresh_state(self) -> None:
        c = self._client
        info = c.join_info if hasattr(c, "join_info") else {}
        with self._lock, self.hold_sync():
            self.session_id = c.current_session_id or ""
            self.connected = bool(c.is_connected)
            self.reconnect_attempt = int(getattr(c, "reconnect_attempt", 0) or 0)
            if getattr(c, "commands", None):
                self.commands = [*c.commands, EXPORT_COMMAND]  # /export runs in the kernel
            if info.get("strategies") is not None:  # stored, then hosted (Python functions)
                self.strategies = listing.strategy_items(info["strategies"], info.get("hosted"))
            self.templates = jsonable(list(info.get("templates") or listing.local_templates()))

    def _resync(self, send: bool = True) -> None:
        """Take the client's messages as the truth and (re)send the whole history to all views."""
        with self._lock:
            self._resync_pending = False
            self._session = self._client.current_session_id
            self._messages = list(self._client.messages) if self._session else []
            self._ids = {str(m.get("id")): i for i, m in enumerate(self._messages)}
            self._refresh_state()
            if send:
                for chunk in history_chunks(self._messages, None):
                    self._post(chunk)

    def _schedule_resync(self) -> None:
        if self._resync_pending:
            return
        self._resync_pending = True

        def later() -> None:
            time.sleep(0.05)  # let a join's backlog land, then send it as one history
            self._resync()

        self._pool.submit(later)

    # ------------------------------------------------------------------ client events
    # (these run on the client's loop thread: never block it)

    def _on_message(self, msg: dict[str, Any]) -> None:
        with self._lock:
            if msg.get("sessionId") != self._session or self._resync_pending:
                self._schedule_resync()  # the client switched sessions (or is catching up)
                return
            at = self._ids.get(str(msg.get("id")))
            if at is not None:  # an in-place update (e.g. streamed assistant text)
                if self._messages[at] == msg:
                    return
                self._messages[at] = msg
            else:
                self._ids[str(msg.get("id"))] = len(self._messages)
                self._messages.append(msg)
            self._post({"type": "message", "message": msg})

    def _on_backtestProgress(self, payload: dict[str, Any]) -> None:  # noqa: N802
        if isinstance(payload, dict) and payload.get("sessionId") in (None, self._session):
            self._post({"type": "progress", **jsonable(payload)})

    def _on_commandResult(self, payload: dict[str, Any]) -> None:  # noqa: N802
        if not isinstance(payload, dict) or payload.get("sessionId") not in (None, self._session):
            return
        summary = payload.get("summary") or {}
        kind = summary.get("kind")
        if not payload.get("ok"):
            err = payload.get("error") or {}
            text = str(err.get("message", ""))
            self._notice(f"{payload.get('command', 'command')} failed: {text}", key=text)
        elif kind in RESULT_KINDS and payload.get("runId") and summary.get("status") != "cancelled":
            self._show_once(payload["runId"], summary, payload.get("command"))
        elif kind == "strategy" and isinstance(summary.get("strategy"), dict):
            new = jsonable(summary["strategy"])  # once, also when created again
            with self._lock:
                self.strategies = [*(s for s in self.strategies if s.get("id") != new["id"]), new]
        elif kind == "strategies" and isinstance(summary.get("strategies"), list):
            with self._lock:
                self.strategies = listing.strategy_items(
                    summary["strategies"], summary.get("hosted")
                )

    def _on_resultReady(self, payload: Any) -> None:  # noqa: N802
        # the client has a run's result the moment it was stored: its card goes out now, not
        # after the commandResult (which then finds it shown)
        if isinstance(payload, dict) and payload.get("sessionId") in (None, self._session):
            self._show_once(str(payload.get("runId")), None, None)

    def _on_hostedStrategies(self, payload: Any) -> None:  # noqa: N802
        if isinstance(payload, dict) and isinstance(payload.get("hosted"), list):
            with self._lock:  # a member's kernel registered, withdrew, left or came back
                stored = [s for s in self.strategies if s.get("kind") != "python"]
                self.strategies = listing.strategy_items(stored, payload["hosted"])

    def _on_error(self, payload: Any) -> None:
        info = payload if isinstance(payload, dict) else {}
        code, text = info.get("code"), str(info.get("message") or payload)
        if code == ErrorCode.ALREADY_EXISTS.value:
            return  # its request says it: a panel upload offers "Replace", a cell raises
        if code == ErrorCode.RATE_LIMITED.value:  # the client sends it again itself, in order
            text = text.split("; retry in")[0] + "; sent again automatically, in order"
            return self._notice(text, level="info", key="rate_limited")  # once per 3 s
        self._notice(text)

    def _on_connect(self, *args: Any) -> None:
        self._background(self._refresh_state)

    def _on_disconnect(self, *args: Any) -> None:
        with self._lock:
            self.connected = False

    def _on_reconnect_attempt(self, attempt: Any = 0, *args: Any) -> None:
        with self._lock, self.hold_sync():
            self.connected = False
            self.reconnect_attempt = int(attempt or 0)

    # ------------------------------------------------------------------ front-end messages

    def _on_frontend(self, _widget: Any, content: Any, buffers: Any = None) -> None:
        if not isinstance(content, dict) or content.get("type") not in _FRONTEND_TYPES:
            kind = content.get("type") if isinstance(content, dict) else type(content).__name__
            self._notice(
                f"ignored a front-end message of type {kind!r}; expected one of "
                f"{', '.join(sorted(_FRONTEND_TYPES))} (is the widget bundle from another version?)"
            )
            return
        kind = content["type"]
        try:
            if kind == "ready":
                self._refresh_name()  # displayed by now: `w = ChatOpsWidget(); w` has a name
                # the panel's state again (not _esm, _css): a page that loads the widget from a
                # running kernel (Voila, a reloaded Lab tab) drops the updates sent between its
                # snapshot of the state and its model's creation (the constants, "connected")
                self.send_state([k for k in self.keys if not k.startswith("_")])
                with self._lock:
                    for chunk in history_chunks(self._messages, content.get("clientId")):
                        self._post(chunk)
            elif kind == "send":
                text = content.get("text")
                if not isinstance(text, str):
                    self._notice(f"send: 'text' must be a string, got {type(text).__name__}")
                    return
                self._send_text(text)
            elif kind == "cancel":
                text = f"/cancel {content.get('runId')}"
                self._background(lambda: self._client.execute_command(text))
            elif kind == "get_result":
                self._background(self._show_result, str(content.get("runId")))
            elif kind == "session":
                self._background(self._session_action, content.get("action"), content.get("id"))
            elif kind == "upload":
                self._background(lambda: uploads.upload(self._client, self.uploads, content,
                                                        self._notice))  # fmt: skip
            elif kind == "upload_part":  # finished: parsed and sent off the kernel thread
                self._parts.receive(content, self._notice, lambda up: self._background(
                    up.store, self._client, self.uploads, self._post, self._notice))  # fmt: skip
            elif kind == "replace_upload":
                symbol = str(content.get("symbol"))
                self._background(lambda: uploads.replace(self._client, self.uploads, symbol,
                                                         self._notice))  # fmt: skip
        except Exception as exc:  # never let a front-end message kill the comm handler
            log.exception("front-end message %r failed", kind)
            self._notice(f"{kind}: {exc}")

    def _background(self, fn: Any, *args: Any) -> None:
        """Run a client call off the kernel thread; report its failure in the panel."""

        def done(fut: Future[Any]) -> None:
            exc = fut.exception()
            if exc is not None:
                if not isinstance(exc, (ProtocolError, TimeoutError, ConnectionError)):
                    log.error("%s failed", getattr(fn, "__name__", fn), exc_info=exc)
                self._notice(getattr(exc, "message", None) or str(exc))

        self._pool.submit(fn, *args).add_done_callback(done)

    def _send_text(self, text: str) -> None:
        if not text.strip():
            return
        if re.match(r"\s*/export(\s|$)", text):
            self._background(self._export_command, text.strip())
        elif text.lstrip().startswith("/"):
            self._background(lambda: self._client.execute_command(text.strip()))
        else:
            self._background(lambda: self._client.send_message(text))
