"""The kernel-side ChatOps client: the seed's ``useChatOps`` hook, in Python.

A dedicated event-loop thread owns a python-socketio ``AsyncClient``, so a notebook cell never
blocks on the network; the methods below are blocking calls with timeouts, handy in scripts.
The client reconnects by itself, re-joins its session, fetches what it missed and buffers what
you send while the server is away.

Example:
    >>> from chatops_widget import ChatOpsClient
    >>> with ChatOpsClient() as chat:  # no URL: embedded server  # doctest: +SKIP
    ...     chat.create_session("research")
    ...     chat.on("message", lambda m: print(m["role"], m["content"]))
    ...     chat.send_message("hello")
    ...     chat.execute_command("/help")
    ...     chat.history[["seq", "role", "content"]]
"""

from __future__ import annotations

import concurrent.futures
import os
import threading
import uuid
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from .._lazy import lazy_module
from ..protocol import RESULT_READY, check_display_name
from ._connection import Connection, call_callback, log
from ._decode import Comparison
from ._handles import ResultsView, Run
from ._hosted import HostedRunner
from ._loop import LoopThread
from ._requests import command_text
from ._research import ResearchMixin, start_fields
from ._sessions import SessionsMixin
from ._sharing import SharingMixin, default_name
from ._tracker import RunTracker
from ._wire import check_ack, split_url

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")

__all__ = ["ChatOpsClient"]


