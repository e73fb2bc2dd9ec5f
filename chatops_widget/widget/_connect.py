"""The panel's client, made in the background: ``ChatOpsWidget()`` returns (and the panel shows
itself) while the embedded server starts and the client connects and joins a session; calls
that need the client wait for it (:class:`ClientHolder`). For the same reason the client and
the payload modules (numpy, pandas) are imported when first used (:class:`OnFirstUse`).

Example:
    >>> pending = PendingClient(lambda: "a client")
    >>> pending.get(timeout=5)
    'a client'
    >>> PendingClient(lambda: 1 / 0).get(timeout=5)
    Traceback (most recent call last):
    ...
    ZeroDivisionError: division by zero
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from types import ModuleType
from typing import TYPE_CHECKING, Any

from .._lazy import OnFirstUse

if TYPE_CHECKING:
    from ..client import ChatOpsClient

__all__ = [
    "CONNECT_TIMEOUT",
    "ClientHolder",
    "OnFirstUse",
    "PendingClient",
    "listing",
    "sync",
    "uploads",
]

log = logging.getLogger("chatops_widget.widget")
startup = logging.getLogger("chatops_widget.startup")  # timestamps for benchmarks/coldstart

#: s: the longest a call waits for the panel's client (the embedded server's start included)
CONNECT_TIMEOUT = 60.0


def _load_sync() -> ModuleType:
    from . import _sync

    return _sync


def _load_uploads() -> ModuleType:
    from . import _uploads

    return _uploads


def _load_listing() -> ModuleType:
    from . import _strategies

    return _strategies


#: the widget's payloads (:mod:`._sync`), uploads (:mod:`._uploads`) and strategy listing
#: (:mod:`._strategies`), imported on first use
sync, uploads = OnFirstUse(_load_sync), OnFirstUse(_load_uploads)
listing = OnFirstUse(_load_listing)


class PendingClient:
    """Runs ``make()`` in a daemon thread; :meth:`get` waits for what it returns (or raises
    what it raised). ``PendingClient.of(value)`` is one that is already made."""

    def __init__(self, make: Callable[[], Any] | None) -> None:
        self._make = make
        self._done = threading.Event()
        self.value: Any = None
        self.error: BaseException | None = None
        if make is not None:
            threading.Thread(target=self._run, name="chatops-widget-connect", daemon=True).start()

    @classmethod
    def of(cls, value: Any) -> PendingClient:
        """A pending client that is already there.

        >>> PendingClient.of("c").get(timeout=0)
        'c'
        """
        ready = cls(None)
        ready.value = value
        ready._done.set()
        return ready

    def _run(self) -> None:
        try:
            self.value = self._make()  # type: ignore[misc]
        except BaseException as exc:
            self.error = exc
        finally:
            self._done.set()

    @property
    def done(self) -> bool:
        """Whether ``make()`` has returned or raised."""
        return self._done.is_set()

    def get(self, timeout: float = CONNECT_TIMEOUT) -> Any:
        """The value, once made (``TimeoutError`` after ``timeout`` s; ``make``'s error)."""
        if not self._done.wait(timeout):
            raise TimeoutError(
                f"the panel is still connecting after {timeout:.0f} s (the server may be slow "
                "to start); try again, or pass url=... for a running server"
            )
        if self.error is not None:
            raise self.error
        return self.value


class ClientHolder:
    """The widget's side of it: ``_client`` (waits while connecting), ``_start_client``.

    The widget provides ``_handlers`` (client event -> callback), ``_resync(send)``,
    ``_notice(text)`` and the ``constants`` traitlet.
    """

    _handlers: dict[str, Callable[..., Any]]
    _pending: PendingClient
    constants: dict[str, Any]

    def _start_client(
        self, client: Any, url: str | None, token: str | None, name: str | None = None
    ) -> None:
        self._owns_client, self._closing = client is None, False
        self._client_lock = threading.Lock()
        if client is not None:
            from ..client import ChatOpsClient  # (loaded already: one is given)

            if not isinstance(client, ChatOpsClient):
                raise TypeError(
                    f"client must be a ChatOpsClient (or None: the panel makes its own), got "
                    f"{type(client).__name__}; for a server's address pass url=..."
                )
            self._client_obj = client
            self._attach(client, send=False)
            self._pending = PendingClient.of(client)
        else:
            self._pending = PendingClient(lambda: self._connect(url, token, name))

    def _connect(
        self, url: str | None, token: str | None, name: str | None = None
    ) -> ChatOpsClient:
        from ..client import ChatOpsClient

        try:
            client = ChatOpsClient(url=url, token=token, name=name)
        except BaseException as exc:
            log.error("the panel cannot connect: %s", exc)
            self._notice(f"cannot connect: {getattr(exc, 'message', None) or exc}")
            raise
        with self._client_lock:
            if self._closing:  # closed while connecting
                client.close()
                raise RuntimeError("this ChatOpsWidget is closed")
            self._client_obj = client
        self._attach(client, send=True)
        return client

    def _detach(self) -> ChatOpsClient | None:
        """Mark the widget closed; the client to let go of (None while it is connecting: the
        connecting thread closes it)."""
        with self._client_lock:
            self._closing = True
            return self.__dict__.get("_client_obj")

    def _attach(self, client: ChatOpsClient, send: bool) -> None:
        for name, fn in self._handlers.items():
            client.on(name, fn)
        if client.current_session_id is None and client.is_connected:
            client.create_session()
        self._resync(send=send)  # a view may be up already (it got an empty history)
        startup.debug("widget: connected and joined")
        # Then the constants' engine part (stat metadata, rule language: numpy, pandas, the
        # engine), after the chip says "connected": this is also the warm-up of what the first
        # result needs (pandas, pyarrow and the engine decode it; :mod:`._sync` makes the
        # panel's view of it). A result is shown only once this is done (``_pending``).
        self.constants = sync.frontend_constants()
        startup.debug("widget: engine constants set (payload modules loaded)")

    @property
    def _client(self) -> ChatOpsClient:
        """The client (waiting up to a minute while the panel connects in the background)."""
        client = self.__dict__.get("_client_obj")
        return client if client is not None else self._pending.get()

    if TYPE_CHECKING:  # the widget's

        def _resync(self, send: bool = True) -> None: ...

        def _notice(self, text: str) -> None: ...