class ChatOpsClient(SessionsMixin, ResearchMixin, SharingMixin):
    """Connect to a ChatOps server (or start an embedded one) and chat from Python.

    ``url``/``token`` default to the ``CHATOPS_URL``/``CHATOPS_TOKEN`` environment variables; a
    ``?token=`` in the URL (as printed by ``chatops-widget serve``) is used too. With no URL at
    all an :class:`~chatops_widget.server.EmbeddedServer` is started on 127.0.0.1 (a free port,
    a fresh token, the per-user data dir) and stopped by :meth:`close`; URL-less clients in one
    process share that server (so their sessions meet), and the last one to close stops it.

    Events for :meth:`on`: ``message`` (ChatMessage dict), ``commandResult``,
    ``backtestProgress``, ``error`` (``{code, message, sessionId?}``), ``connect``,
    ``disconnect`` (reason), ``reconnect_attempt`` (n), and any other server event by name.
    Callbacks run on the client's loop thread; their exceptions are logged, never raised.

    ``name``: who you are, next to your messages and runs (default: ``$CHATOPS_USER``, the
    Jupyter user or the login). Data, Python strategies, results: ``_sharing.SharingMixin``.
    """

    def __init__(
        self,
        url: str | None = None,
        token: str | None = None,
        *,
        session_id: str | None = None,
        timeout: float = 10.0,
        name: str | None = None,
    ) -> None:
        self.timeout = float(timeout)
        self.name = default_name() if name is None else check_display_name(name)
        self._client_id = uuid.uuid4().hex  # its hosted strategies are its own (never shown)
        self._embedded = None
        self._callbacks: dict[str, list[Callable[..., Any]]] = {}
        self._cb_lock = threading.Lock()
        self._closed = False
        url = url or os.environ.get("CHATOPS_URL")
        if url:
            base, url_token = split_url(url)
            token = token or url_token or os.environ.get("CHATOPS_TOKEN")
            if not token:
                raise ValueError(
                    f"no token for {base}: pass token=..., put ?token=... in the URL or set "
                    "CHATOPS_TOKEN (the server prints its token when it starts)"
                )
        else:
            from ..server.embedded import acquire_shared  # only when no URL is given

            self._embedded = acquire_shared()
            base, token = self._embedded.url, self._embedded.token
        self._url, self._token = base, token
        self._loop = LoopThread()
        try:
            self._conn: Connection = self._run(self._make_connection(), self.timeout + 10)
            # follows every run of the session (see _tracker.py), fed by our events
            self._runs = RunTracker(self._conn, self._loop, self.timeout, self._result_ready)
            self.on("backtestProgress", self._runs.on_progress)
            self.on("commandResult", self._runs.on_result)
            self.on("connect", self._runs.on_connect)
            # the strategies this kernel hosts, run when the server asks (in worker threads)
            self._hosted = HostedRunner(self._conn, self._loop, self.timeout)
            self._hosted.attach(self.on)
            if session_id is not None:
                self.join_session(session_id)
        except BaseException:
            self.close()
            raise

    async def _make_connection(self) -> Connection:
        conn = Connection(self._url, self._token, self.timeout, self._fire,
                          name=self.name, client_id=self._client_id)  # fmt: skip
        await conn.connect()
        return conn

    # ------------------------------------------------------------------ properties

    @property
    def url(self) -> str:
        """The server's base URL, e.g. ``http://127.0.0.1:8500``."""
        return self._url

    @property
    def token(self) -> str:
        """The auth token sent as socket.io ``auth={"token": ...}``."""
        return self._token

    @property
    def is_connected(self) -> bool:
        """Whether the socket.io connection is up (sends made while down are queued)."""
        return self._conn.connected

    @property
    def reconnect_attempt(self) -> int:
        """0 while connected; n during the n-th reconnection attempt."""
        return self._conn.reconnect_attempt

    # ------------------------------------------------------------------ chat and commands

    def send_message(
        self, text: str, *, timeout: float | None = None, block: bool = True
    ) -> dict[str, Any] | concurrent.futures.Future[dict[str, Any]]:
        """Send a chat message to the current session (creating one if needed).

        Returns the stored ChatMessage dict (with its ``seq``). While disconnected the message
        is queued and sent after the reconnect; ``block=False`` returns a future at once.
        """
        if not isinstance(text, str) or not text.strip():
            raise ValueError("send_message needs non-empty text")
        payload = {
            "sessionId": self._ensure_session(),
            "content": text,
            "clientMessageId": uuid.uuid4().hex,
        }
        sent: dict[str, Any] | concurrent.futures.Future[dict[str, Any]]
        sent = self._queued("sendMessage", payload, timeout, block, pick="message")
        return sent

    def execute_command(
        self, text: str, *, timeout: float | None = None, block: bool = True
    ) -> dict[str, Any] | concurrent.futures.Future[dict[str, Any]]:
        """Run a slash command, e.g. ``"/help"``; returns the ack (the command's ``message``).

        The outcome arrives later as a ``commandResult`` event. A bad or unknown command raises
        :class:`~chatops_widget.protocol.ProtocolError` with the server's explanation.
        """
        if not isinstance(text, str) or not text.strip():
            raise ValueError("execute_command needs the command text, e.g. '/help'")
        payload = {
            "sessionId": self._ensure_session(),
            "command": text,
            "clientMessageId": uuid.uuid4().hex,
        }
        sent: dict[str, Any] | concurrent.futures.Future[dict[str, Any]]
        sent = self._queued("executeCommand", payload, timeout, block, pick=None)
        return sent

    def call(self, event: str, payload: Any, timeout: float | None = None) -> dict[str, Any]:
        """Emit ``event`` and wait for its ack; raise ``ProtocolError`` if ``ok`` is false.

        Waits (up to ``timeout``) for the connection if it is down. For extensions, e.g.
        ``client.call("getResult", {"sessionId": s, "runId": r})``.
        """
        timeout = self.timeout if timeout is None else timeout
        return check_ack(self._run(self._conn.request(event, payload, timeout), timeout + 5))

    def _queued(
        self, event: str, payload: Any, timeout: float | None, block: bool, pick: str | None
    ) -> Any:
        timeout = self.timeout if timeout is None else timeout

        async def go(wait: float | None) -> Any:
            ack = check_ack(await self._conn.request(event, payload, wait, keep=True))
            if pick == "message" and isinstance(ack.get("message"), dict):
                self._conn.accept(ack["message"])
            return ack[pick] if pick else ack

        if not block:
            return self._loop.submit(go(None))
        return self._run(go(timeout), timeout + 5)

    # ------------------------------------------------------------------ backtests (_tracker.py)

    def _start(self, kind: str, targets: list[str], options: dict[str, Any]) -> Run:
        self._ensure_session()
        return Run(self._runs, self._runs.start(start_fields(kind, targets, options)))

    def trigger_backtest(self, strategy: str, **overrides: Any) -> Run:
        """Start a backtest (``startRun``) and return a :class:`~chatops_widget.client.Run` at
        once; the chat shows it as the ``/run_backtest`` command it equals.

        ``strategy``: a stored strategy's id or name, or a template; ``overrides``: ``symbol``,
        ``start``, ``end``, ``cash``, ``commission``, ``spread``, order settings (``stop_loss``,
        ``take_profit``, ``trailing_stop``, ``size``, ``risk``, ``units``, ``whole_units``;
        ``0.05`` or ``"5%"``, over the stored ones) or params. Bad input raises at once.

        >>> client.trigger_backtest("dip", stop_loss=0.05).result().trades  # doctest: +SKIP
        """
        return self._start("backtest", [strategy], overrides)

    def compare_strategies(
        self, *strategy_ids: str, timeout: float | None = 300.0, **options: Any
    ) -> Comparison:
        """Backtest stored strategies side by side; ``.stats`` (metrics x strategies), ``.equity``.

        >>> client.compare_strategies("strategy_1", "strategy_2").stats   # doctest: +SKIP
        """
        run = self._start("comparison", list(strategy_ids), options)
        comparison: Comparison = run.result(timeout)
        return comparison

    def sweep(
        self,
        template: str,
        symbol: str | None = None,
        *,
        timeout: float | None = 300.0,
        block: bool = True,
        **ranges: Any,
    ) -> pd.DataFrame | Run:
        """Run a grid (``fast=range(5, 50, 5)``, lists or single values); one row per combination.

        ``template``: a template or a stored strategy (id or name; its symbol is the default).
        Blocks up to ``timeout`` s (``block=False``: the :class:`Run` at once). ``split=`` adds
        ``oos_*`` stats from that date on; orders (``stop_loss=0.05``) apply to each row.

        >>> client.sweep("x", "ALPHA", fast=range(5, 51, 5), slow=[50, 100])  # doctest: +SKIP
        """
        run = self._start("sweep", [template], {"symbol": symbol, **ranges})
        return run.result(timeout) if block else run

    @property
    def results(self) -> ResultsView:
        """``run_id -> result`` for every completed run of the session (anyone's), lazily."""
        return ResultsView(self._runs)

    @property
    def runs(self) -> pd.DataFrame:
        """The session's runs: run_id, kind, status, progress, strategy, started_by, command..."""
        return self._runs.frame()

    @property
    def strategies(self) -> pd.DataFrame:
        """The stored strategies (index ``id``): name, template, params, symbol, dates."""
        return self._runs.strategies_frame()

    def create_strategy(
        self, template: str | None = None, symbol: str | None = None, **options: Any
    ) -> str:
        """Store a strategy (``/create_strategy``); returns its id, e.g. ``"strategy_6"``. A
        ``template`` with params, or rules: ``entry=``, ``exit=`` (``short_entry``, ``where``..)
        with ``$param`` defaults; ``name``, ``start``, ``end`` and orders (``stop_loss=0.05``).

        >>> client.create_strategy(name="dip", symbol="ALPHA", entry="rsi(14) < 30",
        ...                        exit="rsi(14) > 70", stop_loss=0.05)  # doctest: +SKIP
        """
        text = command_text("create_strategy", [template] if template else [],
                            {"symbol": symbol, **options})  # fmt: skip
        return str(self._runs.command(text)["strategyId"])

    # ------------------------------------------------------------------ events

    def on(self, event: str, callback: Callable[..., Any]) -> Callable[..., Any]:
        """Call ``callback(payload)`` on each ``event``; returns ``callback`` (decorator-ready).

        Besides the server's events there is one of the client's own, ``"resultReady"``
        (``{"runId", "sessionId"}``): while anyone listens to it, every run of the session is
        fetched the moment its result is stored (usually before its ``commandResult``), and the
        callback is told; ``client.results[run_id]`` then decodes it without a round trip.
        The chat panel draws its cards this way.
        """
        with self._cb_lock:
            self._callbacks.setdefault(event, []).append(callback)
            if event == RESULT_READY:
                self._runs.follow = True
        return callback

    def off(self, event: str, callback: Callable[..., Any] | None = None) -> None:
        """Remove one callback, or all callbacks of ``event`` when ``callback`` is None."""
        with self._cb_lock:
            if callback is None:
                self._callbacks.pop(event, None)
            elif callback in self._callbacks.get(event, []):
                self._callbacks[event].remove(callback)
            if event == RESULT_READY:
                self._runs.follow = bool(self._callbacks.get(event))

    def _result_ready(self, run_id: str, session_id: str | None) -> None:
        self._fire(RESULT_READY, {"runId": run_id, "sessionId": session_id})

    def _fire(self, event: str, *args: Any) -> None:
        with self._cb_lock:
            callbacks = list(self._callbacks.get(event, []))
        for fn in callbacks:
            call_callback(fn, *args)

    # ------------------------------------------------------------------ lifecycle

    def _run(self, coro: Coroutine[Any, Any, Any], timeout: float | None = None) -> Any:
        if self._closed:
            coro.close()
            raise RuntimeError("this ChatOpsClient is closed")
        return self._loop.run(coro, self.timeout + 5 if timeout is None else timeout)

    def _submit(self, coro: Coroutine[Any, Any, Any]) -> concurrent.futures.Future[Any]:
        """Schedule ``coro`` on the client's loop (for extensions)."""
        return self._loop.submit(coro)

    def close(self) -> None:
        """Disconnect, stop the loop thread and the embedded server (if any). Idempotent."""
        if self._closed:
            return
        if getattr(self, "_hosted", None) is not None:
            self._hosted.close()
        conn = getattr(self, "_conn", None)
        if conn is not None and self._loop.alive:
            try:
                self._loop.run(conn.close(), 10)
            except Exception as exc:  # pragma: no cover - best effort
                log.debug("close: %s", exc)
        self._closed = True
        if getattr(self, "_loop", None) is not None:
            self._loop.stop()
        if self._embedded is not None:
            self._embedded.release()
            self._embedded = None

    def __enter__(self) -> ChatOpsClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "connected" if not self._closed and self.is_connected else "disconnected"
        return f"<ChatOpsClient {self._url} {state} session={self.current_session_id}>"
